using System.Globalization;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Runtime.Engine;

/// <summary>
/// The <see cref="WorkflowContext"/> half of an execution: what the workflow code calls. Each call that has an effect
/// (an activity, a timer, a sub-workflow, an event sent) becomes a pending action with the next task id, and its task
/// completes when the <see cref="WorkflowExecutor"/> (the replay half) delivers the matching completion from history or
/// from the step's new events. Time, replay status and the execution being run are set by the replay half.
/// </summary>
internal sealed class WorkflowExecutionContext : WorkflowContext
{
    // Durable Task's namespace for deterministic GUIDs (UUID v5).
    private static readonly Guid GuidNamespace = new("9e952958-5e33-4daf-827f-2fa12937b875");

    private readonly string _instanceId;
    private readonly IWorkflowSerializer _serializer;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeSpan? _maxTimerDelay;
    private readonly Dictionary<int, PendingAction> _pendingActions = [];
    private readonly List<PendingAction> _actionOrder = [];
    private readonly Dictionary<int, Action<HistoryEvent>> _openTasks = [];
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<string?>>> _eventWaiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<HistoryEvent> _bufferedEvents = [];
    private int _nextTaskId;
    private int _guidCounter;

    public WorkflowExecutionContext(
        string instanceId,
        IWorkflowSerializer serializer,
        ILoggerFactory? loggerFactory,
        TimeSpan? maxTimerDelay)
    {
        _instanceId = instanceId;
        _serializer = serializer;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _maxTimerDelay = maxTimerDelay;
    }

    public override string InstanceId => _instanceId;

    public override string Name => Started?.Name ?? string.Empty;

    public override string Version => Started?.Version ?? WorkflowAttribute.DefaultVersion;

    public string ExecutionId => Started?.ExecutionId ?? string.Empty;

    public override DateTime CurrentUtcDateTime => Now;

    public override bool IsReplaying => Replaying;

    /// <summary>The ExecutionStarted event of the execution being run (set by the replay half).</summary>
    public HistoryEvent? Started { get; set; }

    /// <summary>The current step's time (set by the replay half from OrchestratorStarted).</summary>
    public DateTime Now { get; set; }

    public bool Replaying { get; set; }

    /// <summary>The custom status to commit with the step (serialized).</summary>
    public string? CustomStatus { get; set; }

    /// <summary>Set by <see cref="ContinueAsNew"/>: the new input, and whether unprocessed events carry over.</summary>
    public (string? Input, bool Preserve)? ContinueAsNewRequest { get; private set; }

    /// <summary>Task ids given so far: every id below was spent on an action.</summary>
    public int NextTaskId => _nextTaskId;

    /// <summary>Events raised that no waiter has taken yet.</summary>
    public IReadOnlyList<HistoryEvent> BufferedEvents => _bufferedEvents;

    /// <summary>Actions taken that history has not recorded, in the order the code took them.</summary>
    public IEnumerable<PendingAction> UnrecordedActions => _actionOrder.Where(a => _pendingActions.ContainsKey(a.TaskId));

    public override T? GetInput<T>()
        where T : default => _serializer.Deserialize<T>(Started?.Input);

