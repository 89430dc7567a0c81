namespace Gardien.Runtime;

/// <summary>History event kinds, named as Durable Task names them.</summary>
public enum HistoryEventType
{
    /// <summary>The execution started: its input, version and parent.</summary>
    ExecutionStarted = 0,
    /// <summary>The execution ended, completed or failed.</summary>
    ExecutionCompleted = 1,
    /// <summary>A client terminated the execution.</summary>
    ExecutionTerminated = 2,
    /// <summary>A client suspended the execution.</summary>
    ExecutionSuspended = 3,
    /// <summary>A client resumed the execution.</summary>
    ExecutionResumed = 4,
    /// <summary>The execution restarted itself with new input.</summary>
    ContinueAsNew = 5,
    /// <summary>A step started; its timestamp is the replay-safe current time of the step.</summary>
    OrchestratorStarted = 6,
    /// <summary>A step ended and its actions were committed.</summary>
    OrchestratorCompleted = 7,
    /// <summary>The code called an activity.</summary>
    TaskScheduled = 8,
    /// <summary>An activity returned a result.</summary>
    TaskCompleted = 9,
    /// <summary>An activity failed.</summary>
    TaskFailed = 10,
    /// <summary>The code created a durable timer.</summary>
    TimerCreated = 11,
    /// <summary>A durable timer fired.</summary>
    TimerFired = 12,
    /// <summary>An event was raised on the instance.</summary>
    EventRaised = 13,
    /// <summary>The code raised an event on another instance.</summary>
    EventSent = 14,
    /// <summary>The code started a sub-workflow.</summary>
    SubOrchestrationInstanceCreated = 15,
    /// <summary>A sub-workflow completed with an output.</summary>
    SubOrchestrationInstanceCompleted = 16,
    /// <summary>A sub-workflow failed.</summary>
    SubOrchestrationInstanceFailed = 17,

    /// <summary>A wake-up with no meaning for workflow code (e.g. the engine re-arming a long timer).</summary>
    GenericEvent = 18,
}

/// <summary>
/// One event of an instance's event-sourced history, or the payload of a message sent to an instance or an activity
/// worker. Flat on purpose (one shape for every <see cref="EventType"/>, unused members null) so that a store can keep
/// it as one table row. Field use follows Durable Task:
/// <list type="bullet">
/// <item>Action events (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated, EventSent) carry the task id in
/// <see cref="EventId"/>.</item>
/// <item>Completion events (TaskCompleted/Failed, TimerFired, SubOrchestrationInstanceCompleted/Failed) point back at it with
/// <see cref="TaskScheduledId"/>.</item>
/// <item>Payloads (<see cref="Input"/>, <see cref="Result"/>) are already serialised by the <see cref="IWorkflowSerializer"/>.</item>
/// </list>
/// </summary>
public sealed record HistoryEvent
{
    /// <summary>
    /// An event of <paramref name="eventType"/> produced at <paramref name="timestamp"/> (UTC); <paramref name="eventId"/> is the task id
    /// of an action event.
    /// </summary>
    public HistoryEvent(HistoryEventType eventType, DateTime timestamp, int eventId = -1)
    {
        EventType = eventType;
        Timestamp = timestamp;
        EventId = eventId;
    }

    /// <summary>What happened.</summary>
    public HistoryEventType EventType { get; init; }

    /// <summary>Task id of an action event; -1 otherwise.</summary>
    public int EventId { get; init; }

    /// <summary>UTC time the event was produced.</summary>
    public DateTime Timestamp { get; init; }

    /// <summary>Workflow, activity or event name.</summary>
    public string? Name { get; init; }

    /// <summary>ExecutionStarted / SubOrchestrationInstanceCreated: the workflow version.</summary>
    public string? Version { get; init; }

    /// <summary>ExecutionStarted: the instance; SubOrchestrationInstanceCreated / EventSent: the target instance.</summary>
    public string? InstanceId { get; init; }

    /// <summary>ExecutionStarted / SubOrchestrationInstanceCreated: execution id of the (new) execution.</summary>
    public string? ExecutionId { get; init; }

    /// <summary>
    /// Serialised input (ExecutionStarted, TaskScheduled, SubOrchestrationInstanceCreated, EventRaised, EventSent, ContinueAsNew).
    /// </summary>
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

    /// <summary>ExecutionStarted of a sub-workflow: the parent's execution.</summary>
    public string? ParentExecutionId { get; init; }

    /// <summary>ExecutionStarted of a sub-workflow: the parent's task id awaiting it; -1 otherwise.</summary>
    public int ParentTaskId { get; init; } = -1;

    /// <summary>The kind, name and task id, for messages and logs.</summary>
    public override string ToString() =>
        EventId >= 0 ? $"{EventType} '{Name}' (#{EventId})"
        : TaskScheduledId >= 0 ? $"{EventType} (for #{TaskScheduledId})"
        : Name is null ? EventType.ToString() : $"{EventType} '{Name}'";
}
