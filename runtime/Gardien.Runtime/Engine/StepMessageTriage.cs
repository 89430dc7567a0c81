using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.Engine;

/// <summary>
/// The first part of planning a step: sorts the work item's messages into what the step records (a new start, new
/// events, completions of open tasks) and what it sends on (timers delivered early, re-armed; a sub-workflow start
/// refused because its instance id is taken), and discards the rest (duplicates, messages for an ended instance or
/// a previous execution, completions of unknown tasks), each discard logged with its reason.
/// </summary>
internal sealed class StepMessageTriage
{
    private readonly WorkflowWorkItem _workItem;
    private readonly WorkflowExecutor? _live;
    private readonly DateTimeOffset _now;
    private readonly TimeSpan? _maxMessageDelay;
    private readonly ILogger _logger;

    // Which task ids are open: from the live execution when there is one, else from history, scanned only when a
    // completion arrives (a step that only records events stays O(messages)); completedNow covers this step's messages.
    private readonly HashSet<int> _completedNow = [];
    private HashSet<int>? _scheduledInHistory;
    private HashSet<int>? _completedInHistory;

    private StepMessageTriage(
        WorkflowWorkItem workItem,
        WorkflowExecutor? live,
        DateTimeOffset now,
        TimeSpan? maxMessageDelay,
        ILogger logger)
    {
        _workItem = workItem;
        _live = live;
        _now = now;
        _maxMessageDelay = maxMessageDelay;
        _logger = logger;
        Started = workItem.History.FirstOrDefault(e => e.EventType == HistoryEventType.ExecutionStarted);

        // Scanning the whole history makes a step O(history); a live execution already knows what is open (and that it has not ended).
        Ended = live is null && workItem.History.Any(e => e.EventType == HistoryEventType.ExecutionCompleted);
    }

    /// <summary>The execution's start recorded in history; null for an instance whose execution has not started.</summary>
    public HistoryEvent? Started { get; }

    /// <summary>A start message this step records (the instance had none in history).</summary>
    public HistoryEvent? NewStart { get; private set; }

    /// <summary>Whether history records the execution's end (never with a live execution, which has not ended).</summary>
    public bool Ended { get; }

    /// <summary>Messages the step sends whatever else it does.</summary>
    public List<WorkflowMessage> Outbound { get; } = [];

    /// <summary>Events the step records after its OrchestratorStarted (time-stamped now).</summary>
    public List<HistoryEvent> NewEvents { get; } = [];

    /// <param name="live">The instance's live execution, usable for this step (see <see cref="WorkflowExecutor.IsOpenTask"/>).</param>
    public static StepMessageTriage Sort(
        WorkflowWorkItem workItem,
        WorkflowExecutor? live,
        DateTimeOffset now,
        TimeSpan? maxMessageDelay,
        ILogger logger)
    {
        var triage = new StepMessageTriage(workItem, live, now, maxMessageDelay, logger);
        foreach (var envelope in workItem.Messages)
        {
            triage.Sort(envelope.Message);
        }

        return triage;
    }

