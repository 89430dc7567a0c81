using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gardien.Runtime;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Hosting;

/// <summary>A DMP was created or changed in the DMP tool (webhook, poll, file drop).</summary>
/// <param name="DmpJson">The document, when the event carries it; otherwise the workflow fetches it.</param>
/// <param name="Modified">The version's <c>modified</c>, when known without the document.</param>
public sealed record DmpEvent(string DmpId, string? DmpJson = null, DateTimeOffset? Modified = null, string? SubmittedBy = null, GovernancePolicy? Policy = null);

public enum DmpRoute
{
    Intake,
    Update,

    /// <summary>Not newer than the version in force (or disposed): no instance was started.</summary>
    Ignored,
}

public sealed record DmpRouteResult(DmpRoute Route, string? InstanceId, string Reason);

/// <summary>
/// Routes DMP events: a DMP without governance goes to <see cref="IntakeDmpWorkflow"/>, a governed one to
/// <see cref="UpdateDmpWorkflow"/> (one instance per version), a version not newer than the one in force is dropped early
/// (the update workflow re-checks atomically, so a race here is harmless). Idempotent: the same event twice joins the same instance.
/// </summary>
public sealed class DmpEventRouter(IWorkflowClient client, IGovernanceRegistry registry)
{
    private readonly DmpSubmissionService _submissions = new(client);

    public async Task<DmpRouteResult> RouteAsync(DmpEvent dmpEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dmpEvent);
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpEvent.DmpId);
        var modified = dmpEvent.Modified ?? DmpSubmissionService.ExtractModified(dmpEvent.DmpJson);
        var record = await registry.GetDmpAsync(dmpEvent.DmpId, cancellationToken).ConfigureAwait(false);
        var intakeId = IntakeDmpWorkflow.InstanceIdFor(dmpEvent.DmpId);
        switch (record)
        {
            case null:
                return await IntakeAsync(dmpEvent, intakeId, "the DMP is not governed yet", cancellationToken).ConfigureAwait(false);
            case { State: DmpState.Disposed }:
                return new DmpRouteResult(DmpRoute.Ignored, null, "the DMP's data has been disposed of; it is no longer governed");
            case { State: DmpState.Rejected or DmpState.Failed }:
                if (modified is { } m && record.Modified is { } r && m <= r)
                {
                    return new DmpRouteResult(DmpRoute.Ignored, null, $"this version was already {record.State.ToString().ToLowerInvariant()}; change the DMP and submit it again");
                }

                // A revised DMP after a rejection or failure: a new intake, one per version.
                return await IntakeAsync(dmpEvent, $"{intakeId}-{Stamp(modified, dmpEvent.DmpJson)}", $"the previous intake ended {record.State.ToString().ToLowerInvariant()}", cancellationToken).ConfigureAwait(false);
            case { State: DmpState.Pending } when record.InstanceId is { } running && (modified is null || record.Modified is null || modified == record.Modified):
                return await IntakeAsync(dmpEvent, running, "the same version is already in intake", cancellationToken).ConfigureAwait(false);
            case { State: DmpState.Active } when modified is { } m2 && record.Modified is { } r2 && m2 <= r2:
                // The version an update has claimed (and may still be applying) joins that update; older ones are dropped.
                return m2 == r2 && record.InstanceId is { } owner && owner == UpdateDmpWorkflow.InstanceIdFor(dmpEvent.DmpId, modified, dmpEvent.DmpJson)
                    ? new DmpRouteResult(DmpRoute.Update, owner, "this version is already being applied")
                    : new DmpRouteResult(DmpRoute.Ignored, null, $"version {m2:O} is not newer than the version in force ({r2:O})");
        }

        // Active with a newer (or unknown) version, or Pending with another version: an update (which waits for a running intake).
        var updateId = UpdateDmpWorkflow.InstanceIdFor(dmpEvent.DmpId, modified, dmpEvent.DmpJson);
        await client.ScheduleNewAsync(nameof(UpdateDmpWorkflow), new UpdateDmpInput(dmpEvent.DmpId, dmpEvent.DmpJson, dmpEvent.SubmittedBy, dmpEvent.Policy), updateId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new DmpRouteResult(DmpRoute.Update, updateId, record.State == DmpState.Pending ? "an intake is running; the update waits for it" : "a new version of a governed DMP");
    }

    private async Task<DmpRouteResult> IntakeAsync(DmpEvent dmpEvent, string instanceId, string reason, CancellationToken cancellationToken)
    {
        var submitted = await _submissions.SubmitAsync(new IntakeDmpInput(dmpEvent.DmpId, dmpEvent.DmpJson, dmpEvent.SubmittedBy, dmpEvent.Policy), instanceId, cancellationToken).ConfigureAwait(false);
        return new DmpRouteResult(DmpRoute.Intake, submitted.InstanceId, reason);
    }

    private static string Stamp(DateTimeOffset? modified, string? json) =>
        modified is { } m
            ? m.UtcTicks.ToString(CultureInfo.InvariantCulture)
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json ?? string.Empty)))[..16];
}
