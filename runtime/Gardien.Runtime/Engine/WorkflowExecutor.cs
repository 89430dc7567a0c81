using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Runtime.Engine;

internal enum ExecutionOutcome
{
    Running,
    Completed,
    Failed,
    Terminated,
    ContinuedAsNew,
}

/// <summary>What one replay produced: the new actions (history events + messages) and the outcome.</summary>
internal sealed class ExecutionResult
{
    public List<HistoryEvent> ActionEvents { get; } = [];

    public List<WorkflowMessage> ActivityMessages { get; } = [];

    public List<WorkflowMessage> WorkflowMessages { get; } = [];

    public List<WorkflowInstanceState> NewInstances { get; } = [];

    public ExecutionOutcome Outcome { get; set; }

    public string? Output { get; set; }

    public TaskFailureDetails? Failure { get; set; }

    public string? ContinueAsNewInput { get; set; }

    public List<HistoryEvent> CarryoverEvents { get; } = [];

    public string? CustomStatus { get; set; }

    public bool Suspended { get; set; }

    public bool NonDeterministic { get; set; }
}

/// <summary>
/// Replays one execution of a workflow over its history (past events: <see cref="WorkflowContext.IsReplaying"/>) and
/// then the step's new events, collecting the actions the code takes that history has not recorded yet. Actions recorded
/// in history must be taken again, in the same order with the same task ids: any difference is non-determinism.
/// </summary>
internal sealed class WorkflowExecutor : WorkflowContext
{
    // Durable Task's namespace for deterministic GUIDs (UUID v5).
    private static readonly Guid GuidNamespace = new("9e952958-5e33-4daf-827f-2fa12937b875");

    private readonly IWorkflow _workflow;
    private readonly string _instanceId;
    private readonly IWorkflowSerializer _serializer;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeSpan? _maxTimerDelay;
    private readonly WorkflowTaskScheduler _scheduler = new();
    private readonly Dictionary<int, PendingAction> _pendingActions = [];
    private readonly List<PendingAction> _actionOrder = [];
    private readonly Dictionary<int, Action<HistoryEvent>> _openTasks = [];
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<string?>>> _eventWaiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<HistoryEvent> _bufferedEvents = [];
    private readonly HashSet<int> _completedTaskIds = [];
    private readonly List<HistoryEvent> _suspendedEvents = [];
    private ExecutionResult _result = new();
    private HistoryEvent? _started;
    private Task<object?>? _run;
    private DateTime _now;
    private bool _isReplaying;
    private bool _suspended;
    private bool _ended;
    private int _nextTaskId;
    private int _guidCounter;
    private (string? Input, bool Preserve)? _continueAsNew;

    public WorkflowExecutor(IWorkflow workflow, string instanceId, IWorkflowSerializer serializer, ILoggerFactory? loggerFactory, TimeSpan? maxTimerDelay)
    {
        _workflow = workflow;
        _instanceId = instanceId;
        _serializer = serializer;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _maxTimerDelay = maxTimerDelay;
    }

    public override string InstanceId => _instanceId;

    public override string Name => _started?.Name ?? string.Empty;

    public override string Version => _started?.Version ?? WorkflowAttribute.DefaultVersion;

    public string ExecutionId => _started?.ExecutionId ?? string.Empty;

    public override DateTime CurrentUtcDateTime => _now;

    public override bool IsReplaying => _isReplaying;

    /// <summary>True while the workflow code is suspended on something (not ended): <see cref="Continue"/> may resume it.</summary>
    public bool CanContinue => !_ended && !_result.NonDeterministic;

    /// <summary>
    /// For a live execution whose actions are all committed: whether <paramref name="taskId"/> was scheduled (an action
    /// in history) and has not completed yet, i.e. whether a completion for it is new.
    /// </summary>
    public bool IsOpenTask(int taskId) => taskId >= 0 && taskId < _nextTaskId && !_completedTaskIds.Contains(taskId);

    public ExecutionResult Execute(IReadOnlyList<HistoryEvent> pastEvents, IReadOnlyList<HistoryEvent> newEvents, string? customStatus) =>
        Run(pastEvents, newEvents, customStatus);

    /// <summary>
    /// Resumes this live execution with the events of the next step, without replaying: the previous step's result was
    /// committed, so its actions are history now. Only valid when nothing else changed the instance since (the engine
    /// checks the history length and execution id).
    /// </summary>
    public ExecutionResult Continue(IReadOnlyList<HistoryEvent> newEvents, string? customStatus)
    {
        _pendingActions.Clear();
        _actionOrder.Clear();
        _result = new ExecutionResult();
        return Run([], newEvents, customStatus);
    }

