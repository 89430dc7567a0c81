using Gardien.Runtime;

namespace Gardien.Workflows.Retention;

/// <param name="Started">False when an instance with this id already existed (any status, until purged).</param>
/// <param name="ExistingStatus">Status of the instance that already existed.</param>
public sealed record StartedInstance(string InstanceId, bool Started, string? ExistingStatus);

/// <summary>Start-once semantics shared by the activities that open long-lived instances (cases, sweeps, reviews).</summary>
public static class WorkflowStarts
{
    /// <summary>
    /// Starts <paramref name="workflowName"/> as <paramref name="instanceId"/> unless that instance exists. The client's
    /// <c>ScheduleNewAsync</c> is idempotent per id anyway; the look-up only tells the caller whether this call started it.
    /// </summary>
    public static async Task<StartedInstance> StartOnceAsync(
        IWorkflowClient client,
        string workflowName,
        object input,
        string instanceId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken: cancellationToken);
        if (existing is not null)
        {
            return new StartedInstance(instanceId, false, existing.Status.ToString());
        }

        await client.ScheduleNewAsync(workflowName, input, instanceId, cancellationToken: cancellationToken);
        return new StartedInstance(instanceId, true, null);
    }
}

/// <summary>
/// Starts the sweep of one day as its own instance (<c>retention-sweep-yyyyMMdd</c>); a second start that day joins the first.
/// </summary>
public sealed class StartRetentionSweepActivity(IWorkflowClient client) : Activity<DateOnly, StartedInstance>
{
    public override Task<StartedInstance> RunAsync(ActivityContext context, DateOnly input)
    {
        ArgumentNullException.ThrowIfNull(context);
        return WorkflowStarts.StartOnceAsync(
            client,
            nameof(RetentionSweepWorkflow),
            new RetentionSweepInput(input),
            RetentionSweepWorkflow.InstanceIdFor(input),
            context.CancellationToken);
    }
}
