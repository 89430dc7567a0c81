using Gardien.Runtime.Storage;

namespace Gardien.Runtime.Tests;

/// <summary>Passes every call to an inner store; tests override members to inject faults or observe traffic.</summary>
public class DelegatingWorkflowStore(IWorkflowStore inner) : IWorkflowStore
{
    public IWorkflowStore Inner { get; } = inner;

    public virtual TimeSpan? MaxMessageDelay => Inner.MaxMessageDelay;

    public virtual Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) =>
        Inner.CreateIfNotExistsAsync(cancellationToken);

    public virtual Task<bool> CreateInstanceAsync(
        WorkflowInstanceState instance,
        WorkflowMessage executionStarted,
        CancellationToken cancellationToken = default) =>
        Inner.CreateInstanceAsync(instance, executionStarted, cancellationToken);

    public virtual Task SendMessageAsync(WorkflowMessage message, CancellationToken cancellationToken = default) =>
        Inner.SendMessageAsync(message, cancellationToken);

    public virtual Task<WorkflowWorkItem?> LockNextWorkflowWorkItemAsync(
        TimeSpan lockDuration,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken) =>
        Inner.LockNextWorkflowWorkItemAsync(lockDuration, receiveTimeout, cancellationToken);

    public virtual Task RenewWorkflowWorkItemAsync(
        WorkflowWorkItem workItem,
        TimeSpan lockDuration,
        CancellationToken cancellationToken = default) =>
        Inner.RenewWorkflowWorkItemAsync(workItem, lockDuration, cancellationToken);

    public virtual Task CompleteWorkflowWorkItemAsync(
        WorkflowWorkItem workItem,
        WorkflowStepResult result,
        CancellationToken cancellationToken = default) =>
        Inner.CompleteWorkflowWorkItemAsync(workItem, result, cancellationToken);

    public virtual Task AbandonWorkflowWorkItemAsync(
        WorkflowWorkItem workItem,
        string? reason,
        TimeSpan retryDelay,
        CancellationToken cancellationToken = default) =>
        Inner.AbandonWorkflowWorkItemAsync(workItem, reason, retryDelay, cancellationToken);

    public virtual Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(
        TimeSpan lockDuration,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken) =>
        Inner.LockNextActivityWorkItemAsync(lockDuration, receiveTimeout, cancellationToken);

    public virtual Task RenewActivityWorkItemAsync(
        ActivityWorkItem workItem,
        TimeSpan lockDuration,
        CancellationToken cancellationToken = default) =>
        Inner.RenewActivityWorkItemAsync(workItem, lockDuration, cancellationToken);

    public virtual Task CompleteActivityWorkItemAsync(
        ActivityWorkItem workItem,
        WorkflowMessage response,
        CancellationToken cancellationToken = default) =>
        Inner.CompleteActivityWorkItemAsync(workItem, response, cancellationToken);

    public virtual Task AbandonActivityWorkItemAsync(
        ActivityWorkItem workItem,
        string? reason,
        TimeSpan retryDelay,
        CancellationToken cancellationToken = default) =>
        Inner.AbandonActivityWorkItemAsync(workItem, reason, retryDelay, cancellationToken);

    public virtual Task<WorkflowInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default) =>
        Inner.GetInstanceAsync(instanceId, cancellationToken);

    public virtual Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default) =>
        Inner.GetHistoryAsync(instanceId, cancellationToken);

    public virtual Task<WorkflowInstancePage> QueryInstancesAsync(WorkflowQuery filter, CancellationToken cancellationToken = default) =>
        Inner.QueryInstancesAsync(filter, cancellationToken);

    public virtual Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default) =>
        Inner.PurgeInstanceAsync(instanceId, cancellationToken);

    public virtual Task<WorkflowQueueDepth> GetQueueDepthAsync(CancellationToken cancellationToken = default) =>
        Inner.GetQueueDepthAsync(cancellationToken);

    public virtual Task<bool> HasReadyWorkAsync(CancellationToken cancellationToken = default) =>
        Inner.HasReadyWorkAsync(cancellationToken);

    public virtual Task ReleaseUnclaimedMessagesAsync(CancellationToken cancellationToken = default) =>
        Inner.ReleaseUnclaimedMessagesAsync(cancellationToken);
}
