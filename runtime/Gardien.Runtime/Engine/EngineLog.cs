using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.Engine;

internal static partial class EngineLog
{
    [LoggerMessage(1, LogLevel.Information, "Workflow engine started: {WorkflowLoops} step loops, {ActivitySlots} activity slots.")]
    public static partial void EngineStarted(ILogger logger, int workflowLoops, int activitySlots);

    [LoggerMessage(2, LogLevel.Information, "Workflow engine stopped.")]
    public static partial void EngineStopped(ILogger logger);

    [LoggerMessage(3, LogLevel.Warning, "Store call failed in the {Loop} loop; retrying after a backoff.")]
    public static partial void StoreFailed(ILogger logger, string loop, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Workflow instance {InstanceId} ({WorkflowName} v{Version}) is now {Status}.")]
    public static partial void InstanceStatus(
        ILogger logger,
        string instanceId,
        string workflowName,
        string? version,
        WorkflowStatus status);

    [LoggerMessage(5, LogLevel.Debug, "Discarded message {EventType} for workflow instance {InstanceId}: {Reason}.")]
    public static partial void Discarded(ILogger logger, HistoryEventType eventType, string instanceId, string reason);

    [LoggerMessage(6, LogLevel.Warning, "Lost the lease on workflow instance {InstanceId}; another worker will redo the step.")]
    public static partial void StepLockLost(ILogger logger, string instanceId, Exception exception);

    [LoggerMessage(7, LogLevel.Error, "Step of workflow instance {InstanceId} failed; abandoned for retry (dequeue count {DequeueCount}).")]
    public static partial void StepFailed(ILogger logger, string instanceId, int dequeueCount, Exception exception);

    [LoggerMessage(
        8,
        LogLevel.Warning,
        "Lost the lease on activity {ActivityName} #{TaskId} of workflow instance {InstanceId}; "
        + "its result is discarded if it was redelivered.")]
    public static partial void ActivityLockLost(ILogger logger, string? activityName, int taskId, string instanceId, Exception exception);

    [LoggerMessage(
        9, LogLevel.Error, "Could not complete activity {ActivityName} #{TaskId} of workflow instance {InstanceId}; abandoned for retry.")]
    public static partial void ActivityCompleteFailed(
        ILogger logger,
        string? activityName,
        int taskId,
        string instanceId,
        Exception exception);

    [LoggerMessage(10, LogLevel.Error, "Workflow instance {InstanceId} failed: {Failure}")]
    public static partial void InstanceFailed(ILogger logger, string instanceId, string failure);

    [LoggerMessage(11, LogLevel.Warning, "Activity {ActivityName} #{TaskId} of workflow instance {InstanceId} failed: {Error}")]
    public static partial void ActivityFailed(ILogger logger, string? activityName, int taskId, string instanceId, string error);
}
