using Gardien.Runtime;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;

namespace Gardien.Workflows.Access;

/// <param name="Started">Instance ids of the access reviews this call started.</param>
/// <param name="ActiveDmps">Active DMPs seen (each has its review instance now).</param>
public sealed record AccessReviewsEnsured(int ActiveDmps, IReadOnlyList<string> Started);

/// <summary>
/// Makes sure every active DMP has its <see cref="AccessReviewWorkflow"/> instance (one per DMP, deterministic id), so
/// that reviews run whatever path made the DMP active (intake, update, restore). A review that already ended (access
/// ended at project end + grace) is not restarted: the client never starts an id twice until purged.
/// </summary>
public sealed class EnsureAccessReviewsActivity(
    IWorkflowClient client,
    IGovernanceRegistry registry) : Activity<string?, AccessReviewsEnsured>
{
    public override async Task<AccessReviewsEnsured> RunAsync(ActivityContext context, string? input)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ct = context.CancellationToken;
        var active = await registry.ListDmpsAsync(DmpState.Active, ct);
        var started = new List<string>();
        foreach (var dmp in active.OrderBy(d => d.DmpId, StringComparer.Ordinal))
        {
            var result = await WorkflowStarts.StartOnceAsync(
                client, nameof(AccessReviewWorkflow), new AccessReviewInput(dmp.DmpId), AccessReviewWorkflow.InstanceIdFor(dmp.DmpId), ct);
            if (result.Started)
            {
                started.Add(result.InstanceId);
            }
        }

        return new AccessReviewsEnsured(active.Count, started);
    }
}
