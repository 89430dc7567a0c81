using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Hosting;

/// <summary>A workflow instance waiting for the damaged audit trail to be repaired, with what the log said to repair.</summary>
public sealed record AuditTrailWaiter(string InstanceId, string Workflow, string? Damage);

/// <param name="Verification">The trail's verification; null when nobody was waiting (the trail was not read).</param>
/// <param name="Waiting">The instances that wait for the trail.</param>
/// <param name="Resumed">Those told that the trail verifies again (all of them, or none while it is still broken).</param>
public sealed record AuditTrailResumption(
    AuditVerification? Verification,
    IReadOnlyList<AuditTrailWaiter> Waiting,
    IReadOnlyList<string> Resumed);

/// <summary>
/// Resumes the workflows that stopped at an audited step because the audit trail is damaged
/// (<see cref="AuditTrail"/>): once the whole chain verifies again, each of them gets
/// <see cref="AuditTrail.RepairedEventName"/> and runs its step again. For hosts: the CLI does it at every command and
/// after <c>gardien audit verify</c>; an Azure host can do it on a timer. The waiting instances also try again on their
/// own every <see cref="AuditTrail.RecheckEvery"/>.
/// </summary>
public sealed class AuditTrailService(IWorkflowClient client, IAuditLog audit)
{
    private sealed record StageView(string? Stage, string? Detail, string? LastRefusal);

    /// <summary>The running instances that wait for the trail.</summary>
    public async Task<IReadOnlyList<AuditTrailWaiter>> ListWaitingAsync(CancellationToken cancellationToken = default)
    {
        var waiting = new List<AuditTrailWaiter>();
        var query = new WorkflowQuery { Statuses = [WorkflowStatus.Running] };
        while (true)
        {
            var page = await client.QueryInstancesAsync(query, cancellationToken).ConfigureAwait(false);
            foreach (var instance in page.Instances)
            {
                if (Stage(instance) is { Stage: AuditTrail.WaitingStage } view)
                {
                    waiting.Add(new AuditTrailWaiter(instance.InstanceId, instance.Name, view.Detail ?? view.LastRefusal));
                }
            }

            if (page.ContinuationToken is null)
            {
                return waiting;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }
    }

    /// <summary>When instances wait for the trail: verifies it, and if it is intact tells them to carry on.</summary>
    public async Task<AuditTrailResumption> ResumeIfRepairedAsync(CancellationToken cancellationToken = default)
    {
        var waiting = await ListWaitingAsync(cancellationToken).ConfigureAwait(false);
        if (waiting.Count == 0)
        {
            return new AuditTrailResumption(null, [], []);
        }

        var verification = await audit.VerifyAsync(cancellationToken).ConfigureAwait(false);
        if (!verification.Intact)
        {
            return new AuditTrailResumption(verification, waiting, []);
        }

        foreach (var waiter in waiting)
        {
            await client.RaiseEventAsync(waiter.InstanceId, AuditTrail.RepairedEventName, null, cancellationToken).ConfigureAwait(false);
        }

        return new AuditTrailResumption(verification, waiting, [.. waiting.Select(w => w.InstanceId)]);
    }

    private static StageView? Stage(WorkflowMetadata instance)
    {
        if (instance.SerializedCustomStatus is null
            || !instance.SerializedCustomStatus.Contains(AuditTrail.WaitingStage, StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return instance.ReadCustomStatusAs<StageView>();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
