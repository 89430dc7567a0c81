using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.Arm;

/// <summary>
/// Azure Resource Manager over REST with Azure.Core's pipeline: a bearer token for the ARM audience, retries, and
/// answers returned as status + JSON so that each caller decides which statuses are outcomes (404 "not there yet",
/// 409 "already exists") and turns the rest into port exceptions with <see cref="ArmResponse.Fail"/>.
/// </summary>
internal sealed class ArmRestClient
{
    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    public ArmRestClient(Uri endpoint, TokenCredential credential, ArmClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(credential);
        _endpoint = endpoint;
        var audience = endpoint.GetLeftPart(UriPartial.Authority) + "/.default";
        _pipeline = HttpPipelineBuilder.Build(options ?? new ArmClientOptions(), new BearerTokenAuthenticationPolicy(credential, audience));
    }

    public async Task<ArmResponse> SendAsync(
        RequestMethod method,
        string path,
        string apiVersion,
        JsonNode? body = null,
        IReadOnlyDictionary<string, string>? query = null,
        string? ifMatch = null,
        CancellationToken cancellationToken = default)
    {
        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        if (path.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            // A nextLink: already carries api-version and the continuation token.
            request.Uri.Reset(new Uri(path));
        }
        else
        {
            request.Uri.Reset(_endpoint);
            request.Uri.AppendPath(path, escape: false);
            request.Uri.AppendQuery("api-version", apiVersion);
            foreach (var (key, value) in query ?? new Dictionary<string, string>())
            {
                request.Uri.AppendQuery(key, value);
            }
        }

        request.Headers.Add("Accept", "application/json");
        if (ifMatch is not null)
        {
            request.Headers.Add("If-Match", ifMatch);
        }

        if (body is not null)
        {
            request.Headers.Add("Content-Type", "application/json");
            request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        }

        var what = $"{method} {path}";
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            throw new PortException($"Azure Resource Manager could not be reached for {what}: {ex.Message}", isTransient: true, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PortException(
                $"Azure Resource Manager did not answer {what} in time; it will be tried again.", isTransient: true, ex);
        }

        var response = message.Response;
        response.Headers.TryGetValue("ETag", out var etag);
        var text = response.Content.ToString();
        JsonNode? json = null;
        if (!string.IsNullOrWhiteSpace(text))
        {
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (JsonException ex)
            {
                if (response.Status is >= 200 and < 300)
                {
                    throw new PortException(
                        $"Azure Resource Manager answered {what} with a body that is not JSON (status {response.Status}); "
                        + "it will be tried again.",
                        isTransient: true,
                        ex);
                }
            }
        }

        return new ArmResponse(what, response.Status, json, etag);
    }
}

/// <summary>An ARM answer: status, JSON body (null when empty) and ETag header.</summary>
internal sealed record ArmResponse(string What, int Status, JsonNode? Body, string? ETag)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>The ARM error code (<c>error.code</c>), when the body has one.</summary>
    public string? ErrorCode =>
        Body is JsonObject o
            ? (o["error"]?["code"] ?? o["code"]) is JsonValue v && v.TryGetValue<string>(out var code) ? code : null
            : null;

    public string? ErrorMessage =>
        Body is JsonObject o
            ? (o["error"]?["message"] ?? o["message"]) is JsonValue v && v.TryGetValue<string>(out var text) ? text : null
            : null;

    /// <summary>The body as an object; a 2xx answer without one is a malformed answer.</summary>
    public JsonObject Object => Body as JsonObject
        ?? throw new PortException(
            $"Azure Resource Manager answered {What} without the expected JSON object (status {Status}); it will be tried again.",
            isTransient: true);

    /// <summary>Throws unless the status is a success.</summary>
    public ArmResponse EnsureSuccess(string? hint = null) => IsSuccess ? this : throw Fail(hint);

    /// <summary>The port exception for an unexpected status; <paramref name="hint"/> says how to fix a refusal.</summary>
    public PortException Fail(string? hint = null)
    {
        var detail = ErrorCode is null ? $"status {Status}" : $"{ErrorCode}: {ErrorMessage}";
        return Status switch
        {
            401 => new PortRefusedException(
                $"Azure Resource Manager rejected the app identity's token for {What} ({detail}). "
                + "Check AZURE_CLIENT_ID and the identity's tenant."),
            403 => new PortRefusedException(
                $"The app identity may not do {What} ({detail}). {hint ?? "Check its Azure role assignments (docs/ops.md)."}"),
            404 => new PortNotFoundException($"Azure Resource Manager does not know the resource of {What} ({detail})."),
            409 or 412 => new ConcurrencyConflictException(
                $"Azure Resource Manager reported a conflict for {What} ({detail}); read the resource again and retry."),
            429 or >= 500 => new PortException(
                $"Azure Resource Manager is throttling or failing {What} ({detail}) after retries; it will be tried again.",
                isTransient: true),
            _ => new PortRefusedException($"Azure Resource Manager refused {What} ({detail}). {hint}".TrimEnd()),
        };
    }
}
