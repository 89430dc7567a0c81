using System.Security.Cryptography;
using System.Text;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Http.Pages;
using Microsoft.AspNetCore.Http;

namespace Gardien.Workflows.Http;

/// <summary>
/// The approval page, served by both hosts at <c>{base}/approvals/{token}?decision=…</c>. <c>GET</c> shows what the DMP
/// is, what will be provisioned and granted to whom, why this approver is asked (the policy's reasons) and the plan's
/// findings, with a form to confirm; nothing is decided on a GET (mail scanners and link previews follow links).
/// <c>POST</c> to the same URL decides. The link is read by <see cref="ApprovalLinks"/> through
/// <see cref="ApprovalDecisionService"/>: the decision the link carries is the one recorded, and a <c>decision</c> form
/// field that contradicts it is refused; a link without a decision (the "Open" button) offers the token's decisions.
/// <para>
/// Who decides: in Azure the Entra sign-in (<see cref="EntraSignIn"/>), never a form or query field; without one the
/// endpoint answers 401 unless <see cref="GardienHttpOptions.RequireSignIn"/> is off (the local service, where the link's
/// holder decides as its approver). Form posts carry a double-submit token (a cookie set by the page and the same value
/// in a hidden field) and, when the browser sends one, an <c>Origin</c> of this host: another site cannot post a
/// decision with the visitor's session. A client holding the host's key (the local CLI) is exempt and may name the
/// person deciding, who is then checked against the link like anyone else.
/// </para>
/// </summary>
public sealed class ApprovalHttpEndpoint(
    ApprovalDecisionService decisions, ApprovalRequestReader? requests = null, GardienHttpOptions? options = null,
        GardienWorkflowOptions? workflowOptions = null)
{
    /// <summary>The double-submit cookie and the form field that must repeat it.</summary>
    public const string CsrfCookie = "gardien-csrf";

    public const string CsrfField = "csrf";

    private readonly GardienHttpOptions _options = options ?? new GardienHttpOptions();

    /// <summary>The page for an <see cref="HttpRequest"/> (either host).</summary>
    public Task<HttpAnswer> GetAsync(HttpRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return GetAsync(RequestUrl(request), Header(request), request.Cookies[CsrfCookie], request.Query["lang"], cancellationToken);
    }

    /// <summary>The decision for an <see cref="HttpRequest"/>: a form post, or JSON from a client holding the host's key.</summary>
    /// <param name="trustedClient">The request carries the host's key (checked by the host): no CSRF check, and its
    /// <c>as</c> field names the person deciding.</param>
    public async Task<HttpAnswer> PostAsync(HttpRequest request, bool trustedClient = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var fields = await RequestFields.ReadAsync(request, _options.MaxFormBytes, cancellationToken).ConfigureAwait(false);
        if (fields is null)
        {
            return HttpAnswer.Problem(415, "Unsupported media type",
                "Post the approval form (application/x-www-form-urlencoded) or, with the key, JSON.");
        }

        var answer = await PostAsync(RequestUrl(request), fields, Header(request), request.Cookies[CsrfCookie], trustedClient,
            request.Query["lang"], cancellationToken)
            .ConfigureAwait(false);
        return request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase) ? AsJson(answer) : answer;
    }

    /// <param name="requestUrl">The URL requested (the approval link).</param>
    /// <param name="header">Reads a request header by name (case-insensitive).</param>
    /// <param name="csrfCookie">The double-submit cookie the browser sent, if any (reused, else a new one is set).</param>
    public async Task<HttpAnswer> GetAsync(
        Uri requestUrl, Func<string, string?> header, string? csrfCookie = null, string? language = null,
            CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requestUrl);
        ArgumentNullException.ThrowIfNull(header);
        var texts = PageTexts.For(workflowOptions?.Policy, language);
        var actor = EntraSignIn.ActorOf(header);
        if (actor is null && _options.RequireSignIn)
        {
            return SignInRequired(texts);
        }

        var preview = await decisions.PreviewAsync(requestUrl.ToString(), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!preview.Usable)
        {
            return Message(StatusFor(preview.Failure), texts, texts.LinkUnusable, preview.Message);
        }

        var view = requests is null || preview.InstanceId is null ? null
            : await requests.ReadAsync(preview.InstanceId, cancellationToken).ConfigureAwait(false);
        var csrf = IsWellFormed(csrfCookie) ? csrfCookie! : NewCsrfToken();
        var title = preview.Decision switch
        {
            IssueApprovalLinkActivity.RejectDecision => texts.RejectTitle,
            null => texts.DecideTitle,
            _ => texts.ApproveTitle,
        };
        var answer = HttpAnswer.Html(200, Html.Page(texts, title, ApprovalPageBody.Render(texts, preview, view, actor, csrf),
            _options.Navigation));
        answer.Cookies.Add(new AnswerCookie(CsrfCookie, csrf, CookiePath(requestUrl)));
        return answer;
    }

    /// <param name="form">The posted fields: <c>comment</c>, <c>csrf</c>, and optionally <c>decision</c> (must agree with
    /// the link). Any identity field is ignored, except <c>as</c> from a <paramref name="trustedClient"/>.</param>
    public async Task<HttpAnswer> PostAsync(
        Uri requestUrl,
        IReadOnlyDictionary<string, string> form,
        Func<string, string?> header,
        string? csrfCookie = null,
        bool trustedClient = false,
        string? language = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requestUrl);
        ArgumentNullException.ThrowIfNull(form);
        ArgumentNullException.ThrowIfNull(header);
        var texts = PageTexts.For(workflowOptions?.Policy, language);
        var actor = EntraSignIn.ActorOf(header);
        if (actor is null && _options.RequireSignIn)
        {
            return SignInRequired(texts);
        }

        if (!trustedClient && !CsrfHolds(requestUrl, form, header, csrfCookie))
        {
            return Message(403, texts, texts.FormExpired, texts.FormExpiredText);
        }

        if (trustedClient && actor is null && Field(form, "as") is { } person)
        {
            actor = person.StartsWith("user:", StringComparison.Ordinal) ? person : "user:" + person;
        }

        var result = await decisions.SubmitAsync(new ApprovalDecisionRequest(
            requestUrl.ToString(), Field(form, "decision"), Field(form, "comment"), actor, "the form"),
                cancellationToken).ConfigureAwait(false);
        var answer = result.Accepted
            ? Message(200, texts, texts.DecisionRecorded, result.Message)
            : Message(StatusFor(result.Failure), texts, texts.DecisionNotRecorded, result.Message);
        answer.Decision = result;
        return answer;
    }

    /// <summary>The decision's outcome as JSON, for a client that asked for it (the CLI).</summary>
    private static HttpAnswer AsJson(HttpAnswer page) => page.Decision is not { } result ? page : HttpAnswer.Json(page.StatusCode, new
    {
        accepted = result.Accepted,
        decision = result.Decision,
        message = result.Message,
        failure = result.Accepted ? null : result.Failure.ToString(),
        approvalInstanceId = result.InstanceId,
    });

    /// <summary>What a refused link or decision answers: gone for used and expired links, forbidden for another person.</summary>
    public static int StatusFor(ApprovalTokenFailure failure) => failure switch
    {
        ApprovalTokenFailure.None => 503,
        ApprovalTokenFailure.WrongApprover => 403,
        ApprovalTokenFailure.AlreadyUsed or ApprovalTokenFailure.Expired => 410,
        ApprovalTokenFailure.WrongInstance => 404,
        _ => 400,
    };

    private static bool CsrfHolds(Uri requestUrl, IReadOnlyDictionary<string, string> form, Func<string, string?> header, string? cookie)
    {
        // A browser names the page a form came from; another site's page is refused even with the right fields.
        if (header("Origin") is { Length: > 0 } origin && origin != "null"
            && (!Uri.TryCreate(origin, UriKind.Absolute, out var from) || !string.Equals(from.Authority, requestUrl.Authority,
                StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        return IsWellFormed(cookie) && Field(form, CsrfField) is { } field
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(cookie!), Encoding.ASCII.GetBytes(field));
    }

    private static string NewCsrfToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+',
        '-').Replace('/', '_');

    private static bool IsWellFormed(string? token) =>
        token is { Length: 43 } && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static string CookiePath(Uri requestUrl)
    {
        var path = requestUrl.AbsolutePath;
        var index = path.LastIndexOf("/approvals/", StringComparison.OrdinalIgnoreCase);
        return index < 0 ? "/" : path[..(index + "/approvals".Length)];
    }

    private static string? Field(IReadOnlyDictionary<string, string> form, string name) =>
        form.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    private HttpAnswer SignInRequired(PageTexts texts) => Message(401, texts, texts.SignInRequired, texts.SignInRequiredText);

    private HttpAnswer Message(int status, PageTexts texts, string title, string message) =>
        HttpAnswer.Html(status, Html.Page(texts, title, "<p>" + Html.Text(message) + "</p>", _options.Navigation));

    /// <summary>The URL the client asked for, as it sees it.</summary>
    public static Uri RequestUrl(HttpRequest request) =>
        new($"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}{request.Path.Value}{request.QueryString.Value}");

    /// <summary>Reads a request header by name, null when absent.</summary>
    public static Func<string, string?> Header(HttpRequest request) =>
        name => request.Headers.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
}