    private void Sort(WorkflowMessage message)
    {
        var e = message.Event;
        var nowUtc = _now.UtcDateTime;
        if (Ended || (_workItem.Instance?.Status.IsTerminal() ?? false))
        {
            Discard(e, "the instance has ended");
            return;
        }

        if (e.EventType == HistoryEventType.ExecutionStarted)
        {
            SortStart(e, nowUtc);
            return;
        }

        var executionId = (Started ?? NewStart)?.ExecutionId;
        if (message.ExecutionId is not null && executionId is not null && message.ExecutionId != executionId)
        {
            Discard(e, "it belongs to a previous execution");
            return;
        }

        switch (e.EventType)
        {
            case HistoryEventType.TaskCompleted:
            case HistoryEventType.TaskFailed:
            case HistoryEventType.TimerFired:
            case HistoryEventType.SubOrchestrationInstanceCompleted:
            case HistoryEventType.SubOrchestrationInstanceFailed:
                if (!IsOpenTask(e.TaskScheduledId))
                {
                    Discard(e, "duplicate or unknown task id");
                    return;
                }

                if (e.EventType == HistoryEventType.TimerFired && e.FireAt is { } fireAt && fireAt > nowUtc)
                {
                    // Delivered early: the store caps delays, so the timer is re-armed for the next hop.
                    Outbound.Add(message with { MessageId = Guid.NewGuid().ToString("N"), VisibleAt = NextHop(fireAt) });
                    return;
                }

                _completedNow.Add(e.TaskScheduledId);
                NewEvents.Add(e with { Timestamp = nowUtc });
                break;
            case HistoryEventType.EventRaised:
            case HistoryEventType.ExecutionSuspended:
            case HistoryEventType.ExecutionResumed:
            case HistoryEventType.ExecutionTerminated:
                NewEvents.Add(e with { Timestamp = nowUtc });
                break;
            default:
                Discard(e, "nothing to do");
                break;
        }
    }

    private void SortStart(HistoryEvent e, DateTime nowUtc)
    {
        var current = Started ?? NewStart;
        if (current is null)
        {
            NewStart = e;
        }
        else if (!IsSameStart(current, e) && e.ParentInstanceId is not null)
        {
            Outbound.Add(new WorkflowMessage(e.ParentInstanceId, new HistoryEvent(HistoryEventType.SubOrchestrationInstanceFailed, nowUtc)
            {
                TaskScheduledId = e.ParentTaskId,
                FailureDetails = new TaskFailureDetails(
                    "Gardien.Runtime.InstanceIdInUse",
                    $"Cannot start sub-workflow '{e.Name}' as instance '{_workItem.InstanceId}': "
                    + "that id is already used by another workflow instance. " +
                    "Pass a unique instance id."),
            })
            { ExecutionId = e.ParentExecutionId });
        }
        else
        {
            Discard(e, "duplicate start");
        }
    }

    private bool IsOpenTask(int taskId)
    {
        if (_completedNow.Contains(taskId))
        {
            return false;
        }

        if (_live is not null)
        {
            return _live.IsOpenTask(taskId);
        }

        var history = _workItem.History;
        _scheduledInHistory ??= history.Where(IsAction).Select(e => e.EventId).ToHashSet();
        _completedInHistory ??= history.Where(IsCompletion).Select(e => e.TaskScheduledId).ToHashSet();
        return _scheduledInHistory.Contains(taskId) && !_completedInHistory.Contains(taskId);
    }

    private DateTimeOffset NextHop(DateTime fireAt)
    {
        var target = new DateTimeOffset(fireAt, TimeSpan.Zero);
        return _maxMessageDelay is { } max && target - _now > max ? _now + max : target;
    }

    private void Discard(HistoryEvent e, string reason) => EngineLog.Discarded(_logger, e.EventType, _workItem.InstanceId, reason);

    private static bool IsSameStart(HistoryEvent current, HistoryEvent candidate) =>
        candidate.ExecutionId == current.ExecutionId
        || (candidate.ParentInstanceId is not null
            && candidate.ParentInstanceId == current.ParentInstanceId
            && candidate.ParentTaskId == current.ParentTaskId)
        || (candidate.ParentInstanceId is null && current.ParentInstanceId is null && candidate.ExecutionId is null);

    private static bool IsAction(HistoryEvent e) =>
        e.EventType is HistoryEventType.TaskScheduled or HistoryEventType.TimerCreated or HistoryEventType.SubOrchestrationInstanceCreated
            or HistoryEventType.EventSent;

    private static bool IsCompletion(HistoryEvent e) =>
        e.EventType is HistoryEventType.TaskCompleted or HistoryEventType.TaskFailed or HistoryEventType.TimerFired
            or HistoryEventType.SubOrchestrationInstanceCompleted or HistoryEventType.SubOrchestrationInstanceFailed;
}
