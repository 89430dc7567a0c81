using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;

namespace Gardien.Workflows.Hosting;

/// <param name="Accepted">False when the submission was refused (see <see cref="Error"/>); nothing was scheduled.</param>
/// <param name="JoinedExisting">True when an intake for this DMP already existed: the submission joined it instead of starting a second one.</param>
/// <param name="Error">What is wrong and how to fix it, when not accepted.</param>
public sealed record DmpSubmissionResult(bool Accepted, string? DmpId, string? InstanceId, bool JoinedExisting, string? Error);

/// <summary>
/// Starts intakes idempotently: the instance id derives from the dmp_id (<see cref="IntakeDmpWorkflow.InstanceIdFor"/>)
/// and scheduling is idempotent per id, so the same DMP submitted any number of times, even concurrently, runs one
/// intake and provisions once. For hosts (HTTP, CLI, queue triggers).
/// </summary>
public sealed class DmpSubmissionService(IWorkflowClient client)
{
    /// <summary>Submits a raw maDMP document; the dmp_id is read from <c>/dmp/dmp_id/identifier</c>.</summary>
    public Task<DmpSubmissionResult> SubmitAsync(string dmpJson, string? submittedBy = null, GovernancePolicy? policy = null, CancellationToken cancellationToken = default)
    {
        var dmpId = ExtractDmpId(dmpJson);
        return dmpId is null
            ? Task.FromResult(new DmpSubmissionResult(false, null, null, false,
                "/dmp/dmp_id/identifier: the document has no dmp_id identifier (or is not JSON); Gardien needs it to recognise the DMP. Add dmp.dmp_id.identifier and submit again."))
            : SubmitAsync(new IntakeDmpInput(dmpId, dmpJson, submittedBy, policy), null, cancellationToken);
    }

    /// <summary>Schedules the intake under <paramref name="instanceId"/> (default: derived from the dmp_id).</summary>
    public async Task<DmpSubmissionResult> SubmitAsync(IntakeDmpInput input, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (string.IsNullOrWhiteSpace(input.DmpId))
        {
            return new DmpSubmissionResult(false, null, null, false, "dmp_id: the submission names no DMP; give the dmp_id or the document.");
        }

        var id = instanceId ?? IntakeDmpWorkflow.InstanceIdFor(input.DmpId);
        var existed = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken: cancellationToken).ConfigureAwait(false) is not null;
        try
        {
            await client.ScheduleNewAsync(nameof(IntakeDmpWorkflow), input, id, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A concurrent duplicate may lose the create race in some stores: the instance then exists, which is the goal.
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            if (await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken: cancellationToken).ConfigureAwait(false) is null)
            {
                throw;
            }

            existed = true;
        }

        return new DmpSubmissionResult(true, input.DmpId, id, existed, null);
    }

    /// <summary>The document's <c>dmp.dmp_id.identifier</c>, or null when absent or not JSON.</summary>
    public static string? ExtractDmpId(string? dmpJson) =>
        ReadDmp(dmpJson, dmp => dmp.TryGetProperty("dmp_id", out var id) && id.ValueKind == JsonValueKind.Object
            && id.TryGetProperty("identifier", out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!.Trim()
            : null);

    /// <summary>The document's <c>dmp.modified</c>, or null when absent or unreadable.</summary>
    public static DateTimeOffset? ExtractModified(string? dmpJson) =>
        ReadDmp(dmpJson, dmp => dmp.TryGetProperty("modified", out var modified) && modified.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(modified.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var value)
            ? value
            : (DateTimeOffset?)null);

    private static T? ReadDmp<T>(string? dmpJson, Func<JsonElement, T?> read)
    {
        if (string.IsNullOrWhiteSpace(dmpJson))
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(dmpJson, new JsonDocumentOptions { MaxDepth = 64 });
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("dmp", out var dmp) && dmp.ValueKind == JsonValueKind.Object
                ? read(dmp)
                : default;
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
