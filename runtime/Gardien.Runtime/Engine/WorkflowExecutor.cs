using System.Security.Cryptography;
using System.Text;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;

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
/// The replay half of an execution: runs a workflow over its history (past events: <see cref="WorkflowContext.IsReplaying"/>)
/// and then the step's new events, on a <see cref="WorkflowTaskScheduler"/> that runs the code until it blocks, and
/// collects the actions the code took (through its <see cref="WorkflowExecutionContext"/>) that history has not recorded
/// yet. Actions recorded in history must be taken again, in the same order with the same task ids: any difference is
/// non-determinism.
/// </summary>
internal sealed class WorkflowExecutor
{
    private readonly IWorkflow _workflow;
    private readonly IWorkflowSerializer _serializer;
    private readonly WorkflowExecutionContext _context;
    private readonly WorkflowTaskScheduler _scheduler = new();
    private readonly HashSet<int> _completedTaskIds = [];
    private readonly List<HistoryEvent> _suspendedEvents = [];
    private ExecutionResult _result = new();
    private Task<object?>? _run;
    private bool _suspended;
    private bool _ended;

    public WorkflowExecutor(
        IWorkflow workflow,
        string instanceId,
        IWorkflowSerializer serializer,
        ILoggerFactory? loggerFactory,
        TimeSpan? maxTimerDelay)
    {
        _workflow = workflow;
        _serializer = serializer;
        _context = new WorkflowExecutionContext(instanceId, serializer, loggerFactory, maxTimerDelay);
    }

    public string ExecutionId => _context.ExecutionId;

    /// <summary>True while the workflow code is suspended on something (not ended): <see cref="Continue"/> may resume it.</summary>
    public bool CanContinue => !_ended && !_result.NonDeterministic;

    /// <summary>
    /// For a live execution whose actions are all committed: whether <paramref name="taskId"/> was scheduled (an action
    /// in history) and has not completed yet, i.e. whether a completion for it is new.
    /// </summary>
    public bool IsOpenTask(int taskId) => taskId >= 0 && taskId < _context.NextTaskId && !_completedTaskIds.Contains(taskId);

    /// <summary>How many actions (activities, timers, sub-workflows, events sent) the code has taken so far.</summary>
    public int ActionsTaken => _context.NextTaskId;

    public ExecutionResult Execute(IReadOnlyList<HistoryEvent> pastEvents, IReadOnlyList<HistoryEvent> newEvents, string? customStatus) =>
        Run(pastEvents, newEvents, customStatus);

    /// <summary>
    /// Resumes this live execution with the events of the next step, without replaying: the previous step's result was
    /// committed, so its actions are history now. Only valid when nothing else changed the instance since (the engine
    /// checks the history length and execution id).
    /// </summary>
    public ExecutionResult Continue(IReadOnlyList<HistoryEvent> newEvents, string? customStatus)
    {
        _context.ForgetUnrecordedActions();
        _result = new ExecutionResult();
        return Run([], newEvents, customStatus);
    }

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

    private ExecutionResult Run(IReadOnlyList<HistoryEvent> pastEvents, IReadOnlyList<HistoryEvent> newEvents, string? customStatus)
    {
        _context.CustomStatus = customStatus;
        try
        {
            _context.Replaying = pastEvents.Count > 0;
            foreach (var historyEvent in pastEvents)
            {
                if (_ended)
                {
                    break;
                }

                Process(historyEvent);
            }

            _context.Replaying = false;
            foreach (var historyEvent in newEvents)
            {
                if (_ended)
                {
                    break;
                }

                Process(historyEvent);
            }

            foreach (var action in _context.UnrecordedActions)
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

        _result.CustomStatus = _context.CustomStatus;
        _result.Suspended = _suspended && !_ended;
        return _result;
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
                _context.Now = DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc);
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
        _context.Started = e;
        _context.Now = _context.Now == default ? DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc) : _context.Now;
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

        _run = Task.Factory.StartNew(
            () => _workflow.RunAsync(_context, input), CancellationToken.None, TaskCreationOptions.DenyChildAttach, _scheduler).Unwrap();
        RunUntilBlocked();
    }

    private void Deliver(HistoryEvent e)
    {
        if (_context.Deliver(e))
        {
            RunUntilBlocked();
        }
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
            End(
                ExecutionOutcome.Failed,
                failure: new TaskFailureDetails(
                    typeof(TaskCanceledException).FullName!, "The workflow code ended with an unobserved cancellation."));
        }
        else if (_context.ContinueAsNewRequest is { } next)
        {
            _result.ContinueAsNewInput = next.Input;
            if (next.Preserve)
            {
                _result.CarryoverEvents.AddRange(_context.BufferedEvents);
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
        if (_context.TakeRecordedAction(recorded.EventId) is not { } taken)
        {
            throw new WorkflowNonDeterminismException(
                $"Non-deterministic workflow '{_context.Name}' (instance '{_context.InstanceId}', version {_context.Version}): "
                + $"at step #{recorded.EventId} " +
                $"the history recorded {Describe(recorded)} but the replayed code did not take any action #{recorded.EventId}. " +
                "The workflow code changed while this instance was running, or it is not deterministic; "
                + "register the new code as a new version.");
        }

        if (taken.Event.EventType != recorded.EventType || !string.Equals(taken.Event.Name, recorded.Name, StringComparison.Ordinal))
        {
            throw new WorkflowNonDeterminismException(
                $"Non-deterministic workflow '{_context.Name}' (instance '{_context.InstanceId}', version {_context.Version}): "
                + $"at step #{recorded.EventId} " +
                $"the history recorded {Describe(recorded)} but the replayed code now took {Describe(taken.Event)}. " +
                "The workflow code changed while this instance was running, or it is not deterministic; "
                + "register the new code as a new version.");
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
}
