namespace Gardien.Runtime;

/// <summary>History event kinds, named as Durable Task names them.</summary>
public enum HistoryEventType
{
    ExecutionStarted = 0,
    ExecutionCompleted = 1,
    ExecutionTerminated = 2,
    ExecutionSuspended = 3,
    ExecutionResumed = 4,
    ContinueAsNew = 5,
    OrchestratorStarted = 6,
    OrchestratorCompleted = 7,
    TaskScheduled = 8,
    TaskCompleted = 9,
    TaskFailed = 10,
    TimerCreated = 11,
    TimerFired = 12,
    EventRaised = 13,
    EventSent = 14,
    SubOrchestrationInstanceCreated = 15,
    SubOrchestrationInstanceCompleted = 16,
    SubOrchestrationInstanceFailed = 17,

    /// <summary>A wake-up with no meaning for workflow code (e.g. the engine re-arming a long timer).</summary>
    GenericEvent = 18,
}

/// <summary>
/// One event of an instance's event-sourced history, or the payload of a message sent to an instance or an activity
/// worker. Flat on purpose (one shape for every <see cref="EventType"/>, unused members null) so that a store can keep
/// it as one table row. Field use follows Durable Task:
/// <list type="bullet">
/// <item>Action events (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated, EventSent) carry the task id in <see cref="EventId"/>.</item>
/// <item>Completion events (TaskCompleted/Failed, TimerFired, SubOrchestrationInstanceCompleted/Failed) point back at it with <see cref="TaskScheduledId"/>.</item>
/// <item>Payloads (<see cref="Input"/>, <see cref="Result"/>) are already serialised by the <see cref="IWorkflowSerializer"/>.</item>
/// </list>
/// </summary>
public sealed record HistoryEvent
{
    public HistoryEvent(HistoryEventType eventType, DateTime timestamp, int eventId = -1)
    {
        EventType = eventType;
        Timestamp = timestamp;
        EventId = eventId;
    }

    public HistoryEventType EventType { get; init; }

    /// <summary>Task id of an action event; -1 otherwise.</summary>
    public int EventId { get; init; }

    /// <summary>UTC time the event was produced.</summary>
    public DateTime Timestamp { get; init; }

    /// <summary>Workflow, activity or event name.</summary>
    public string? Name { get; init; }

    public string? Version { get; init; }

    /// <summary>ExecutionStarted: the instance; SubOrchestrationInstanceCreated / EventSent: the target instance.</summary>
    public string? InstanceId { get; init; }

    /// <summary>ExecutionStarted / SubOrchestrationInstanceCreated: execution id of the (new) execution.</summary>
    public string? ExecutionId { get; init; }

    /// <summary>Serialised input (ExecutionStarted, TaskScheduled, SubOrchestrationInstanceCreated, EventRaised, EventSent, ContinueAsNew).</summary>
    public string? Input { get; init; }

    /// <summary>Serialised result (TaskCompleted, SubOrchestrationInstanceCompleted, ExecutionCompleted, ExecutionTerminated).</summary>
    public string? Result { get; init; }

    /// <summary>TaskFailed, SubOrchestrationInstanceFailed, failed ExecutionCompleted.</summary>
    public TaskFailureDetails? FailureDetails { get; init; }

    /// <summary>Completion events: the <see cref="EventId"/> of the action they complete; -1 otherwise.</summary>
    public int TaskScheduledId { get; init; } = -1;

    /// <summary>TimerCreated / TimerFired: when the timer fires.</summary>
    public DateTime? FireAt { get; init; }

    /// <summary>ExecutionStarted: the start time requested by the client (null = now).</summary>
    public DateTime? ScheduledStartTime { get; init; }

    /// <summary>ExecutionCompleted: Completed or Failed.</summary>
    public WorkflowStatus? Status { get; init; }

    /// <summary>ExecutionTerminated / Suspended / Resumed: the caller's reason.</summary>
    public string? Reason { get; init; }

    /// <summary>ExecutionStarted of a sub-workflow: the parent instance, execution and the task id awaiting it.</summary>
    public string? ParentInstanceId { get; init; }

    public string? ParentExecutionId { get; init; }

    public int ParentTaskId { get; init; } = -1;

    public override string ToString() =>
        EventId >= 0 ? $"{EventType} '{Name}' (#{EventId})"
        : TaskScheduledId >= 0 ? $"{EventType} (for #{TaskScheduledId})"
        : Name is null ? EventType.ToString() : $"{EventType} '{Name}'";
}
