using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Intake;

/// <param name="Owner">The intake the waiting version was queued behind.</param>
public sealed record CheckQueueOwnerInput(string DmpId, string Owner, DateTimeOffset At);

/// <param name="OwnerEnded">True when the waiting version should decide again (the owner is gone or no longer holds the record).</param>
public sealed record QueueOwnerCheck(bool OwnerEnded, string? Reason);

/// <summary>
/// The watchdog of a queued version. The intake it waits for wakes it when it ends, but an intake stopped from outside
/// (terminated by an operator, or failed by a defect) ends without recording its outcome: the record would stay Pending
/// in its name and the queue would wait forever. When that intake has ended, its record is marked Failed (ETag-checked,
/// so an intake that finished meanwhile wins) and audited as an alert, because what it provisioned or granted before it
/// was stopped was not undone; the waiting version then takes its turn as after any failed intake.
/// </summary>
public sealed class CheckQueueOwnerActivity(IWorkflowClient client, IGovernanceRegistry registry, IAuditLog audit)
    : Activity<CheckQueueOwnerInput, QueueOwnerCheck>
{
    public override async Task<QueueOwnerCheck> RunAsync(ActivityContext context, CheckQueueOwnerInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var record = await registry.GetDmpAsync(input.DmpId, ct);
        var subject = AuditEntries.DmpSubject(input.DmpId);
        var actor = GardienWorkflowOptions.SystemActor(nameof(IntakeDmpWorkflow));
        if (record is not { State: DmpState.Pending } || record.InstanceId != input.Owner)
        {
            // The owner let go of the record; its wake-up did not arrive (or is on its way): decide again.
            return new QueueOwnerCheck(true, "the intake waited for no longer holds the DMP");
        }

        var owner = await client.GetInstanceAsync(input.Owner, getInputsAndOutputs: false, cancellationToken: ct);
        if (owner is { IsCompleted: false })
        {
            return new QueueOwnerCheck(false, null);
        }

        var status = owner?.Status.ToString() ?? "purged";
        var reason = $"the intake {input.Owner} ended ({status}) without recording its outcome, e.g. terminated by an operator; "
            + "what it provisioned or granted was not undone: check the DMP's containers and grants";
        var failed = record with { State = DmpState.Failed, StateReason = reason, UpdatedAt = input.At };
        await registry.UpsertDmpAsync(failed, ct);
        await audit.AppendAsync(
            AuditEntries.Create(actor, "intake.owner_lost", context.InstanceId, subject, input.At.UtcDateTime,
                before: new { state = nameof(DmpState.Pending), instanceId = input.Owner, modified = record.Modified },
                after: new { state = nameof(DmpState.Failed), ownerStatus = status, reason },
                discriminator: ":" + input.Owner),
            ct);
        return new QueueOwnerCheck(true, reason);
    }
}
