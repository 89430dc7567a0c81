using Gardien.Runtime.Engine;
namespace Gardien.Runtime.Storage;

/// <summary>
/// Durable state of a task hub: instances, their event-sourced history, the orchestration message queue (one logical
/// queue per instance) and the activity work-item queue. Modelled on Durable Task's <c>IOrchestrationService</c> /
/// <c>IOrchestrationServiceClient</c>; the engine (<see cref="WorkflowEngine"/>) owns every semantic decision, the store
/// only keeps and hands out data. See STORE-CONTRACT.md next to this file.
/// <para><b>Delivery.</b> Every message is delivered at least once. The engine tolerates duplicates: a completion whose
/// task id already completed in history, an ExecutionStarted for an instance that already has it, a message whose
/// <see cref="WorkflowMessage.ExecutionId"/> names an older execution are all discarded during the step. A store may
/// therefore always choose "send first, commit second" when it cannot do both atomically; it must never lose a
/// message once the call that sent it returned, and never make history visible whose outbound messages were not sent.</para>
/// <para><b>Leases.</b> A locked work item is invisible to other lockers until its lease ends (completion, abandon or
/// expiry by the store's clock). Two engines racing on one instance is resolved at commit: a completion made with a lost
/// lease (or a stale instance version / ETag) throws <see cref="WorkItemLockLostException"/> and changes nothing visible.</para>
/// <para><b>Time.</b> Visibility and lease expiry are measured with the store's <see cref="TimeProvider"/>, the same
/// one the engine uses, so that a fake clock drives durable timers in tests.</para>
/// </summary>
public interface IWorkflowStore
{
    /// <summary>
    /// Longest delay the store can hold a message invisible (Azure queues: 7 days); null when unlimited. The engine
    /// arms timers further away in hops no longer than this and re-arms when an early <c>TimerFired</c> arrives.
    /// </summary>
    TimeSpan? MaxMessageDelay { get; }

