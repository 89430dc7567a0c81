using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Intake;

public sealed record RecordDmpInput(string DmpId, DateTimeOffset? Modified, string? Title, string? ContactEmail, DateTimeOffset At);

public enum RecordDmpOutcome
{
    /// <summary>Recorded as Pending for this instance (or already was: a redelivery): the intake proceeds.</summary>
    Recorded,

    /// <summary>The DMP is already governed (Active) by this or a newer version, or disposed of: nothing to do.</summary>
    AlreadyGoverned,

    /// <summary>The DMP is governed by an older version: this version must be applied as an update.</summary>
    NeedsUpdate,

    /// <summary>
    /// An intake of an older version holds the record: this version waits for it to end (<see cref="RecordDmpResult.Owner"/>).
    /// </summary>
    Queued,

    /// <summary>The same or a newer version is already in intake or waiting: this version stops.</summary>
    Superseded,
}

/// <param name="Owner">The intake this version waits for (Queued) or gives way to (Superseded).</param>
/// <param name="OwnerModified">That intake's version.</param>
/// <param name="Wake">Older waiting versions this one supersedes: the workflow wakes them so they end at once.</param>
public sealed record RecordDmpResult(
    RecordDmpOutcome Outcome,
    DmpState? ExistingState,
    DateTimeOffset? ExistingModified,
    string? Owner = null,
    DateTimeOffset? OwnerModified = null,
    IReadOnlyList<string>? Wake = null);

/// <summary>
/// The arbiter between versions of one DMP taken in at the same time, under the registry record's ETag: the first intake
/// records the DMP as Pending; an intake of a newer version arriving meanwhile joins the record's queue and waits for
/// that intake to end (it is woken by <see cref="SetDmpStateActivity"/>'s caller); the same or an older version gives
/// way; once a version is in force, a newer one is applied as an update. Of several waiting versions only the newest
/// takes its turn. Audited; every entry is appended with its idempotency key on every run, so a crash between the
/// registry write and the append cannot lose it.
/// </summary>
public sealed class RecordDmpActivity(IGovernanceRegistry registry, IAuditLog audit) : Activity<RecordDmpInput, RecordDmpResult>
{
    public override async Task<RecordDmpResult> RunAsync(ActivityContext context, RecordDmpInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var me = context.InstanceId;
        var existing = await registry.GetDmpAsync(input.DmpId, ct);
        var firstRecordTaken = existing is null
            && await registry.TryConsumeTokenAsync(FirstRecordKey(input.DmpId), me, input.At, input.At.AddYears(100), ct)
                == TokenConsumption.AlreadyUsed;
        if (firstRecordTaken)
        {
            // Record writes are ETag-checked, but the port has no create-only write: the first record of a DMP is claimed
            // in the single-use set instead. Another intake holds that claim and writes the record in a moment; decide
            // against it then.
            existing = await registry.GetDmpAsync(input.DmpId, ct)
                ?? throw new ConcurrencyConflictException(
                    $"Another intake of '{input.DmpId}' is recording it first; this version is decided once that record exists.");
        }

        var queue = existing?.Queue ?? [];
        var others = queue.Where(q => q.InstanceId != me).ToList();
        var newerWaiting = others.Where(q => !IsNewer(input.Modified, q.Modified)).OrderByDescending(q => q.Modified).FirstOrDefault();
        var actor = GardienWorkflowOptions.SystemActor(nameof(IntakeDmpWorkflow));
        var subject = AuditEntries.DmpSubject(input.DmpId);

        switch (existing)
        {
            case { State: DmpState.Pending } when existing.InstanceId == me:
                // A redelivery: the record is ours. What it held before is no longer known, so the entry (if the first
                // run did not append it) records no "before".
                await AppendRecordedAsync(me, null, input, actor, subject, ct);
                return new RecordDmpResult(RecordDmpOutcome.Recorded, existing.State, existing.Modified);

            case { State: DmpState.Active } when existing.InstanceId == UpdateDmpWorkflow.HandOverInstanceId(me):
                // A redelivery: this version's turn was claimed below by the first run.
                return new RecordDmpResult(RecordDmpOutcome.NeedsUpdate, existing.State, input.Modified);

            case { State: DmpState.Active } when IsNewer(input.Modified, existing.Modified) && newerWaiting is null:
                return await ClaimForUpdateAsync(me, existing, input, ct);

            case { State: DmpState.Active or DmpState.Disposed }:
                await LeaveQueueAsync(existing, me, ct);
                if (existing.State == DmpState.Active && IsNewer(input.Modified, existing.Modified))
                {
                    return await SupersededAsync(me, existing, input, newerWaiting!.InstanceId, newerWaiting.Modified, actor, subject, ct);
                }

                // An older version than the one in force (or being applied) gives way to it, like one older than a waiting version.
                if (existing.State == DmpState.Active && input.Modified is not null && IsNewer(existing.Modified, input.Modified))
                {
                    return await SupersededAsync(me, existing, input, existing.InstanceId, existing.Modified, actor, subject, ct);
                }

                return new RecordDmpResult(RecordDmpOutcome.AlreadyGoverned, existing.State, existing.Modified);

            case { State: DmpState.Pending }:
                // Another intake holds the record: give way to the same or a newer version, queue behind an older one.
                if (!IsNewer(input.Modified, existing.Modified))
                {
                    await LeaveQueueAsync(existing, me, ct);
                    return await SupersededAsync(me, existing, input, existing.InstanceId, existing.Modified, actor, subject, ct);
                }

                if (newerWaiting is not null)
                {
                    await LeaveQueueAsync(existing, me, ct);
                    return await SupersededAsync(me, existing, input, newerWaiting.InstanceId, newerWaiting.Modified, actor, subject, ct);
                }

                var older = others.Select(q => q.InstanceId).ToList();
                if (queue.All(q => q.InstanceId != me))
                {
                    await registry.UpsertDmpAsync(
                        existing with { Queue = [.. queue, new QueuedDmpVersion(me, input.Modified, input.At)] }, ct);
                }

                await audit.AppendAsync(
                    AuditEntries.Create(actor, "intake.queued", me, subject, input.At.UtcDateTime,
                        before: new { state = existing.State.ToString(), modified = existing.Modified, instanceId = existing.InstanceId },
                        after: new { modified = input.Modified, waitsFor = existing.InstanceId, supersedes = older },
                        discriminator: ":" + existing.InstanceId),
                    ct);
                return new RecordDmpResult(
                    RecordDmpOutcome.Queued, existing.State, existing.Modified, existing.InstanceId, existing.Modified, older);

            default:
                // Not governed, or the last intake ended Rejected or Failed: this version takes the record, unless a newer one waits.
                if (newerWaiting is not null)
                {
                    if (existing is not null)
                    {
                        await LeaveQueueAsync(existing, me, ct);
                    }

                    return await SupersededAsync(me, existing, input, newerWaiting.InstanceId, newerWaiting.Modified, actor, subject, ct);
                }

                var record = new DmpRecord
                {
                    DmpId = input.DmpId,
                    State = DmpState.Pending,
                    Modified = input.Modified,
                    Title = input.Title,
                    ContactEmail = input.ContactEmail,
                    InstanceId = me,
                    StateReason = "intake: awaiting approvals",
                    UpdatedAt = input.At,
                    ETag = existing?.ETag,

                    // The versions still waiting are older than this one: they give way when woken.
                    Queue = [],
                };
                await registry.UpsertDmpAsync(record, ct);
                await AppendRecordedAsync(me, existing, input, actor, subject, ct);
                return new RecordDmpResult(
                    RecordDmpOutcome.Recorded, existing?.State, existing?.Modified, Wake: [.. others.Select(q => q.InstanceId)]);
        }
    }

