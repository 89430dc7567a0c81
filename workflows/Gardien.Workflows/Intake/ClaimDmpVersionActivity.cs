using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Intake;

public sealed record ClaimDmpVersionInput(string DmpId, DateTimeOffset? Modified, DateTimeOffset At);

public enum ClaimOutcome
{
    /// <summary>This version is the newest seen: recorded (ETag-checked), the update may proceed.</summary>
    Claimed,

    /// <summary>The registry already holds this or a newer version: the event is out of date and ignored.</summary>
    Stale,

    /// <summary>No active governance for this DMP: it needs an intake.</summary>
    NotGoverned,

    /// <summary>An intake is still running for this DMP: the version must wait for it (through an intake of its own).</summary>
    IntakeInProgress,
}

/// <param name="ActivePlanJson">The plan in force (GovernanceJson form) when <see cref="Outcome"/> is Claimed.</param>
/// <param name="RecordedState">The registry's state of the DMP, when it has a record.</param>
public sealed record ClaimDmpVersionResult(
    ClaimOutcome Outcome,
    DateTimeOffset? RecordedModified,
    string? ActivePlanJson,
    DmpState? RecordedState = null);

/// <summary>
/// The out-of-order guard of updates: compares the DMP version's <c>modified</c> with the registry's and, when newer,
/// records it atomically (ETag) together with the claiming instance, so that of two concurrent versions only the newest
/// applies and an older one arriving late is ignored.
/// </summary>
public sealed class ClaimDmpVersionActivity(
    IGovernanceRegistry registry,
    IAuditLog audit) : Activity<ClaimDmpVersionInput, ClaimDmpVersionResult>
{
    public override async Task<ClaimDmpVersionResult> RunAsync(ActivityContext context, ClaimDmpVersionInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var existing = await registry.GetDmpAsync(input.DmpId, ct);
        switch (existing)
        {
            case null or { State: DmpState.Rejected or DmpState.Failed or DmpState.Disposed }:
                return new ClaimDmpVersionResult(ClaimOutcome.NotGoverned, existing?.Modified, null, existing?.State);
            case { State: DmpState.Pending }:
                return new ClaimDmpVersionResult(ClaimOutcome.IntakeInProgress, existing.Modified, null, existing.State);
        }

        if (existing.InstanceId == context.InstanceId)
        {
            // Our own claim, redelivered or checked again: the entry is appended again with its key (the log keeps the
            // first), so a crash between the claim and its entry cannot lose the entry.
            await AppendClaimedAsync(context, input, null, ct);
            return new ClaimDmpVersionResult(ClaimOutcome.Claimed, existing.Modified, existing.ActivePlanJson);
        }

        if (input.Modified is null || (existing.Modified is { } recorded && input.Modified <= recorded))
        {
            return new ClaimDmpVersionResult(ClaimOutcome.Stale, existing.Modified, null);
        }

        var claimed = existing with
        {
            Modified = input.Modified,
            InstanceId = context.InstanceId,
            UpdatedAt = input.At,
            StateReason = "update: version claimed",
        };
        var stored = await registry.UpsertDmpAsync(claimed, ct);
        await AppendClaimedAsync(context, input, existing, ct);
        return new ClaimDmpVersionResult(ClaimOutcome.Claimed, stored.Modified, stored.ActivePlanJson);
    }

    private Task<AuditReceipt> AppendClaimedAsync(
        ActivityContext context,
        ClaimDmpVersionInput input,
        DmpRecord? before,
        CancellationToken ct) =>
        audit.AppendAsync(
            AuditEntries.Create(
                GardienWorkflowOptions.SystemActor("UpdateDmpWorkflow"),
                "dmp.version_claimed",
                context.InstanceId,
                AuditEntries.DmpSubject(input.DmpId),
                input.At.UtcDateTime,
                before: before is null ? null : new { modified = before.Modified, instanceId = before.InstanceId },
                after: new { modified = input.Modified }),
            ct);
}
