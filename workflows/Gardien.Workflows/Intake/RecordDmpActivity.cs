using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Intake;

public sealed record RecordDmpInput(string DmpId, DateTimeOffset? Modified, string? Title, string? ContactEmail, DateTimeOffset At);

public enum RecordDmpOutcome
{
    /// <summary>Recorded as Pending for this instance (or already was: a redelivery).</summary>
    Recorded,

    /// <summary>The DMP is already governed (Active) by this or a newer version: nothing to do.</summary>
    AlreadyGoverned,

    /// <summary>The DMP is already governed by an older version: it must go through an update, not an intake.</summary>
    NeedsUpdate,
}

public sealed record RecordDmpResult(RecordDmpOutcome Outcome, DmpState? ExistingState, DateTimeOffset? ExistingModified);

/// <summary>
/// Records the submitted DMP as Pending in the registry, under optimistic concurrency (ETag), unless an active version
/// already governs it. Audited.
/// </summary>
public sealed class RecordDmpActivity(IGovernanceRegistry registry, IAuditLog audit) : Activity<RecordDmpInput, RecordDmpResult>
{
    public override async Task<RecordDmpResult> RunAsync(ActivityContext context, RecordDmpInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var existing = await registry.GetDmpAsync(input.DmpId, ct).ConfigureAwait(false);
        if (existing is { State: DmpState.Active or DmpState.Disposed })
        {
            var outcome = existing.Modified is { } m && input.Modified is { } n && n > m ? RecordDmpOutcome.NeedsUpdate : RecordDmpOutcome.AlreadyGoverned;
            return new RecordDmpResult(outcome, existing.State, existing.Modified);
        }

        if (existing is { State: DmpState.Pending } && existing.InstanceId == context.InstanceId)
        {
            return new RecordDmpResult(RecordDmpOutcome.Recorded, existing.State, existing.Modified);
        }

        var record = new DmpRecord
        {
            DmpId = input.DmpId,
            State = DmpState.Pending,
            Modified = input.Modified,
            Title = input.Title,
            ContactEmail = input.ContactEmail,
            InstanceId = context.InstanceId,
            StateReason = "intake: awaiting approvals",
            UpdatedAt = input.At,
            ETag = existing?.ETag,
        };
        await registry.UpsertDmpAsync(record, ct).ConfigureAwait(false);
        await audit.AppendAsync(
            AuditEntries.Create(GardienWorkflowOptions.SystemActor("IntakeDmpWorkflow"), "dmp.recorded", context.InstanceId, AuditEntries.DmpSubject(input.DmpId), input.At.UtcDateTime,
                before: existing is null ? null : new { state = existing.State.ToString(), modified = existing.Modified },
                after: new { state = nameof(DmpState.Pending), modified = input.Modified }),
            ct).ConfigureAwait(false);
        return new RecordDmpResult(RecordDmpOutcome.Recorded, existing?.State, existing?.Modified);
    }
}