    /// <summary>Creates tables, queues, containers if missing. Idempotent.</summary>
    Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates an instance in <see cref="WorkflowStatus.Pending"/> with <paramref name="instance"/> as its row and
    /// enqueues <paramref name="executionStarted"/> (visible at its <see cref="WorkflowMessage.VisibleAt"/>).
    /// Idempotent: returns false and changes nothing visible when an instance with this id already exists (in any status,
    /// until purged). May leave a duplicate ExecutionStarted message behind when racing (the engine discards it).
    /// </summary>
    Task<bool> CreateInstanceAsync(
        WorkflowInstanceState instance,
        WorkflowMessage executionStarted,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Enqueues a message for <see cref="WorkflowMessage.InstanceId"/> (event, terminate, suspend, resume...). The
    /// instance need not exist: the engine discards messages to instances that do not exist or have ended.
    /// </summary>
    Task SendMessageAsync(WorkflowMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits (up to <paramref name="receiveTimeout"/>, measured as the store likes: polling or signalling) for an instance
    /// that has at least one visible message and is not locked, locks it for <paramref name="lockDuration"/> and returns
    /// its row, its current history and all its visible messages (each message's dequeue count incremented).
    /// Null when nothing arrived in time; throws <see cref="OperationCanceledException"/> when cancelled.
    /// Per instance there is at most one live work item at a time.
    /// </summary>
    Task<WorkflowWorkItem?> LockNextWorkflowWorkItemAsync(
        TimeSpan lockDuration,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken);

    /// <summary>Extends the lease of a work item still held; throws <see cref="WorkItemLockLostException"/> when lost.</summary>
    Task RenewWorkflowWorkItemAsync(WorkflowWorkItem workItem, TimeSpan lockDuration, CancellationToken cancellationToken = default);

    /// <summary>
    /// Commits one step, all or nothing as far as readers can tell:
    /// <list type="number">
    /// <item>sends <see cref="WorkflowStepResult.ActivityMessages"/> to the activity queue and
    /// <see cref="WorkflowStepResult.WorkflowMessages"/> to their instances (each visible at its VisibleAt; an
    /// ExecutionStarted to an instance that does not exist creates it as <see cref="CreateInstanceAsync"/> does, from
    /// <see cref="WorkflowStepResult.NewInstances"/>);</item>
    /// <item>appends <see cref="WorkflowStepResult.NewHistory"/> (or, when <see cref="WorkflowStepResult.ReplaceHistory"/>,
    /// replaces the whole history: ContinueAsNew) and replaces the instance row with <see cref="WorkflowStepResult.State"/>,
    /// conditional on the instance not having changed since the lock (ETag);</item>
    /// <item>deletes exactly the messages of the work item (not ones that arrived after the lock) and releases the lock.</item>
    /// </list>
    /// Throws <see cref="WorkItemLockLostException"/> when the lease was lost or the instance changed: nothing of 2 and 3
    /// happened (messages of 1 may have been sent; the engine dedups them on replay).
    /// </summary>
    Task CompleteWorkflowWorkItemAsync(WorkflowWorkItem workItem, WorkflowStepResult result, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases the lock without committing: the work item's messages become visible again after <paramref name="retryDelay"/>,
    /// keeping their incremented dequeue counts (so a message that always fails becomes poison). <paramref name="reason"/>
    /// is kept with the messages (best effort) and reported back in <see cref="WorkflowMessageEnvelope.LastError"/>.
    /// Ignores a lost lock.
    /// </summary>
    Task AbandonWorkflowWorkItemAsync(
        WorkflowWorkItem workItem,
        string? reason,
        TimeSpan retryDelay,
        CancellationToken cancellationToken = default);

    /// <summary>Like <see cref="LockNextWorkflowWorkItemAsync"/> for the shared activity queue: one message, leased.</summary>
    Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(
        TimeSpan lockDuration,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken);

    Task RenewActivityWorkItemAsync(ActivityWorkItem workItem, TimeSpan lockDuration, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends <paramref name="response"/> (TaskCompleted / TaskFailed) to the scheduling instance, then deletes the
    /// activity message. Response first: a crash in between redelivers the activity (at-least-once) and the duplicate
    /// response is discarded by the engine. Throws <see cref="WorkItemLockLostException"/> when the delete fails because
    /// the lease was lost (the response may still have been sent; harmless).
    /// </summary>
    Task CompleteActivityWorkItemAsync(ActivityWorkItem workItem, WorkflowMessage response, CancellationToken cancellationToken = default);

    Task AbandonActivityWorkItemAsync(
        ActivityWorkItem workItem,
        string? reason,
        TimeSpan retryDelay,
        CancellationToken cancellationToken = default);

    /// <summary>The instance row; null when it does not exist.</summary>
    Task<WorkflowInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>The committed history of the current execution, in order; empty when none.</summary>
    Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Instances matching the query (statuses, created range, id prefix; <see cref="WorkflowQuery.FetchInputsAndOutputs"/> is
    /// the client's concern), ordered by a store-defined stable order, one page at a time.
    /// </summary>
    Task<WorkflowInstancePage> QueryInstancesAsync(WorkflowQuery filter, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the instance row, its history, large payloads and pending messages, only when its status is terminal
    /// (Completed, Failed, Terminated) at the time of deletion. True when something was deleted.
    /// </summary>
    Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Approximate counts for the queue-depth gauge; cheap, may be stale.</summary>
    Task<WorkflowQueueDepth> GetQueueDepthAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// True when some message could be locked right now: a workflow or activity message that is due by the store's
    /// clock and not leased, including messages this store object received and holds for a worker. Messages due
    /// in the future (durable timers, retry delays) and leased messages do not count. Used by
    /// <see cref="WorkflowEngine.WaitForIdleAsync"/>; may err towards true, never towards false for a message sent
    /// before the call.
    /// </summary>
    Task<bool> HasReadyWorkAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes visible again (at once, best effort) every message this store object received and holds for a worker but
    /// never handed out, so that a stopped process does not hide work for a lease period. Called by
    /// <see cref="WorkflowEngine.StopAsync"/> once its dispatchers have stopped; the store stays usable.
    /// </summary>
    Task ReleaseUnclaimedMessagesAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Thrown when a work item's lease was lost or its instance was changed by someone else; the step is retried from scratch.
/// </summary>
public sealed class WorkItemLockLostException : Exception
{
    public WorkItemLockLostException()
        : this("The work item's lease was lost.")
    {
    }

    public WorkItemLockLostException(string message)
        : base(message)
    {
    }

    public WorkItemLockLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