    private ExecutionResult Run(IReadOnlyList<HistoryEvent> pastEvents, IReadOnlyList<HistoryEvent> newEvents, string? customStatus)
    {
        _result.CustomStatus = customStatus;
        try
        {
            _isReplaying = pastEvents.Count > 0;
            foreach (var historyEvent in pastEvents)
            {
                if (_ended)
                {
                    break;
                }

                Process(historyEvent);
            }

            _isReplaying = false;
            foreach (var historyEvent in newEvents)
            {
                if (_ended)
                {
                    break;
                }

                Process(historyEvent);
            }

            foreach (var action in _actionOrder.Where(a => _pendingActions.ContainsKey(a.TaskId)))
            {
                Emit(action);
            }
        }
        catch (WorkflowNonDeterminismException ex)
        {
            _result.ActionEvents.Clear();
            _result.ActivityMessages.Clear();
            _result.WorkflowMessages.Clear();
            _result.NewInstances.Clear();
            _result.NonDeterministic = true;
            End(ExecutionOutcome.Failed, failure: TaskFailureDetails.FromException(ex));
        }

        _result.Suspended = _suspended && !_ended;
        return _result;
    }

    public override T? GetInput<T>()
        where T : default => _serializer.Deserialize<T>(_started?.Input);

    public override Guid NewGuid()
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{_instanceId}_{_now:o}_{_guidCounter++}");
        return NameBasedGuid(GuidNamespace, name);
    }

    public override ILogger CreateReplaySafeLogger(string categoryName) => new ReplaySafeLogger(_loggerFactory.CreateLogger(categoryName), this);

    public override void SetCustomStatus(object? customStatus) => _result.CustomStatus = _serializer.Serialize(customStatus);

    public override Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, RetryPolicy? retryPolicy = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return retryPolicy is null
            ? ScheduleActivityAsync<TResult>(name, input)
            : WithRetryAsync(() => ScheduleActivityAsync<TResult>(name, input), retryPolicy);
    }

    public override Task<TResult> CallSubWorkflowAsync<TResult>(string name, object? input = null, string? instanceId = null, RetryPolicy? retryPolicy = null)
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
                var childId = instanceId is null ? $"{_instanceId}:{NewGuid():N}" : attempt == 1 ? instanceId : $"{instanceId}-attempt{attempt}";
                return ScheduleSubWorkflowAsync<TResult>(name, input, childId);
            },
            retryPolicy);
    }

    public override Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken)
    {
        var fireAt = DateTime.SpecifyKind(fireAtUtc.Kind == DateTimeKind.Local ? fireAtUtc.ToUniversalTime() : fireAtUtc, DateTimeKind.Utc);
        var id = _nextTaskId++;
        var completion = new TaskCompletionSource();
        var created = new HistoryEvent(HistoryEventType.TimerCreated, _now, id) { FireAt = fireAt };
        var visibleAt = _maxTimerDelay is { } max && fireAt - _now > max ? _now + max : fireAt;
        var message = new WorkflowMessage(_instanceId, new HistoryEvent(HistoryEventType.TimerFired, _now) { TaskScheduledId = id, FireAt = fireAt })
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
        var sent = new HistoryEvent(HistoryEventType.EventSent, _now, id) { InstanceId = instanceId, Name = eventName, Input = data };
        var message = new WorkflowMessage(instanceId, new HistoryEvent(HistoryEventType.EventRaised, _now) { Name = eventName, Input = data });
        AddAction(new PendingAction(id, sent, message, ActivityQueue: false));
    }

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        _continueAsNew = (_serializer.Serialize(newInput), preserveUnprocessedEvents);

    private async Task<TResult> ScheduleActivityAsync<TResult>(string name, object? input)
    {
        var id = _nextTaskId++;
        var scheduled = new HistoryEvent(HistoryEventType.TaskScheduled, _now, id) { Name = name, Input = _serializer.Serialize(input) };
        var completion = new TaskCompletionSource<string?>();
        AddAction(new PendingAction(id, scheduled, new WorkflowMessage(_instanceId, scheduled) { ExecutionId = ExecutionId }, ActivityQueue: true));
        _openTasks[id] = e =>
        {
            if (e.EventType == HistoryEventType.TaskCompleted)
            {
                completion.TrySetResult(e.Result);
            }
            else
            {
                completion.TrySetException(new WorkflowTaskFailedException(name, id, e.FailureDetails ?? new TaskFailureDetails("Unknown", "The activity failed without details.")));
            }
        };
        var result = await completion.Task;
        return _serializer.Deserialize<TResult>(result)!;
    }

    private async Task<TResult> ScheduleSubWorkflowAsync<TResult>(string name, object? input, string childId)
    {
        var id = _nextTaskId++;
        var data = _serializer.Serialize(input);
        var created = new HistoryEvent(HistoryEventType.SubOrchestrationInstanceCreated, _now, id) { Name = name, InstanceId = childId, Input = data };
        var childExecutionId = NewGuid().ToString("N");
        var start = new HistoryEvent(HistoryEventType.ExecutionStarted, _now)
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
                CreatedAt = new DateTimeOffset(_now, TimeSpan.Zero),
                LastUpdatedAt = new DateTimeOffset(_now, TimeSpan.Zero),
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
                completion.TrySetException(new WorkflowTaskFailedException(name, id, e.FailureDetails ?? new TaskFailureDetails("Unknown", "The sub-workflow failed without details.")));
            }
        };
        var result = await completion.Task;
        return _serializer.Deserialize<TResult>(result)!;
    }

    private async Task<TResult> WithRetryAsync<TResult>(Func<Task<TResult>> attempt, RetryPolicy policy)
    {
        var firstAttemptAt = _now;
        for (var number = 1; ; number++)
        {
            try
            {
                return await attempt();
            }
            catch (WorkflowTaskFailedException ex) when (number < policy.MaxNumberOfAttempts && (policy.Handle?.Invoke(ex.FailureDetails) ?? true))
            {
                var delay = policy.DelayBeforeAttempt(number + 1);
                if (policy.RetryTimeout != Timeout.InfiniteTimeSpan && _now + delay > firstAttemptAt + policy.RetryTimeout)
                {
                    throw;
                }

                await CreateTimer(_now + delay, CancellationToken.None);
            }
        }
    }

    private async Task<T> DeserializeAsync<T>(Task<string?> data) => _serializer.Deserialize<T>(await data)!;

    private void AddAction(PendingAction action)
    {
        _pendingActions[action.TaskId] = action;
        _actionOrder.Add(action);
    }

    private void Emit(PendingAction action)
    {
        _result.ActionEvents.Add(action.Event);
        if (action.ActivityQueue)
        {
            _result.ActivityMessages.Add(action.Message);
        }
        else
        {
            _result.WorkflowMessages.Add(action.Message);
        }

        if (action.NewInstance is not null)
        {
            _result.NewInstances.Add(action.NewInstance);
        }
    }

    private void Process(HistoryEvent e)
    {
        switch (e.EventType)
        {
            case HistoryEventType.OrchestratorStarted:
                _now = DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc);
                break;
            case HistoryEventType.ExecutionStarted:
                Start(e);
                break;
            case HistoryEventType.ExecutionTerminated:
                End(ExecutionOutcome.Terminated, output: e.Result);
                break;
            case HistoryEventType.ExecutionSuspended:
                _suspended = true;
                break;
            case HistoryEventType.ExecutionResumed:
                _suspended = false;
                var held = _suspendedEvents.ToList();
                _suspendedEvents.Clear();
                foreach (var heldEvent in held)
                {
                    if (!_ended)
                    {
                        Deliver(heldEvent);
                    }
                }

                break;
            case HistoryEventType.TaskScheduled:
            case HistoryEventType.TimerCreated:
            case HistoryEventType.SubOrchestrationInstanceCreated:
            case HistoryEventType.EventSent:
                MatchRecordedAction(e);
                break;
            case HistoryEventType.TaskCompleted:
            case HistoryEventType.TaskFailed:
            case HistoryEventType.TimerFired:
            case HistoryEventType.SubOrchestrationInstanceCompleted:
            case HistoryEventType.SubOrchestrationInstanceFailed:
            case HistoryEventType.EventRaised:
                if (e.EventType != HistoryEventType.EventRaised)
                {
                    _completedTaskIds.Add(e.TaskScheduledId);
                }

                if (_suspended)
                {
                    _suspendedEvents.Add(e);
                }
                else
                {
                    Deliver(e);
                }

                break;
            default:
                break;
        }
    }

    private void Start(HistoryEvent e)
    {
        _started = e;
        _now = _now == default ? DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc) : _now;
        object? input;
        try
        {
            input = _serializer.Deserialize(e.Input, _workflow.InputType);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException)
        {
            End(ExecutionOutcome.Failed, failure: new TaskFailureDetails(
                ex.GetType().FullName!,
                $"The input of workflow '{e.Name}' cannot be read as {_workflow.InputType.Name}: {ex.Message}"));
            return;
        }

        _run = Task.Factory.StartNew(() => _workflow.RunAsync(this, input), CancellationToken.None, TaskCreationOptions.DenyChildAttach, _scheduler).Unwrap();
        RunUntilBlocked();
    }

    private void Deliver(HistoryEvent e)
    {
        if (e.EventType == HistoryEventType.EventRaised)
        {
            var name = e.Name ?? string.Empty;
            if (_eventWaiters.TryGetValue(name, out var waiters) && waiters.First is { } first)
            {
                waiters.RemoveFirst();
                first.Value.TrySetResult(e.Input);
            }
            else
            {
                _bufferedEvents.Add(e);
                return;
            }
        }
        else if (_openTasks.Remove(e.TaskScheduledId, out var complete))
        {
            complete(e);
        }
        else
        {
            return;
        }

        RunUntilBlocked();
    }

    private void RunUntilBlocked()
    {
        _scheduler.Drain();
        if (_run is not { IsCompleted: true } || _ended)
        {
            return;
        }

        if (_run.IsFaulted)
        {
            var error = _run.Exception!.InnerExceptions.Count == 1 ? _run.Exception.InnerException! : _run.Exception;
            if (error is WorkflowNonDeterminismException nonDeterminism)
            {
                throw nonDeterminism;
            }

            End(ExecutionOutcome.Failed, failure: TaskFailureDetails.FromException(error));
        }
        else if (_run.IsCanceled)
        {
            End(ExecutionOutcome.Failed, failure: new TaskFailureDetails(typeof(TaskCanceledException).FullName!, "The workflow code ended with an unobserved cancellation."));
        }
        else if (_continueAsNew is { } next)
        {
            _result.ContinueAsNewInput = next.Input;
            if (next.Preserve)
            {
                _result.CarryoverEvents.AddRange(_bufferedEvents);
                _result.CarryoverEvents.AddRange(_suspendedEvents.Where(e => e.EventType == HistoryEventType.EventRaised));
            }

            End(ExecutionOutcome.ContinuedAsNew);
        }
        else
        {
            string? output;
            try
            {
                output = _serializer.Serialize(_run.Result);
            }
            catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or System.Text.Json.JsonException)
            {
                End(ExecutionOutcome.Failed, failure: TaskFailureDetails.FromException(ex));
                return;
            }

            End(ExecutionOutcome.Completed, output: output);
        }
    }

    private void End(ExecutionOutcome outcome, string? output = null, TaskFailureDetails? failure = null)
    {
        _ended = true;
        _result.Outcome = outcome;
        _result.Output = output;
        _result.Failure = failure;
    }

    private void MatchRecordedAction(HistoryEvent recorded)
    {
        if (!_pendingActions.Remove(recorded.EventId, out var taken))
        {
            throw new WorkflowNonDeterminismException(
                $"Non-deterministic workflow '{Name}' (instance '{_instanceId}', version {Version}): at step #{recorded.EventId} the history recorded " +
                $"{Describe(recorded)} but the replayed code did not take any action #{recorded.EventId}. " +
                "The workflow code changed while this instance was running, or it is not deterministic; register the new code as a new version.");
        }

        if (taken.Event.EventType != recorded.EventType || !string.Equals(taken.Event.Name, recorded.Name, StringComparison.Ordinal))
        {
            throw new WorkflowNonDeterminismException(
                $"Non-deterministic workflow '{Name}' (instance '{_instanceId}', version {Version}): at step #{recorded.EventId} the history recorded " +
                $"{Describe(recorded)} but the replayed code now took {Describe(taken.Event)}. " +
                "The workflow code changed while this instance was running, or it is not deterministic; register the new code as a new version.");
        }
    }

    private static string Describe(HistoryEvent action) => action.EventType switch
    {
        HistoryEventType.TaskScheduled => $"CallActivityAsync(\"{action.Name}\")",
        HistoryEventType.TimerCreated => $"CreateTimer({action.FireAt:o})",
        HistoryEventType.SubOrchestrationInstanceCreated => $"CallSubWorkflowAsync(\"{action.Name}\")",
        HistoryEventType.EventSent => $"SendEvent(\"{action.InstanceId}\", \"{action.Name}\")",
        _ => action.ToString(),
    };

    /// <summary>RFC 4122 version 5 (SHA-1) name-based UUID, as Durable Task computes it.</summary>
    internal static Guid NameBasedGuid(Guid namespaceId, string name)
    {
        Span<byte> namespaceBytes = stackalloc byte[16];
        namespaceId.TryWriteBytes(namespaceBytes, bigEndian: true, out _);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var buffer = new byte[16 + nameBytes.Length];
        namespaceBytes.CopyTo(buffer);
        nameBytes.CopyTo(buffer, 16);
#pragma warning disable CA5350 // SHA-1 is what RFC 4122 v5 specifies; this is an identifier, not a security hash.
        var hash = SHA1.HashData(buffer);
#pragma warning restore CA5350
        var guid = hash.AsSpan(0, 16);
        guid[6] = (byte)((guid[6] & 0x0F) | 0x50);
        guid[8] = (byte)((guid[8] & 0x3F) | 0x80);
        return new Guid(guid, bigEndian: true);
    }

    private sealed record PendingAction(int TaskId, HistoryEvent Event, WorkflowMessage Message, bool ActivityQueue)
    {
        public WorkflowInstanceState? NewInstance { get; init; }
    }

    private sealed class ReplaySafeLogger(ILogger inner, WorkflowContext context) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !context.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!context.IsReplaying)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
