using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Intake;

/// <param name="PlanJson">The plan now in force (GovernanceJson form); null keeps the recorded one.</param>
/// <param name="Modified">The DMP version now in force; null keeps the recorded one.</param>
/// <param name="NotEnforcedLocally">Features recorded but not enforced by the platform; with <paramref name="RequireOwnership"/> (updates)
/// added to the recorded ones, otherwise replacing them.</param>
/// <param name="RequireOwnership">Only write when the record was last claimed by this instance (an update superseded by a newer one must
/// not win).</param>
public sealed record SetDmpStateInput(
    string DmpId,
    DmpState State,
    string Reason,
    DateTimeOffset At,
    string Actor,
    string? PlanJson = null,
    DateTimeOffset? Modified = null,
    IReadOnlyList<NotEnforcedFeature>? NotEnforcedLocally = null,
    bool RequireOwnership = false,
    string? Title = null,
    string? ContactEmail = null);

/// <param name="Applied">False when ownership was required and another instance has claimed the DMP since.</param>
/// <param name="Waiting">Versions queued behind this instance (<see cref="DmpRecord.Queue"/>) when it leaves the Pending
/// state: the workflow wakes each of them (<see cref="IntakeDmpWorkflow.TurnEventName"/>). They stay in the record until
/// they take their turn, so a redelivery returns them again.</param>
public sealed record SetDmpStateResult(bool Applied, DmpState State, IReadOnlyList<string>? Waiting = null);

/// <summary>Moves a DMP to a new state in the registry (ETag-checked read-modify-write) and audits the transition.</summary>
public sealed class SetDmpStateActivity(IGovernanceRegistry registry, IAuditLog audit) : Activity<SetDmpStateInput, SetDmpStateResult>
{
    public override async Task<SetDmpStateResult> RunAsync(ActivityContext context, SetDmpStateInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var existing = await registry.GetDmpAsync(input.DmpId, ct);
        if (input.RequireOwnership && existing is not null && existing.InstanceId != context.InstanceId)
        {
            return new SetDmpStateResult(false, existing.State);
        }

        var record = existing is null
            ? new DmpRecord { DmpId = input.DmpId, State = input.State }
            : existing;
        record = record with
        {
            State = input.State,
            StateReason = input.Reason,
            InstanceId = context.InstanceId,
            UpdatedAt = input.At,
            ActivePlanJson = input.PlanJson ?? record.ActivePlanJson,
            Modified = input.Modified ?? record.Modified,
            // An update adds features (new datasets, grants) to those the plan already could not enforce; none is forgotten.
            NotEnforcedLocally = input.NotEnforcedLocally is null ? record.NotEnforcedLocally
                : input.RequireOwnership
                    ? [.. record.NotEnforcedLocally.Concat(input.NotEnforcedLocally).DistinctBy(f => f.Feature)
                        .OrderBy(f => f.Feature, StringComparer.Ordinal)]
                : input.NotEnforcedLocally,
            Title = input.Title ?? record.Title,
            ContactEmail = input.ContactEmail ?? record.ContactEmail,
        };

        // The ETag read above makes the write conditional: a concurrent writer fails us and the retry re-reads.
        await registry.UpsertDmpAsync(record, ct);
        await audit.AppendAsync(
            AuditEntries.Create(
                input.Actor, "dmp.state_changed", context.InstanceId, AuditEntries.DmpSubject(input.DmpId), input.At.UtcDateTime,
                before: existing is null ? null : new { state = existing.State.ToString(), modified = existing.Modified },
                after: new { state = input.State.ToString(), reason = input.Reason, modified = record.Modified },
                discriminator: ":" + input.State),
            ct);
        return new SetDmpStateResult(true, input.State, input.State == DmpState.Pending ? [] : [.. record.Queue.Select(q => q.InstanceId)]);
    }
}
