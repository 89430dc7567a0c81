using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gardien.Workflows.Http;

namespace Gardien.Local.Serve;

/// <summary>An answer of the service: its status and JSON body (a problem's <c>detail</c> when it refused).</summary>
public sealed record ServiceAnswer(int Status, JsonElement Body)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>What went wrong, from a problem answer (<c>detail</c>, then every error with its path).</summary>
    public string Problem => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("detail", out var detail)
        ? detail.GetString() + (Body.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array
            ? string.Concat(errors.EnumerateArray().Select(e =>
                $"\n  {e.GetProperty("path").GetString()}: {e.GetProperty("message").GetString()}"))
            : string.Empty)
        : Body.ToString();
}

/// <summary>Talks to a running <c>gardien serve</c> (found by <see cref="ServiceDiscovery"/>) over its HTTP API, with its key.</summary>
public sealed class GardienServiceClient : IDisposable
{
    private readonly HttpClient _http;

    public GardienServiceClient(ServiceEndpoint endpoint, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
        _http = new HttpClient { BaseAddress = endpoint.Url, Timeout = timeout ?? TimeSpan.FromMinutes(2) };
        _http.DefaultRequestHeaders.Add(ServiceDiscovery.KeyHeader, endpoint.ApiKey);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    public ServiceEndpoint Endpoint { get; }

    public Task<ServiceAnswer> SubmitAsync(string dmpJson, string? submittedBy, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, GardienRoutes.Dmps)
        {
            Content = new StringContent(dmpJson, Encoding.UTF8,
            "application/json")
        };
        if (submittedBy is not null)
        {
            request.Headers.Add(GardienApi.SubmittedByHeader, submittedBy);
        }

        return SendAsync(request, cancellationToken);
    }

    public Task<ServiceAnswer> GetDmpAsync(string dmpId, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, GardienRoutes.DmpPath(dmpId)), cancellationToken);

    public Task<ServiceAnswer> ListDmpsAsync(CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, GardienRoutes.Dmps + "?pageSize=200"), cancellationToken);

    public Task<ServiceAnswer> GetWorkflowAsync(string instanceId, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, GardienRoutes.WorkflowPath(instanceId)), cancellationToken);

    public Task<ServiceAnswer> InboxAsync(string? to, bool openOnly, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get,
            $"/api/inbox?open={(openOnly ? "true" : "false")}" + (to is null ? string.Empty : "&to=" + Uri.EscapeDataString(to))),
            cancellationToken);

    /// <summary>Decides with an approval link (its path and query are used on this service) or a bare token.</summary>
    /// <param name="actor">Who decides, as an e-mail; checked against the link like anyone else.</param>
    public Task<ServiceAnswer> DecideAsync(string link, string? decision, string? comment, string? actor,
        CancellationToken cancellationToken = default)
    {
        var path = Uri.TryCreate(link.Trim(), UriKind.Absolute,
            out var url) ? url.PathAndQuery : $"{GardienRoutes.Approvals}/{Uri.EscapeDataString(link.Trim())}";
        var fields = new Dictionary<string, string>();
        Add(fields, "decision", decision);
        Add(fields, "comment", comment);
        Add(fields, "as", actor);
        return SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(fields) }, cancellationToken);
    }

    public Task<ServiceAnswer> SweepAsync(DateOnly date, bool dryRun, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, $"/api/sweeps?date={date:yyyy-MM-dd}&dryRun={(dryRun ? "true" : "false")}"),
            cancellationToken);

    public Task<ServiceAnswer> AuditAsync(int last, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/audit?last={last}"), cancellationToken);

    public Task<ServiceAnswer> VerifyAuditAsync(CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/audit/verify"), cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task<ServiceAnswer> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonElement body;
            try
            {
                body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                body = JsonSerializer.SerializeToElement(text);
            }

            return new ServiceAnswer((int)response.StatusCode, body);
        }
    }

    private static void Add(Dictionary<string, string> fields, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            fields[name] = value;
        }
    }
}