    public override Guid NewGuid()
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{_instanceId}_{Now:o}_{_guidCounter++}");
        return WorkflowExecutor.NameBasedGuid(GuidNamespace, name);
    }

    public override ILogger CreateReplaySafeLogger(string categoryName) =>
        new ReplaySafeLogger(_loggerFactory.CreateLogger(categoryName), this);

    public override void SetCustomStatus(object? customStatus) => CustomStatus = _serializer.Serialize(customStatus);

    public override Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, RetryPolicy? retryPolicy = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return retryPolicy is null
            ? ScheduleActivityAsync<TResult>(name, input)
            : WithRetryAsync(() => ScheduleActivityAsync<TResult>(name, input), retryPolicy);
    }

    public override Task<TResult> CallSubWorkflowAsync<TResult>(
        string name,
        object? input = null,
        string? instanceId = null,
        RetryPolicy? retryPolicy = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (retryPolicy is null)
        {
            return ScheduleSubWorkflowAsync<TResult>(name, input, instanceId ?? $"{_instanceId}:{NewGuid():N}");
        }

        // Each attempt is a new child instance (an ended instance id is never restarted): attempts after the first get a suffix.
        var attempt = 0;
        return WithRetryAsync(
            () =>
            {
                attempt++;
                var childId = instanceId is null
                    ? $"{_instanceId}:{NewGuid():N}"
                    : attempt == 1 ? instanceId : $"{instanceId}-attempt{attempt}";
                return ScheduleSubWorkflowAsync<TResult>(name, input, childId);
            },
            retryPolicy);
    }

    public override Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken)
    {
        var fireAt = DateTime.SpecifyKind(fireAtUtc.Kind == DateTimeKind.Local ? fireAtUtc.ToUniversalTime() : fireAtUtc, DateTimeKind.Utc);
        var id = _nextTaskId++;
        var completion = new TaskCompletionSource();
        var created = new HistoryEvent(HistoryEventType.TimerCreated, Now, id) { FireAt = fireAt };
        var visibleAt = _maxTimerDelay is { } max && fireAt - Now > max ? Now + max : fireAt;
        var message = new WorkflowMessage(
            _instanceId, new HistoryEvent(HistoryEventType.TimerFired, Now) { TaskScheduledId = id, FireAt = fireAt })
        {
            ExecutionId = ExecutionId,
            VisibleAt = new DateTimeOffset(visibleAt, TimeSpan.Zero),
        };
        AddAction(new PendingAction(id, created, message, ActivityQueue: false));
        _openTasks[id] = _ => completion.TrySetResult();
        if (cancellationToken.CanBeCanceled)
        {
            // The timer stays in history (its id is spent); only the waiting task is cancelled.
            cancellationToken.Register(() => completion.TrySetCanceled(cancellationToken));
        }

        return completion.Task;
    }

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        var buffered = _bufferedEvents.FindIndex(e => string.Equals(e.Name, eventName, StringComparison.OrdinalIgnoreCase));
        if (buffered >= 0)
        {
            var received = _bufferedEvents[buffered];
            _bufferedEvents.RemoveAt(buffered);
            return Task.FromResult(_serializer.Deserialize<T>(received.Input)!);
        }

        var waiter = new TaskCompletionSource<string?>();
        if (!_eventWaiters.TryGetValue(eventName, out var waiters))
        {
            waiters = new LinkedList<TaskCompletionSource<string?>>();
            _eventWaiters[eventName] = waiters;
        }

        var node = waiters.AddLast(waiter);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                if (waiter.TrySetCanceled(cancellationToken) && node.List is not null)
                {
                    waiters.Remove(node);
                }
            });
        }

        return DeserializeAsync<T>(waiter.Task);
    }

    public override void SendEvent(string instanceId, string eventName, object? eventData = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        var id = _nextTaskId++;
        var data = _serializer.Serialize(eventData);
        var sent = new HistoryEvent(HistoryEventType.EventSent, Now, id) { InstanceId = instanceId, Name = eventName, Input = data };
        var message = new WorkflowMessage(
            instanceId, new HistoryEvent(HistoryEventType.EventRaised, Now) { Name = eventName, Input = data });
        AddAction(new PendingAction(id, sent, message, ActivityQueue: false));
    }

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        ContinueAsNewRequest = (_serializer.Serialize(newInput), preserveUnprocessedEvents);

    /// <summary>Forgets the actions of the previous step: they were committed, so they are history now.</summary>
    public void ForgetUnrecordedActions()
    {
        _pendingActions.Clear();
        _actionOrder.Clear();
    }

    /// <summary>The pending action the code took with this task id, now matched by history; null when the code took none.</summary>
    public PendingAction? TakeRecordedAction(int taskId) => _pendingActions.Remove(taskId, out var taken) ? taken : null;

    /// <summary>
    /// Delivers a completion or a raised event to the code waiting for it. False when nothing woke up: an event no
    /// waiter takes is buffered, and a completion for a task nobody waits for is ignored.
    /// </summary>
    public bool Deliver(HistoryEvent e)
    {
        if (e.EventType == HistoryEventType.EventRaised)
        {
            var name = e.Name ?? string.Empty;
            if (_eventWaiters.TryGetValue(name, out var waiters) && waiters.First is { } first)
            {
                waiters.RemoveFirst();
                first.Value.TrySetResult(e.Input);
                return true;
            }

            _bufferedEvents.Add(e);
            return false;
        }

        if (_openTasks.Remove(e.TaskScheduledId, out var complete))
        {
            complete(e);
            return true;
        }

        return false;
    }

    private async Task<TResult> ScheduleActivityAsync<TResult>(string name, object? input)
    {
        var id = _nextTaskId++;
        var scheduled = new HistoryEvent(HistoryEventType.TaskScheduled, Now, id) { Name = name, Input = _serializer.Serialize(input) };
        var completion = new TaskCompletionSource<string?>();
        AddAction(
            new PendingAction(
                id, scheduled, new WorkflowMessage(_instanceId, scheduled) { ExecutionId = ExecutionId }, ActivityQueue: true));
        _openTasks[id] = e =>
        {
            if (e.EventType == HistoryEventType.TaskCompleted)
            {
                completion.TrySetResult(e.Result);
            }
            else
            {
                completion.TrySetException(new WorkflowTaskFailedException(
                    name, id, e.FailureDetails ?? new TaskFailureDetails("Unknown", "The activity failed without details.")));
            }
        };
        var result = await completion.Task;
        return _serializer.Deserialize<TResult>(result)!;
    }

    private async Task<TResult> ScheduleSubWorkflowAsync<TResult>(string name, object? input, string childId)
    {
        var id = _nextTaskId++;
        var data = _serializer.Serialize(input);
        var created = new HistoryEvent(HistoryEventType.SubOrchestrationInstanceCreated, Now, id)
        {
            Name = name,
            InstanceId = childId,
            Input = data,
        };
        var childExecutionId = NewGuid().ToString("N");
        var start = new HistoryEvent(HistoryEventType.ExecutionStarted, Now)
        {
            Name = name,
            InstanceId = childId,
            ExecutionId = childExecutionId,
            Input = data,
            ParentInstanceId = _instanceId,
            ParentExecutionId = ExecutionId,
            ParentTaskId = id,
        };
        var completion = new TaskCompletionSource<string?>();
        AddAction(new PendingAction(id, created, new WorkflowMessage(childId, start), ActivityQueue: false)
        {
            NewInstance = new WorkflowInstanceState(childId, name)
            {
                Status = WorkflowStatus.Pending,
                ExecutionId = childExecutionId,
                CreatedAt = new DateTimeOffset(Now, TimeSpan.Zero),
                LastUpdatedAt = new DateTimeOffset(Now, TimeSpan.Zero),
                ParentInstanceId = _instanceId,
                Input = data,
            },
        });
        _openTasks[id] = e =>
        {
            if (e.EventType == HistoryEventType.SubOrchestrationInstanceCompleted)
            {
                completion.TrySetResult(e.Result);
            }
            else
            {
                completion.TrySetException(new WorkflowTaskFailedException(
                    name, id, e.FailureDetails ?? new TaskFailureDetails("Unknown", "The sub-workflow failed without details.")));
            }
        };
        var result = await completion.Task;
        return _serializer.Deserialize<TResult>(result)!;
    }

    private async Task<TResult> WithRetryAsync<TResult>(Func<Task<TResult>> attempt, RetryPolicy policy)
    {
        var firstAttemptAt = Now;
        for (var number = 1; ; number++)
        {
            try
            {
                return await attempt();
            }
            catch (WorkflowTaskFailedException ex) when (number < policy.MaxNumberOfAttempts
                && (policy.Handle?.Invoke(ex.FailureDetails) ?? true))
            {
                var delay = policy.DelayBeforeAttempt(number + 1);
                if (policy.RetryTimeout != Timeout.InfiniteTimeSpan && Now + delay > firstAttemptAt + policy.RetryTimeout)
                {
                    throw;
                }

                await CreateTimer(Now + delay, CancellationToken.None);
            }
        }
    }

    private async Task<T> DeserializeAsync<T>(Task<string?> data) => _serializer.Deserialize<T>(await data)!;

    private void AddAction(PendingAction action)
    {
        _pendingActions[action.TaskId] = action;
        _actionOrder.Add(action);
    }

    private sealed class ReplaySafeLogger(ILogger inner, WorkflowContext context) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !context.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (!context.IsReplaying)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}

/// <summary>
/// An action the workflow code took: its history event, the message that carries it out, and for a sub-workflow its instance row.
/// </summary>
internal sealed record PendingAction(int TaskId, HistoryEvent Event, WorkflowMessage Message, bool ActivityQueue)
{
    public WorkflowInstanceState? NewInstance { get; init; }
}
