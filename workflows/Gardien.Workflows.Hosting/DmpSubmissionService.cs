using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Hosting;

/// <param name="Accepted">False when the version was refused (see <see cref="Error"/>); nothing was scheduled for it.</param>
/// <param name="JoinedExisting">True when the same version was already being handled: the submission joined that instance.</param>
/// <param name="Error">What is wrong and how to fix it, when not accepted.</param>
public sealed record DmpSubmissionResult(bool Accepted, string? DmpId, string? InstanceId, bool JoinedExisting, string? Error)
{
    /// <summary>What happened to the submitted version (started, queued behind a running intake, joined, stale...).</summary>
    public DmpRouteOutcome Outcome { get; init; }

    /// <summary>Which workflow handles the version (intake or update), or <see cref="DmpRoute.Ignored"/>.</summary>
    public DmpRoute Route { get; init; }

    /// <summary>What happened, in a sentence for the submitter (also when accepted).</summary>
    public string Message { get; init; } = string.Empty;

    /// <summary>For a queued version: the running intake it waits for.</summary>
    public string? WaitsFor { get; init; }
}

/// <summary>
/// Submissions of maDMP documents by people and tools (the CLI, the HTTP API, queue triggers). Every submission goes
/// through <see cref="DmpEventRouter"/>, so a newer version of a governed DMP is applied as an update, a revised DMP after
/// a rejection or a failure is taken in again, the same version joins what already handles it, an older version is
/// refused as stale, and of concurrent versions the newest wins; the result tells the submitter which of these happened.
/// </summary>
public sealed class DmpSubmissionService(IWorkflowClient client, IGovernanceRegistry registry)
{
    private readonly DmpEventRouter _router = new(client, registry);

    /// <summary>Submits a raw maDMP document; the dmp_id is read from <c>/dmp/dmp_id/identifier</c>.</summary>
    public Task<DmpSubmissionResult> SubmitAsync(
        string dmpJson,
        string? submittedBy = null,
        GovernancePolicy? policy = null,
        CancellationToken cancellationToken = default)
    {
        var dmpId = ExtractDmpId(dmpJson);
        return dmpId is null
            ? Task.FromResult(
                Refused(
                    null,
                    "/dmp/dmp_id/identifier: the document has no dmp_id identifier (or is not JSON); "
                    + "Gardien needs it to recognise the DMP. Add dmp.dmp_id.identifier and submit again."))
            : SubmitAsync(new IntakeDmpInput(dmpId, dmpJson, submittedBy, policy), cancellationToken);
    }

    /// <summary>Submits a DMP version (with its document, or by id: the workflow then fetches it from the DMP tool).</summary>
    public async Task<DmpSubmissionResult> SubmitAsync(IntakeDmpInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (string.IsNullOrWhiteSpace(input.DmpId))
        {
            return Refused(null, "dmp_id: the submission names no DMP; give the dmp_id or the document.");
        }

        var routed = await _router.RouteAsync(
            new DmpEvent(input.DmpId, input.DmpJson, null, input.SubmittedBy, input.Policy), cancellationToken).ConfigureAwait(false);
        return new DmpSubmissionResult(
            routed.Accepted,
            input.DmpId,
            routed.InstanceId,
            routed.Outcome == DmpRouteOutcome.Joined,
            routed.Accepted ? null : routed.Reason)
        {
            Outcome = routed.Outcome,
            Route = routed.Route,
            Message = routed.Reason,
            WaitsFor = routed.WaitsFor,
        };
    }

    /// <summary>The document's <c>dmp.dmp_id.identifier</c>, or null when absent or not JSON.</summary>
    public static string? ExtractDmpId(string? dmpJson) =>
        ReadDmp(dmpJson, dmp => dmp.TryGetProperty("dmp_id", out var id) && id.ValueKind == JsonValueKind.Object
            && id.TryGetProperty("identifier", out var value)
            && value.ValueKind == JsonValueKind.String
            && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!.Trim()
            : null);

    /// <summary>The document's <c>dmp.modified</c>, or null when absent or unreadable.</summary>
    public static DateTimeOffset? ExtractModified(string? dmpJson) =>
        ReadDmp(dmpJson, dmp => dmp.TryGetProperty("modified", out var modified) && modified.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(
                modified.GetString(),
                System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal,
                out var value)
            ? value
            : (DateTimeOffset?)null);

    private static DmpSubmissionResult Refused(string? dmpId, string error) =>
        new(false, dmpId, null, false, error) { Outcome = DmpRouteOutcome.Refused, Route = DmpRoute.Ignored, Message = error };

    private static T? ReadDmp<T>(string? dmpJson, Func<JsonElement, T?> read)
    {
        if (string.IsNullOrWhiteSpace(dmpJson))
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(dmpJson, new JsonDocumentOptions { MaxDepth = 64 });
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("dmp", out var dmp)
                && dmp.ValueKind == JsonValueKind.Object
                ? read(dmp)
                : default;
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
