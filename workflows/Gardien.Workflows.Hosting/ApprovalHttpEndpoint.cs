using System.Globalization;
using System.Text;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Text;

namespace Gardien.Workflows.Hosting;

/// <summary>An HTTP answer for the host to send as is.</summary>
public sealed record ApprovalHttpResponse(int StatusCode, string ContentType, string Body);

/// <summary>
/// The approval links over HTTP, for an HTTP-triggered function: <c>GET {base}/approvals/{token}?decision=…</c> shows a
/// page saying what the link decides, for whom and until when, with a confirm button (nothing is decided on a GET: mail
/// scanners and link previews follow links); <c>POST</c> to the same URL decides. The link is read by
/// <see cref="ApprovalLinks"/> through <see cref="ApprovalDecisionService"/>: the decision the link carries is the one
/// recorded, and a <c>decision</c> form field that contradicts it is refused. The person is the Entra sign-in
/// (<see cref="EntraSignIn"/>), never a form or query field; without a sign-in the endpoint answers 401 unless
/// <paramref name="requireSignIn"/> is off (development hosts without authentication).
/// </summary>
public sealed class ApprovalHttpEndpoint(ApprovalDecisionService decisions, bool requireSignIn = true)
{
    private const string Html = "text/html; charset=utf-8";

    /// <param name="requestUrl">The URL requested (the approval link).</param>
    /// <param name="header">Reads a request header by name (case-insensitive).</param>
    public async Task<ApprovalHttpResponse> GetAsync(Uri requestUrl, Func<string, string?> header, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requestUrl);
        ArgumentNullException.ThrowIfNull(header);
        var actor = EntraSignIn.ActorOf(header);
        if (actor is null && requireSignIn)
        {
            return SignInRequired();
        }

        var preview = await decisions.PreviewAsync(requestUrl.ToString(), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!preview.Usable)
        {
            return Page(StatusFor(preview.Failure), "This approval link cannot be used", preview.Message);
        }

        var label = preview.Decision == IssueApprovalLinkActivity.RejectDecision ? "Reject" : "Approve";
        var body = new StringBuilder()
            .Append("<p>You are about to <strong>").Append(UntrustedText.HtmlInline(preview.Decision)).Append("</strong> the request sent to ")
            .Append(UntrustedText.HtmlInline(preview.Approver)).Append(" as ").Append(UntrustedText.HtmlInline(preview.Role)).Append(".</p>")
            .Append("<p>Signed in as ").Append(UntrustedText.HtmlInline(ApprovalAuthority.IdentityOf(actor) ?? "nobody (no sign-in)")).Append(". The link expires on ")
            .Append(UntrustedText.HtmlInline(preview.ExpiresAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))).Append(".</p>")
            .Append("<form method=\"post\"><p><label>Comment (optional)<br><textarea name=\"comment\" rows=\"4\" cols=\"60\"></textarea></label></p>")
            .Append("<p><button type=\"submit\">").Append(label).Append("</button></p></form>");
        return new ApprovalHttpResponse(200, Html, Document(label + " the request", body.ToString()));
    }

    /// <param name="form">The posted form fields: <c>comment</c>, and optionally <c>decision</c> (must agree with the link). Any identity field is ignored.</param>
    public async Task<ApprovalHttpResponse> PostAsync(Uri requestUrl, IReadOnlyDictionary<string, string> form, Func<string, string?> header, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requestUrl);
        ArgumentNullException.ThrowIfNull(form);
        ArgumentNullException.ThrowIfNull(header);
        var actor = EntraSignIn.ActorOf(header);
        if (actor is null && requireSignIn)
        {
            return SignInRequired();
        }

        var result = await decisions.SubmitAsync(new ApprovalDecisionRequest(
            requestUrl.ToString(),
            form.TryGetValue("decision", out var decision) && !string.IsNullOrWhiteSpace(decision) ? decision : null,
            form.TryGetValue("comment", out var comment) && !string.IsNullOrWhiteSpace(comment) ? comment : null,
            actor,
            "the form"), cancellationToken).ConfigureAwait(false);
        return result.Accepted
            ? Page(200, "Decision recorded", result.Message)
            : Page(StatusFor(result.Failure), "Your decision was not recorded", result.Message);
    }

    private static int StatusFor(ApprovalTokenFailure failure) => failure switch
    {
        ApprovalTokenFailure.None => 503,
        ApprovalTokenFailure.WrongApprover => 403,
        ApprovalTokenFailure.AlreadyUsed or ApprovalTokenFailure.Expired => 410,
        ApprovalTokenFailure.WrongInstance => 404,
        _ => 400,
    };

    private static ApprovalHttpResponse SignInRequired() =>
        Page(401, "Sign-in required", "Sign in with your institution account to decide: a decision is recorded in the name of the person signed in.");

    private static ApprovalHttpResponse Page(int status, string title, string message) =>
        new(status, Html, Document(title, "<p>" + UntrustedText.HtmlInline(message) + "</p>"));

    private static string Document(string title, string body) =>
        $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\"><title>Gardien: {UntrustedText.HtmlInline(title)}</title></head>"
        + $"<body><h1>{UntrustedText.HtmlInline(title)}</h1>{body}</body></html>";
}