    /// <summary>
    /// This version's turn as an update of the version in force: the version is claimed for the update the intake hands
    /// it to (<see cref="UpdateDmpWorkflow.HandOverInstanceId"/>) in the same write that takes it out of the queue, as
    /// <see cref="ClaimDmpVersionActivity"/> would. Otherwise an older version whose turn came a moment later would see
    /// the plan in force unclaimed and be applied first, although a newer one had already taken its turn.
    /// </summary>
    private async Task<RecordDmpResult> ClaimForUpdateAsync(string me, DmpRecord existing, RecordDmpInput input, CancellationToken ct)
    {
        var update = UpdateDmpWorkflow.HandOverInstanceId(me);
        await registry.UpsertDmpAsync(existing with
        {
            Queue = [.. existing.Queue.Where(q => q.InstanceId != me)],
            Modified = input.Modified,
            InstanceId = update,
            UpdatedAt = input.At,
            StateReason = "update: version claimed",
        }, ct);

        // The entry of the update's own claim: the update appends it again with the same key, which the log keeps once.
        await audit.AppendAsync(
            AuditEntries.Create(
                GardienWorkflowOptions.SystemActor(nameof(UpdateDmpWorkflow)), "dmp.version_claimed", update,
                AuditEntries.DmpSubject(input.DmpId), input.At.UtcDateTime,
                before: new { modified = existing.Modified, instanceId = existing.InstanceId },
                after: new { modified = input.Modified }),
            ct);
        return new RecordDmpResult(RecordDmpOutcome.NeedsUpdate, existing.State, existing.Modified);
    }

    /// <summary>The single-use key that the intake writing a DMP's first record claims.</summary>
    internal static string FirstRecordKey(string dmpId) => "dmp-first-record:" + dmpId;

    /// <summary>
    /// Whether <paramref name="candidate"/> is a later version than <paramref name="current"/> (a version without a date is never later).
    /// </summary>
    internal static bool IsNewer(DateTimeOffset? candidate, DateTimeOffset? current) =>
        candidate is { } c && (current is not { } r || c > r);

    private Task<AuditReceipt> AppendRecordedAsync(
        string me,
        DmpRecord? before,
        RecordDmpInput input,
        string actor,
        string subject,
        CancellationToken ct) =>
        audit.AppendAsync(
            AuditEntries.Create(actor, "dmp.recorded", me, subject, input.At.UtcDateTime,
                before: before is null ? null : new { state = before.State.ToString(), modified = before.Modified },
                after: new { state = nameof(DmpState.Pending), modified = input.Modified }),
            ct);

    private async Task<RecordDmpResult> SupersededAsync(
        string me,
        DmpRecord? existing,
        RecordDmpInput input,
        string? by,
        DateTimeOffset? byModified,
        string actor,
        string subject,
        CancellationToken ct)
    {
        await audit.AppendAsync(
            AuditEntries.Create(actor, "intake.superseded", me, subject, input.At.UtcDateTime,
                before: existing is null
                    ? null
                    : new { state = existing.State.ToString(), modified = existing.Modified, instanceId = existing.InstanceId },
                after: new { modified = input.Modified, by, byModified }),
            ct);
        return new RecordDmpResult(RecordDmpOutcome.Superseded, existing?.State, existing?.Modified, by, byModified);
    }

    private async Task LeaveQueueAsync(DmpRecord existing, string me, CancellationToken ct)
    {
        if (existing.Queue.Any(q => q.InstanceId == me))
        {
            await registry.UpsertDmpAsync(existing with { Queue = [.. existing.Queue.Where(q => q.InstanceId != me)] }, ct);
        }
    }
}
