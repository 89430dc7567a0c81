using System.Text;
using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Hosting.Events;
using Gardien.Workflows.Madmp;
using Gardien.Workflows.Ports;
using Microsoft.AspNetCore.Http;

namespace Gardien.Workflows.Http;

/// <summary>
/// The JSON routes both hosts serve (<see cref="GardienRoutes"/>), written once over <see cref="HttpRequest"/>. Who may
/// call them is the host's business (function keys in Azure, the local API key); everything else is here: media types,
/// size limits, validation with JSON paths, problem answers (<c>application/problem+json</c>, never a stack trace).
/// </summary>
public sealed class GardienApi(
    IWorkflowClient client,
    IGovernanceRegistry registry,
    DmpDetails details,
    GridEventDispatcher events,
    GardienHttpOptions? options = null)
{
    /// <summary>The header a client holding the host's key may set to name who submits (recorded in the audit trail).</summary>
    public const string SubmittedByHeader = "X-Gardien-Submitted-By";

    private readonly GardienHttpOptions _options = options ?? new GardienHttpOptions();
    private readonly DmpSubmissionService _submissions = new(client, registry);

    /// <summary>
    /// <c>POST /api/dmps</c>: a maDMP document. 202 Accepted (started or queued) or 200 OK (this version is already
    /// handled or in force), both with <c>Location</c> on the workflow; 400 with every error and its JSON path; 409 for a
    /// stale or refused version; 413 over the size limit; 415 for anything but JSON.
    /// </summary>
    public async Task<HttpAnswer> SubmitDmpAsync(HttpRequest request, string? submittedBy = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!RequestFields.IsJson(request.ContentType))
        {
            return HttpAnswer.Problem(415, "Unsupported media type",
                $"Send the maDMP as JSON (Content-Type: application/json); got '{request.ContentType ?? "none"}'.");
        }

        var body = await BoundedBody.ReadAsync(request, _options.MaxDmpBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return HttpAnswer.Problem(413, "DMP too large",
                $"The document is larger than the limit of {_options.MaxDmpBytes} bytes. Split the plan or ask the operator to raise the "
                    + $"limit.");
        }

        var read = MadmpReader.Default.Read(body, new MadmpReadOptions { Mode = ValidationMode.Lenient });
        if (!read.IsValid)
        {
            var errors = read.Errors.Select(e => new ProblemError(e.Path.Length == 0 ? "/" : e.Path, e.Message)).ToList();
            return HttpAnswer.Problem(400, "Invalid DMP",
                $"The document is not a valid maDMP ({errors.Count} error(s)); fix each error at its path and submit again.", errors);
        }

        var json = Encoding.UTF8.GetString(body);
        var result = await _submissions.SubmitAsync(json, submittedBy ?? "api", cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!result.Accepted)
        {
            return HttpAnswer.Problem(result.Outcome == DmpRouteOutcome.Stale ? 409 : 422,
                result.Outcome == DmpRouteOutcome.Stale ? "Stale version" : "DMP refused", result.Message);
        }

        var status = result.Outcome is DmpRouteOutcome.Started or DmpRouteOutcome.Queued ? 202 : 200;
        var answer = HttpAnswer.Json(status, new
        {
            dmpId = result.DmpId,
            instanceId = result.InstanceId,
            outcome = result.Outcome,
            route = result.Route,
            message = result.Message,
            waitsFor = result.WaitsFor,
            statusUrl = result.InstanceId is null ? null : GardienRoutes.WorkflowPath(result.InstanceId),
            dmpUrl = result.DmpId is null ? null : GardienRoutes.DmpPath(result.DmpId),
        });
        return result.InstanceId is null ? answer : answer.WithHeader("Location", GardienRoutes.WorkflowPath(result.InstanceId));
    }

    /// <summary><c>GET /api/dmps?state=&amp;page=&amp;pageSize=</c>: the DMPs with their state, most recently changed first.</summary>
    public async Task<HttpAnswer> ListDmpsAsync(HttpRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        DmpState? state = null;
        if (request.Query["state"].ToString() is { Length: > 0 } text)
        {
            if (!Enum.TryParse<DmpState>(text, ignoreCase: true, out var parsed) || int.TryParse(text, out _))
            {
                return HttpAnswer.Problem(400, "Invalid query",
                    $"state '{text}' is not a DMP state; use one of {string.Join(", ", Enum.GetNames<DmpState>())}.");
            }

            state = parsed;
        }

        if (!TryPositive(request, "page", 1, int.MaxValue, out var page, out var error)
            || !TryPositive(request, "pageSize", _options.DefaultPageSize, _options.MaxPageSize, out var size, out error))
        {
            return HttpAnswer.Problem(400, "Invalid query", error!);
        }

        var all = (await registry.ListDmpsAsync(state, cancellationToken).ConfigureAwait(false))
            .OrderByDescending(d => d.UpdatedAt ?? DateTimeOffset.MinValue).ThenBy(d => d.DmpId, StringComparer.Ordinal).ToList();
        var items = all.Skip((int)Math.Min(int.MaxValue, (long)(page - 1) * size)).Take(size).Select(DmpDetails.Summary).ToList();
        var next = (long)page * size < all.Count ? $"{GardienRoutes.Dmps}?page={page + 1}&pageSize={size}" + (state is null
            ? string.Empty : $"&state={state}") : null;
        return HttpAnswer.Json(200, new { items, page, pageSize = size, total = all.Count, next });
    }

    /// <summary><c>GET /api/dmps/{dmpId}</c> (the id URL-encoded): plan, approvals, containers, grants, retention, findings,
    /// controls.</summary>
    public async Task<HttpAnswer> GetDmpAsync(string? dmpId, CancellationToken cancellationToken = default)
    {
        var id = GardienRoutes.DecodeId(dmpId);
        if (id is null)
        {
            return HttpAnswer.Problem(400, "No DMP named",
                "Give the dmp_id, URL-encoded, after /api/dmps/ (e.g. /api/dmps/https%3A%2F%2Fdoi.org%2F10.1%2Fx).");
        }

        var detail = await details.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return detail is null
            ? HttpAnswer.Problem(404, "Unknown DMP", $"No DMP '{id}' is governed here; GET {GardienRoutes.Dmps} lists the known DMPs.")
            : HttpAnswer.Json(200, detail);
    }

    /// <summary><c>GET /api/workflows/{instanceId}</c>: status, stage (custom status), output and failure of one instance.</summary>
    public async Task<HttpAnswer> GetWorkflowAsync(string? instanceId, CancellationToken cancellationToken = default)
    {
        var id = GardienRoutes.DecodeId(instanceId);
        var instance = id is null ? null : await client.GetInstanceAsync(id, getInputsAndOutputs: true,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (instance is null)
        {
            return HttpAnswer.Problem(404, "Unknown workflow",
                $"No workflow instance '{id}'. POST {GardienRoutes.Dmps} answers with the instance's URL.");
        }

        return HttpAnswer.Json(200, new
        {
            instanceId = instance.InstanceId,
            name = instance.Name,
            status = instance.Status,
            createdAt = instance.CreatedAt,
            lastUpdatedAt = instance.LastUpdatedAt,
            completedAt = instance.CompletedAt,
            parentInstanceId = instance.ParentInstanceId,
            customStatus = Parse(instance.SerializedCustomStatus),
            output = Parse(instance.SerializedOutput),
            failure = instance.FailureDetails is { } failure ? new { failure.ErrorType, failure.ErrorMessage } : null,
        });
    }

    /// <summary><c>GET /api/health</c>: the service answers (no dependency is called: a probe must stay cheap).</summary>
    public static HttpAnswer Health(string host) =>
        HttpAnswer.Json(200, new
        {
            status = "healthy",
            service = "gardien",
            host,
            version = typeof(GardienApi).Assembly.GetName().Version?.ToString()
        });

    /// <summary>
    /// <c>POST /api/events</c>: Event Grid or CloudEvents, one event or a batch, handled like the Azure app's queues
    /// (<see cref="GridEventDispatcher"/>). Answers the Event Grid subscription-validation handshake; 400 for a malformed
    /// batch (nothing of it is handled), 413 over the size limit, 415 for anything but JSON.
    /// </summary>
    public async Task<HttpAnswer> PostEventsAsync(HttpRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!RequestFields.IsJson(request.ContentType))
        {
            return HttpAnswer.Problem(415, "Unsupported media type",
                "Send Event Grid (application/json) or CloudEvents (application/cloudevents+json, application/cloudevents-batch+json) "
                    + "events.");
        }

        var body = await BoundedBody.ReadAsync(request, _options.MaxEventBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return HttpAnswer.Problem(413, "Batch too large",
                $"The batch is larger than {_options.MaxEventBytes} bytes; send fewer events at a time.");
        }

        IReadOnlyList<GridEvent> batch;
        try
        {
            batch = EventGridMessages.Parse(Encoding.UTF8.GetString(body));
        }
        catch (FormatException ex)
        {
            return HttpAnswer.Problem(400, "Malformed events", ex.Message);
        }

        if (batch.FirstOrDefault(e => e.Type == SubscriptionValidationType) is { } validation)
        {
            return validation.Data.ValueKind == JsonValueKind.Object && validation.Data.TryGetProperty("validationCode", out var code)
                ? HttpAnswer.Json(200, new { validationResponse = code.GetString() })
                : HttpAnswer.Problem(400, "Malformed validation event",
                    "/data/validationCode is missing from the subscription validation event.");
        }

        var handled = new List<GridEventHandled>();
        foreach (var gridEvent in batch)
        {
            try
            {
                handled.Add(await events.HandleAsync(gridEvent, cancellationToken).ConfigureAwait(false));
            }
            catch (FormatException ex)
            {
                // Events before this one are handled (each idempotently): resending the corrected batch is safe.
                return HttpAnswer.Problem(400, "Malformed event", ex.Message,
                    [new ProblemError($"/{handled.Count}", ex.Message)]);
            }
        }

        return HttpAnswer.Json(200, new { handled });
    }

    /// <summary>
    /// <c>OPTIONS /api/events</c>: the CloudEvents web-hook abuse-protection handshake: the sender names its origin in
    /// <c>WebHook-Request-Origin</c> and this endpoint allows it.
    /// </summary>
    public static HttpAnswer EventsOptions(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var origin = request.Headers["WebHook-Request-Origin"].ToString();
        if (origin.Length == 0)
        {
            return HttpAnswer.Problem(400, "Not a web-hook handshake",
                "An OPTIONS request here must carry WebHook-Request-Origin (CloudEvents abuse protection).");
        }

        return HttpAnswer.Status(200)
            .WithHeader("WebHook-Allowed-Origin", origin)
            .WithHeader("WebHook-Allowed-Rate", "*")
            .WithHeader("Allow", "POST, OPTIONS");
    }

    /// <summary>Event Grid's subscription-validation event type.</summary>
    public const string SubscriptionValidationType = "Microsoft.EventGrid.SubscriptionValidationEvent";

    private static bool TryPositive(HttpRequest request, string name, int fallback, int max, out int value, out string? error)
    {
        error = null;
        value = fallback;
        var text = request.Query[name].ToString();
        if (text.Length == 0)
        {
            return true;
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture,
            out value) || value < 1 || value > max)
        {
            error = $"{name} '{text}' must be a whole number from 1 to {max}.";
            return false;
        }

        return true;
    }

    private static JsonElement? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }
}
