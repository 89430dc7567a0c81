using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Gardien.Workflows.Http;

/// <summary>A cookie an answer sets.</summary>
public sealed record AnswerCookie(string Name, string Value, string Path, bool HttpOnly = true, SameSiteMode SameSite = SameSiteMode.Lax);

/// <summary>
/// One HTTP answer of a Gardien route, executable by both hosts: the Functions app returns it as an
/// <see cref="IActionResult"/>, the local service as an <see cref="IResult"/>. HTML answers carry headers that keep the
/// signed link in the address bar out of other sites' reach (no referrer, no framing, no script).
/// </summary>
public sealed class HttpAnswer : IResult, IActionResult
{
    /// <summary>The JSON shape of every API body: camelCase names, enums as strings, nulls left out.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    private const string HtmlSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private HttpAnswer(int statusCode, string? contentType, byte[] body)
    {
        StatusCode = statusCode;
        ContentType = contentType;
        Body = body;
    }

    public int StatusCode { get; }

    public string? ContentType { get; }

    public byte[] Body { get; }

    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<AnswerCookie> Cookies { get; } = [];

    /// <summary>For an approval decision: what the decision service answered (the page shows its message).</summary>
    public Hosting.ApprovalSubmissionResult? Decision { get; internal set; }

    /// <summary>The body as text (UTF-8).</summary>
    public string Text => Encoding.UTF8.GetString(Body);

    public static HttpAnswer Json<T>(int statusCode, T value) =>
        new(statusCode, "application/json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(value, JsonOptions));

    public static HttpAnswer Html(int statusCode, string html)
    {
        var answer = new HttpAnswer(statusCode, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(html));
        answer.Headers["Content-Security-Policy"] = HtmlSecurityPolicy;
        answer.Headers["Referrer-Policy"] = "no-referrer";
        answer.Headers["X-Frame-Options"] = "DENY";
        answer.Headers["Cache-Control"] = "no-store";
        return answer;
    }

    public static HttpAnswer Status(int statusCode) => new(statusCode, null, []);

    /// <summary>
    /// An RFC 9457 problem (<c>application/problem+json</c>): what is wrong in <paramref name="detail"/>, and for invalid
    /// input every error with the JSON path where it is (<c>errors: [{path, message}]</c>).
    /// </summary>
    public static HttpAnswer Problem(int statusCode, string title, string detail, IReadOnlyList<ProblemError>? errors = null) =>
        new(statusCode, "application/problem+json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(
            new ProblemDetailsBody("about:blank", title, statusCode, detail, errors is { Count: > 0 } ? errors : null), JsonOptions));

    public HttpAnswer WithHeader(string name, string value)
    {
        Headers[name] = value;
        return this;
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.Headers.XContentTypeOptions = "nosniff";
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        foreach (var cookie in Cookies)
        {
            response.Cookies.Append(cookie.Name, cookie.Value, new CookieOptions
            {
                Path = cookie.Path,
                HttpOnly = cookie.HttpOnly,
                SameSite = cookie.SameSite,
                Secure = httpContext.Request.IsHttps,
                IsEssential = true,
            });
        }

        if (ContentType is not null)
        {
            response.ContentType = ContentType;
        }

        if (Body.Length > 0)
        {
            response.ContentLength = Body.Length;
            await response.Body.WriteAsync(Body, httpContext.RequestAborted).ConfigureAwait(false);
        }
    }

    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ExecuteAsync(context.HttpContext);
    }

    private sealed record ProblemDetailsBody(string Type, string Title, int Status, string Detail, IReadOnlyList<ProblemError>? Errors);
}

/// <summary>One error of an invalid input: where (a JSON Pointer) and what is wrong.</summary>
public sealed record ProblemError(string Path, string Message);
