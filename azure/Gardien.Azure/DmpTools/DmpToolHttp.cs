using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.DmpTools;

/// <summary>
/// HTTP for one DMP tool: bearer token from <paramref name="tokens"/> (fetched again once on a 401), retries of 429 and
/// 5xx honouring <c>Retry-After</c> (capped), a timeout per try, and failures turned into port exceptions that say
/// which tool, which call and what to fix.
/// </summary>
internal sealed class DmpToolHttp(
    string tool,
    HttpClient http,
    DmpToolSettings settings,
    Func<bool, CancellationToken, Task<string?>> tokens,
    TimeProvider time)
{
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    public string Tool => tool;

    /// <summary>
    /// Sends the request built by <paramref name="build"/>; returns the response for any final status (the caller decides), after retries.
    /// </summary>
    public async Task<DmpToolResponse> SendAsync(Func<HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        var refreshed = false;
        for (var attempt = 1; ; attempt++)
        {
            using var request = build();
            var what = $"{request.Method} {request.RequestUri?.AbsolutePath}";
            if (await tokens(false, cancellationToken).ConfigureAwait(false) is { } token)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt < settings.MaxAttempts)
                {
                    continue;
                }

                throw new PortException(
                    $"DMP tool '{tool}' did not answer {what} within {settings.TimeoutSeconds} s ({attempt} tries); "
                    + "it will be tried again.",
                    isTransient: true,
                    ex);
            }
            catch (HttpRequestException ex)
            {
                if (attempt < settings.MaxAttempts)
                {
                    await Task.Delay(Backoff(attempt), time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw new PortException($"DMP tool '{tool}' could not be reached for {what}: {ex.Message}", isTransient: true, ex);
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (status == 401 && !refreshed)
                {
                    refreshed = true;
                    await tokens(true, cancellationToken).ConfigureAwait(false);
                    attempt--;
                    continue;
                }

                if ((status == 429 || status >= 500) && attempt < settings.MaxAttempts)
                {
                    await Task.Delay(RetryAfter(response) ?? Backoff(attempt), time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                response.Content.Headers.TryGetValues("Last-Modified", out var lastModified);
                return new DmpToolResponse(tool, what, status, body, lastModified?.FirstOrDefault());
            }
        }
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt - 1));

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        var delay = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - time.GetUtcNow() : null);
        return delay is { } d ? (d < TimeSpan.Zero ? TimeSpan.Zero : d > MaxRetryAfter ? MaxRetryAfter : d) : null;
    }
}

/// <summary>A DMP tool's final answer.</summary>
internal sealed record DmpToolResponse(string Tool, string What, int Status, string Body, string? LastModified)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public DateTimeOffset? LastModifiedDate =>
        LastModified is not null
            && DateTimeOffset.TryParse(LastModified, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
                ? date
                : null;

    /// <summary>The body as JSON; a malformed body is a transient failure that names the position.</summary>
    public JsonNode Json()
    {
        try
        {
            return JsonNode.Parse(Body) ?? throw new JsonException("empty body");
        }
        catch (JsonException ex)
        {
            throw new PortException(
                $"DMP tool '{Tool}' answered {What} with a body that is not valid JSON (line {(ex.LineNumber ?? 0) + 1}: {ex.Message}); "
                + "it will be tried again.",
                isTransient: true,
                ex);
        }
    }

    public PortException Fail(string? hint = null) => Status switch
    {
        401 => new PortRefusedException(
            $"DMP tool '{Tool}' rejected Gardien's credentials for {What}. {hint ?? "Check the client id and secret in Key Vault."}"),
        403 => new PortRefusedException(
            $"DMP tool '{Tool}' does not let Gardien's API account do {What}. Share the plan with that account or give it the right role "
            + "in the tool."),
        404 => new PortNotFoundException($"DMP tool '{Tool}' does not know the resource of {What}."),
        409 or 412 => new ConcurrencyConflictException(
            $"The DMP changed in tool '{Tool}' while Gardien was writing to it ({What}); it will be read again and the write retried."),
        429 or >= 500 => new PortException(
            $"DMP tool '{Tool}' is throttling or failing {What} (status {Status}) after retries; it will be tried again.",
            isTransient: true),
        _ => new PortRefusedException($"DMP tool '{Tool}' refused {What} (status {Status}: {Shorten(Body)}). {hint}".TrimEnd()),
    };

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

/// <summary>A bearer token and its end of life, refreshed a minute early.</summary>
internal sealed class TokenCache(TimeProvider time)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset _expires;

    public async Task<string?> GetAsync(
        bool refresh,
        Func<CancellationToken, Task<(string Token, TimeSpan Lifetime)>> fetch,
        CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (refresh || _token is null || time.GetUtcNow() >= _expires)
            {
                var (token, lifetime) = await fetch(cancellationToken).ConfigureAwait(false);
                _token = token;
                _expires = time.GetUtcNow() + lifetime - TimeSpan.FromMinutes(1);
            }

            return _token;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads <c>access_token</c> and <c>expires_in</c> (seconds; an hour when absent) from a token answer.</summary>
    public static (string Token, TimeSpan Lifetime) Parse(DmpToolResponse response)
    {
        var json = response.Json();
        var token = json["access_token"] is JsonValue v && v.TryGetValue<string>(out var t) && t.Length > 0 ? t
            : throw new PortException(
                $"DMP tool '{response.Tool}' answered {response.What} without an access_token; it will be tried again.", isTransient: true);
        var seconds = json["expires_in"] is JsonValue e && e.TryGetValue<double>(out var s) ? s : 3600;
        return (token, TimeSpan.FromSeconds(Math.Max(seconds, 120)));
    }
}
