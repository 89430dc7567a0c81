namespace Gardien.Runtime.Storage;

/// <summary>
/// A message to an instance (its orchestration queue) or, for <see cref="HistoryEventType.TaskScheduled"/> messages,
/// to the activity queue. <see cref="MessageId"/> is unique per logical message and stable across redeliveries.
/// </summary>
public sealed record WorkflowMessage(string InstanceId, HistoryEvent Event)
{
    public string MessageId { get; init; } = Guid.NewGuid().ToString("N");

    /// <summary>Execution the message belongs to (completions, timers); null for events that go to whatever execution runs.</summary>
    public string? ExecutionId { get; init; }

    /// <summary>Not delivered before this time (store clock); null = now. Timers and delayed starts use it.</summary>
    public DateTimeOffset? VisibleAt { get; init; }
}

/// <summary>A delivered message with the store's delivery data.</summary>
public sealed record WorkflowMessageEnvelope(WorkflowMessage Message, int DequeueCount)
{
    /// <summary>Reason given by the last abandon, when the store kept it.</summary>
    public string? LastError { get; init; }
}

/// <summary>
/// The instance row: what queries and the client see. The history is the source of truth for the engine; the row is
/// written with every step, in the same commit.
/// </summary>
public sealed record WorkflowInstanceState(string InstanceId, string Name)
{
    public string? Version { get; init; }

    public string? ExecutionId { get; init; }

    public WorkflowStatus Status { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastUpdatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Requested start time of a delayed start.</summary>
    public DateTimeOffset? ScheduledStartAt { get; init; }

    public string? ParentInstanceId { get; init; }

    public string? Input { get; init; }

    public string? Output { get; init; }

    public string? CustomStatus { get; init; }

    public TaskFailureDetails? FailureDetails { get; init; }
}

/// <summary>
/// A locked instance: its row and history as of the lock, and the messages to process. <see cref="LockToken"/> and
/// <see cref="StoreState"/> are the store's (ETag, pop receipts...); the engine never looks inside them.
/// </summary>
public sealed class WorkflowWorkItem(
    string instanceId,
    WorkflowInstanceState? instance,
    IReadOnlyList<HistoryEvent> history,
    IReadOnlyList<WorkflowMessageEnvelope> messages,
    string lockToken,
    DateTimeOffset lockedUntil)
{
    public string InstanceId { get; } = instanceId;

    /// <summary>Null when messages arrived for an instance that does not exist (the engine discards them).</summary>
    public WorkflowInstanceState? Instance { get; } = instance;

    public IReadOnlyList<HistoryEvent> History { get; } = history;

    public IReadOnlyList<WorkflowMessageEnvelope> Messages { get; } = messages;

    public string LockToken { get; } = lockToken;

    public DateTimeOffset LockedUntil { get; set; } = lockedUntil;

    /// <summary>Opaque store data (ETag, pop receipts).</summary>
    public object? StoreState { get; set; }
}

/// <summary>What one step commits (see <see cref="IWorkflowStore.CompleteWorkflowWorkItemAsync"/>).</summary>
/// <param name="State">The new instance row; null only when the work item's instance does not exist (its messages are just
/// consumed).</param>
public sealed record WorkflowStepResult(WorkflowInstanceState? State)
{
    /// <summary>Events to append after the existing history (or the whole new history when <see cref="ReplaceHistory"/>).</summary>
    public IReadOnlyList<HistoryEvent> NewHistory { get; init; } = [];

    /// <summary>ContinueAsNew: the old execution's history is dropped and <see cref="NewHistory"/> becomes the history.</summary>
    public bool ReplaceHistory { get; init; }

    /// <summary>TaskScheduled messages for the activity queue.</summary>
    public IReadOnlyList<WorkflowMessage> ActivityMessages { get; init; } = [];

    /// <summary>
    /// Messages to instances: timers (to self, delayed), sub-workflow starts, completions to the parent, sent events, re-queued messages.
    /// </summary>
    public IReadOnlyList<WorkflowMessage> WorkflowMessages { get; init; } = [];

    /// <summary>
    /// Rows of instances created by ExecutionStarted messages in <see cref="WorkflowMessages"/> (sub-workflows), created only if absent.
    /// </summary>
    public IReadOnlyList<WorkflowInstanceState> NewInstances { get; init; } = [];
}

/// <summary>A leased activity message (a TaskScheduled event of <see cref="Message"/>'s instance).</summary>
public sealed class ActivityWorkItem(WorkflowMessage message, int dequeueCount, string lockToken, DateTimeOffset lockedUntil)
{
    public WorkflowMessage Message { get; } = message;

    public int DequeueCount { get; } = dequeueCount;

    public string LockToken { get; } = lockToken;

    public DateTimeOffset LockedUntil { get; set; } = lockedUntil;

    public string? LastError { get; init; }

    /// <summary>Opaque store data (pop receipt).</summary>
    public object? StoreState { get; set; }
}

public sealed record WorkflowInstancePage(IReadOnlyList<WorkflowInstanceState> Instances, string? ContinuationToken);

/// <summary>Messages waiting (visible or not) in the orchestration and activity queues.</summary>
public sealed record WorkflowQueueDepth(long WorkflowMessages, long ActivityMessages);

/// <summary>
/// Optional store capability: wakes waiters when an instance commits, so that <see cref="IWorkflowClient.WaitForCompletionAsync"/>
/// does not have to poll. Stores without it are polled.
/// </summary>
public interface IWorkflowStoreChangeNotifier
{
    /// <summary>
    /// Completes at the next commit that may have changed <paramref name="instanceId"/>'s status (all that
    /// <see cref="IWorkflowClient.WaitForCompletionAsync"/> and <c>WaitForStartAsync</c> wait for); stores may wake
    /// more often, and must wake now and then so that commits made by other processes are seen.
    /// </summary>
    Task WaitForInstanceChangeAsync(string instanceId, CancellationToken cancellationToken);
}
