using System.Collections.Concurrent;
using System.Diagnostics;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Runtime.Engine;

/// <summary>
/// The embedded durable engine: workflow-step and activity dispatchers over an <see cref="IWorkflowStore"/>, with
/// Durable Task semantics (event-sourced history, deterministic replay, at-least-once activities, durable timers,
/// external events, sub-workflows, ContinueAsNew, suspend/resume/terminate). Several engines may share one store.
/// Stopping at any point leaves the store consistent: a step either committed or will be redone by the next engine.
/// </summary>
public sealed class WorkflowEngine : IAsyncDisposable
{
    private const int MaxContinueAsNewPerStep = 1000;

    private readonly IWorkflowStore _store;
    private readonly WorkflowRegistry _registry;
    private readonly WorkflowEngineOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IServiceProvider _services;
    private readonly WorkflowEngineMetrics _metrics = new();
    private readonly ConcurrentDictionary<Task, bool> _inFlight = new();
    private readonly SemaphoreSlim _activitySlots;

    // Activities whose code has finished and whose outcome the store is reporting (persisting, group-committed): a
    // separate bound, so that a worker slot is free for the next activity while the outcome waits for its write.
    private readonly SemaphoreSlim _reportSlots;
    private CancellationTokenSource? _stopping;
    private List<Task> _loops = [];
    private int _state; // 0 new, 1 started, 2 stopped

    // Work items this engine holds (locked, not yet committed or abandoned), and a counter bumped whenever that set
    // changes, so that WaitForIdleAsync can tell "nothing moved while I looked" from "something was just taken".
    private long _busy;
    private long _workEpoch;

    // Executions suspended after their last committed step (see WorkflowEngineOptions.MaxCachedExecutions).
    private readonly ConcurrentDictionary<string, LiveExecution> _liveExecutions = new(StringComparer.Ordinal);

    public WorkflowEngine(IWorkflowStore store, WorkflowRegistry registry, WorkflowEngineOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(registry);
        _store = store;
        _registry = registry;
        _options = options ?? new WorkflowEngineOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentActivities, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentWorkflowSteps, 1);
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<WorkflowEngine>();
        _time = _options.TimeProvider;
        _services = _options.Services ?? EmptyServiceProvider.Instance;
        _activitySlots = new SemaphoreSlim(_options.MaxConcurrentActivities, _options.MaxConcurrentActivities);
        _reportSlots = new SemaphoreSlim(ReportingCapacity(_options), ReportingCapacity(_options));
        Client = new WorkflowEngineClient(store, _options.Serializer, _time, registry);
    }

    /// <summary>A client over the same store (usable before <see cref="StartAsync"/> and after stop).</summary>
    public WorkflowEngineClient Client { get; }

    public IWorkflowStore Store => _store;

    public WorkflowRegistry Registry => _registry;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("A workflow engine starts once; create a new engine to restart.");
        }

        await _store.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        _stopping = new CancellationTokenSource();
        var stop = _stopping.Token;
        var loops = new List<Task>();
        for (var i = 0; i < _options.MaxConcurrentWorkflowSteps; i++)
        {
            loops.Add(Task.Run(() => WorkflowLoopAsync(stop), CancellationToken.None));
        }

        loops.Add(Task.Run(() => ActivityLoopAsync(stop), CancellationToken.None));
        loops.Add(Task.Run(() => QueueDepthLoopAsync(stop), CancellationToken.None));
        _loops = loops;
        EngineLog.EngineStarted(_logger, _options.MaxConcurrentWorkflowSteps, _options.MaxConcurrentActivities);
    }

    /// <summary>
    /// Stops dispatching, cancels running activities (they are abandoned and redelivered later), waits for in-flight
    /// steps to commit or give up, then has the store release messages it received but never handed out. Safe to call
    /// at any time, more than once.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }

        await _stopping!.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(_inFlight.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Messages the store received for this engine but never handed out: visible again now rather than
            // hidden for a lease period (a stopped CLI process must not strand work).
            await _store.ReleaseUnclaimedMessagesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            EngineLog.StoreFailed(_logger, "release", ex);
        }

        EngineLog.EngineStopped(_logger);
    }

    /// <summary>
    /// Completes once this engine has nothing to do: no work item of its store is due and unleased, and none is held
    /// by this engine. Instances waiting for an external event, or for a durable timer or retry due later by the
    /// engine's <see cref="TimeProvider"/>, do not count as work. Lets a short-lived host (a CLI command) run the
    /// engine "until the workflows are waiting" and then stop it. Work raised afterwards is picked up as usual while
    /// the engine keeps running. Requires a started engine.
    /// </summary>
    /// <exception cref="InvalidOperationException">The engine was not started, or was stopped.</exception>
    public async Task WaitForIdleAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _state) != 1)
        {
            throw new InvalidOperationException("WaitForIdleAsync needs a running engine: call StartAsync first (and do not stop it while waiting).");
        }

        // Idle must be seen twice, a poll apart, with no work item taken or finished in between: a work item moves
        // from "ready in the store" to "held here" between two reads, and the second look catches that move.
        var quietSince = -1L;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Volatile.Read(ref _state) != 1)
            {
                throw new InvalidOperationException("The engine stopped while WaitForIdleAsync was waiting.");
            }

            var epoch = Interlocked.Read(ref _workEpoch);
            var idle = Interlocked.Read(ref _busy) == 0 && !await HasReadyWorkAsync(cancellationToken).ConfigureAwait(false)
                && Interlocked.Read(ref _workEpoch) == epoch;
            if (!idle)
            {
                quietSince = -1;
            }
            else if (quietSince == epoch)
            {
                return;
            }
            else
            {
                quietSince = epoch;
            }

            await Task.Delay(_options.IdlePollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> HasReadyWorkAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _store.HasReadyWorkAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Unknown is not idle: look again at the next poll.
            EngineLog.StoreFailed(_logger, "idle-check", ex);
            return true;
        }
    }

    private void TookWorkItem()
    {
        Interlocked.Increment(ref _busy);
        Interlocked.Increment(ref _workEpoch);
    }

    private void FinishedWorkItem()
    {
        Interlocked.Increment(ref _workEpoch);
        Interlocked.Decrement(ref _busy);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping?.Dispose();
        _activitySlots.Dispose();
        _reportSlots.Dispose();
        _metrics.Dispose();
    }

    private async Task WorkflowLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            WorkflowWorkItem? workItem;
            try
            {
                workItem = await _store.LockNextWorkflowWorkItemAsync(_options.LockDuration, _options.ReceiveTimeout, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                EngineLog.StoreFailed(_logger, "workflow", ex);
                if (!await BackoffAsync(stop).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (workItem is not null)
            {
                TookWorkItem();
                try
                {
                    await ProcessStepAsync(workItem).ConfigureAwait(false);
                }
                finally
                {
                    FinishedWorkItem();
                }
            }
        }
    }

    private async Task ActivityLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _activitySlots.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            ActivityWorkItem? workItem;
            try
            {
                workItem = await _store.LockNextActivityWorkItemAsync(_options.LockDuration, _options.ReceiveTimeout, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                _activitySlots.Release();
                return;
            }
            catch (Exception ex)
            {
                _activitySlots.Release();
                EngineLog.StoreFailed(_logger, "activity", ex);
                if (!await BackoffAsync(stop).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (workItem is null)
            {
                _activitySlots.Release();
                continue;
            }

            TookWorkItem();
            var slot = new ActivitySlot(_activitySlots);
            var run = RunActivityAsync(workItem, slot, stop);
            _inFlight.TryAdd(run, true);
            _ = run.ContinueWith(
                t =>
                {
                    if (t.Exception is { } error)
                    {
                        EngineLog.StoreFailed(_logger, "activity", error);
                    }

                    _inFlight.TryRemove(t, out _);
                    FinishedWorkItem();
                    slot.Release();
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task QueueDepthLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var depth = await _store.GetQueueDepthAsync(stop).ConfigureAwait(false);
                _metrics.SetQueueDepth(depth.WorkflowMessages, depth.ActivityMessages);
                await Task.Delay(_options.QueueDepthRefreshInterval, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                EngineLog.StoreFailed(_logger, "queue-depth", ex);
                if (!await BackoffAsync(stop).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
    }

    private async Task<bool> BackoffAsync(CancellationToken stop)
    {
        try
        {
            await Task.Delay(_options.StoreErrorBackoff, _time, stop).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ProcessStepAsync(WorkflowWorkItem workItem)
    {
        using var span = WorkflowEngineTelemetry.Source.StartActivity(WorkflowEngineTelemetry.WorkflowStepSpan, ActivityKind.Internal);
        span?.SetTag(WorkflowEngineTelemetry.InstanceIdTag, workItem.InstanceId);
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["InstanceId"] = workItem.InstanceId });
        StepPlan plan;
        LiveExecution? kept = null;
        try
        {
            // The store releases the instance inside the commit, so its next step can be locked here before this method
            // goes on: the kept execution is published before the commit and used only once the commit has succeeded.
            if (_liveExecutions.TryGetValue(workItem.InstanceId, out var previous) && !await previous.Committed.ConfigureAwait(false))
            {
                _liveExecutions.TryRemove(new KeyValuePair<string, LiveExecution>(workItem.InstanceId, previous));
            }

            plan = PlanStep(workItem);
            span?.SetTag(WorkflowEngineTelemetry.WorkflowNameTag, plan.Result.State?.Name);
            kept = Keep(workItem.InstanceId, plan);

            // Never cancelled: a commit is all or nothing, and stopping waits for it.
            await _store.CompleteWorkflowWorkItemAsync(workItem, plan.Result, CancellationToken.None).ConfigureAwait(false);
            kept?.Commit.SetResult(true);
        }
        catch (WorkItemLockLostException ex)
        {
            Forget(workItem.InstanceId, kept);
            EngineLog.StepLockLost(_logger, workItem.InstanceId, ex);
            return;
        }
        catch (Exception ex)
        {
            Forget(workItem.InstanceId, kept);
            var dequeueCount = workItem.Messages.Count == 0 ? 0 : workItem.Messages.Max(m => m.DequeueCount);
            EngineLog.StepFailed(_logger, workItem.InstanceId, dequeueCount, ex);
            span?.SetStatus(ActivityStatusCode.Error, ex.Message);
            try
            {
                await _store.AbandonWorkflowWorkItemAsync(workItem, $"{ex.GetType().Name}: {ex.Message}", _options.AbandonDelay(dequeueCount), CancellationToken.None)
                    .ConfigureAwait(false);
            }
            catch (Exception abandonError)
            {
                EngineLog.StoreFailed(_logger, "workflow", abandonError);
            }

            return;
        }

        Report(plan);
    }

    /// <summary>Before a step's commit: keeps the still-running execution for the instance's next step, pending the commit.</summary>
    private LiveExecution? Keep(string instanceId, StepPlan plan)
    {
        if (plan.Live is not { CanContinue: true } executor || plan.Result.State is not { } state || state.Status.IsTerminal() || plan.Result.ReplaceHistory)
        {
            return null;
        }

        if (_liveExecutions.Count >= _options.MaxCachedExecutions)
        {
            // Crude but bounded: a miss only costs a replay.
            _liveExecutions.Clear();
        }

        var live = new LiveExecution(executor, state.ExecutionId, plan.HistoryCountAfter);
        _liveExecutions[instanceId] = live;
        return live;
    }

    /// <summary>The step did not commit: its execution must never serve a later step.</summary>
    private void Forget(string instanceId, LiveExecution? kept)
    {
        if (kept is null)
        {
            return;
        }

        _liveExecutions.TryRemove(new KeyValuePair<string, LiveExecution>(instanceId, kept));
        kept.Commit.TrySetResult(false);
    }

    private sealed record LiveExecution(WorkflowExecutor Executor, string? ExecutionId, int HistoryCount)
    {
        public TaskCompletionSource<bool> Commit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<bool> Committed => Commit.Task;
    }

    private void Report(StepPlan plan)
    {
        var state = plan.Result.State;
        if (state is null)
        {
            return;
        }

        var tags = new KeyValuePair<string, object?>(WorkflowEngineTelemetry.WorkflowNameTag, state.Name);
        if (plan.StartedExecutions > 0)
        {
            _metrics.Started.Add(plan.StartedExecutions, tags);
        }

        if (!plan.StatusChanged)
        {
            return;
        }

        EngineLog.InstanceStatus(_logger, state.InstanceId, state.Name, state.Version, state.Status);
        if (state.Status == WorkflowStatus.Completed)
        {
            _metrics.Completed.Add(1, tags);
        }
        else if (state.Status == WorkflowStatus.Failed)
        {
            _metrics.Failed.Add(1, tags);
            EngineLog.InstanceFailed(_logger, state.InstanceId, state.FailureDetails?.ToString() ?? "unknown");
        }
    }

    private sealed record StepPlan(WorkflowStepResult Result, int StartedExecutions, bool StatusChanged)
    {
        /// <summary>The execution that produced the step, if it may continue at the next step once this one is committed.</summary>
        public WorkflowExecutor? Live { get; init; }

        public int HistoryCountAfter { get; init; }
    }

    /// <summary>Decides what one step commits: dedup of messages, replay, new actions, outcome.</summary>
    private StepPlan PlanStep(WorkflowWorkItem workItem)
    {
        var now = _time.GetUtcNow();
        var nowUtc = now.UtcDateTime;
        var instanceId = workItem.InstanceId;
        var history = workItem.History;
        var state = workItem.Instance;

        // A live execution is usable only if nothing else committed since it did (same execution, same history length).
        if (_liveExecutions.TryRemove(instanceId, out var live) && (live.HistoryCount != history.Count || live.ExecutionId != state?.ExecutionId))
        {
            live = null;
        }

        var started = history.FirstOrDefault(e => e.EventType == HistoryEventType.ExecutionStarted);

        // Scanning the whole history makes a step O(history); a live execution already knows what is open (and that it has not ended).
        var ended = live is null && history.Any(e => e.EventType == HistoryEventType.ExecutionCompleted);
        HashSet<int>? scheduledInHistory = null;
        HashSet<int>? completedInHistory = null;
        var completedNow = new HashSet<int>();
        bool IsOpenTask(int taskId)
        {
            if (completedNow.Contains(taskId))
            {
                return false;
            }

            if (live is not null)
            {
                return live.Executor.IsOpenTask(taskId);
            }

            scheduledInHistory ??= history.Where(IsAction).Select(e => e.EventId).ToHashSet();
            completedInHistory ??= history.Where(IsCompletion).Select(e => e.TaskScheduledId).ToHashSet();
            return scheduledInHistory.Contains(taskId) && !completedInHistory.Contains(taskId);
        }

        var outbound = new List<WorkflowMessage>();
        var newEvents = new List<HistoryEvent>();
        HistoryEvent? newStart = null;

        foreach (var envelope in workItem.Messages)
        {
            var message = envelope.Message;
            var e = message.Event;
            if (ended || (state?.Status.IsTerminal() ?? false))
            {
                Discard(e, instanceId, "the instance has ended");
                continue;
            }

            if (e.EventType == HistoryEventType.ExecutionStarted)
            {
                var current = started ?? newStart;
                if (current is null)
                {
                    newStart = e;
                }
                else if (!IsSameStart(current, e) && e.ParentInstanceId is not null)
                {
                    outbound.Add(new WorkflowMessage(e.ParentInstanceId, new HistoryEvent(HistoryEventType.SubOrchestrationInstanceFailed, nowUtc)
                    {
                        TaskScheduledId = e.ParentTaskId,
                        FailureDetails = new TaskFailureDetails(
                            "Gardien.Runtime.InstanceIdInUse",
                            $"Cannot start sub-workflow '{e.Name}' as instance '{instanceId}': that id is already used by another workflow instance. Pass a unique instance id."),
                    })
                    { ExecutionId = e.ParentExecutionId });
                }
                else
                {
                    Discard(e, instanceId, "duplicate start");
                }

                continue;
            }

            var executionId = (started ?? newStart)?.ExecutionId;
            if (message.ExecutionId is not null && executionId is not null && message.ExecutionId != executionId)
            {
                Discard(e, instanceId, "it belongs to a previous execution");
                continue;
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
                        Discard(e, instanceId, "duplicate or unknown task id");
                        continue;
                    }

                    if (e.EventType == HistoryEventType.TimerFired && e.FireAt is { } fireAt && fireAt > nowUtc)
                    {
                        // Delivered early: the store caps delays, so the timer is re-armed for the next hop.
                        outbound.Add(message with { MessageId = Guid.NewGuid().ToString("N"), VisibleAt = NextHop(now, fireAt) });
                        continue;
                    }

                    completedNow.Add(e.TaskScheduledId);
                    newEvents.Add(e with { Timestamp = nowUtc });
                    break;
                case HistoryEventType.EventRaised:
                case HistoryEventType.ExecutionSuspended:
                case HistoryEventType.ExecutionResumed:
                case HistoryEventType.ExecutionTerminated:
                    newEvents.Add(e with { Timestamp = nowUtc });
                    break;
                default:
                    Discard(e, instanceId, "nothing to do");
                    break;
            }
        }

        if (started is null && newStart is null)
        {
            if (state is { Status: WorkflowStatus.Pending } && !ended)
            {
                // Messages for an instance whose delayed start has not come yet: keep them until it has.
                var retryAt = state.ScheduledStartAt is { } startAt && startAt > now.AddSeconds(1) ? startAt : now.AddSeconds(1);
                outbound.AddRange(workItem.Messages.Select(m => m.Message with { MessageId = Guid.NewGuid().ToString("N"), VisibleAt = retryAt }));
            }

            return new StepPlan(new WorkflowStepResult(state) { WorkflowMessages = outbound }, 0, false);
        }

        var poison = workItem.Messages.FirstOrDefault(m => m.DequeueCount > _options.MaxDequeueCount);
        if (poison is not null && !ended)
        {
            var start = started ?? ResolveVersion(newStart!);
            var failure = new TaskFailureDetails(
                "Gardien.Runtime.PoisonMessage",
                $"Message {poison.Message.Event} to workflow instance '{instanceId}' was delivered {poison.DequeueCount} times without being processed " +
                $"(limit {_options.MaxDequeueCount}). Last error: {poison.LastError ?? "unknown (the worker stopped or crashed)"}.");
            var events = new List<HistoryEvent> { new(HistoryEventType.OrchestratorStarted, nowUtc) };
            if (started is null)
            {
                events.Add(start);
            }

            var result = Finish(instanceId, start, state, now, events, new ExecutionResult { Outcome = ExecutionOutcome.Failed, Failure = failure, CustomStatus = state?.CustomStatus }, outbound, []);
            return new StepPlan(result, started is null ? 1 : 0, true);
        }

        if (ended || (newStart is null && newEvents.Count == 0))
        {
            return new StepPlan(new WorkflowStepResult(state) { WorkflowMessages = outbound }, 0, false);
        }

        var startedExecutions = 0;
        var execution = started;
        var stepEvents = new List<HistoryEvent> { new(HistoryEventType.OrchestratorStarted, nowUtc) };
        if (execution is null)
        {
            execution = ResolveVersion(newStart!);
            stepEvents.Add(execution);
            startedExecutions++;
        }

        stepEvents.AddRange(newEvents);
        IReadOnlyList<HistoryEvent> pastEvents = history;
        var customStatus = state?.CustomStatus;
        var activityMessages = new List<WorkflowMessage>();
        var newInstances = new List<WorkflowInstanceState>();
        var replaceHistory = false;
        for (var generation = 0; ; generation++)
        {
            ExecutionResult run;
            WorkflowExecutor? executor = null;
            if (generation == 0 && startedExecutions == 0 && live is not null && live.ExecutionId == execution.ExecutionId)
            {
                executor = live.Executor;
                run = executor.Continue(stepEvents, customStatus);
            }
            else if (_registry.CreateWorkflow(execution.Name ?? string.Empty, execution.Version ?? string.Empty, _services) is not { } workflow)
            {
                run = new ExecutionResult
                {
                    Outcome = ExecutionOutcome.Failed,
                    CustomStatus = customStatus,
                    Failure = new TaskFailureDetails(
                        "Gardien.Runtime.WorkflowNotRegistered",
                        $"No workflow named '{execution.Name}' version '{execution.Version}' is registered in this engine " +
                        $"(registered versions: {_registry.DescribeWorkflowVersions(execution.Name ?? string.Empty)}). Register it with WorkflowRegistry.AddWorkflow."),
                };
            }
            else
            {
                executor = new WorkflowExecutor(workflow, instanceId, _options.Serializer, _loggerFactory, _store.MaxMessageDelay);
                run = executor.Execute(pastEvents, stepEvents, customStatus);
            }

            activityMessages.AddRange(run.ActivityMessages);
            outbound.AddRange(run.WorkflowMessages);
            newInstances.AddRange(run.NewInstances);
            stepEvents.AddRange(run.ActionEvents);
            if (run.Outcome != ExecutionOutcome.ContinuedAsNew)
            {
                var result = Finish(instanceId, execution, state, now, stepEvents, run, outbound, activityMessages) with
                {
                    ReplaceHistory = replaceHistory,
                    NewInstances = newInstances,
                };
                return new StepPlan(result, startedExecutions, result.State!.Status != state?.Status)
                {
                    Live = _options.MaxCachedExecutions > 0 && !replaceHistory ? executor : null,
                    HistoryCountAfter = history.Count + result.NewHistory.Count,
                };
            }

            if (generation >= MaxContinueAsNewPerStep)
            {
                run.Outcome = ExecutionOutcome.Failed;
                run.Failure = new TaskFailureDetails(
                    "Gardien.Runtime.ContinueAsNewLoop",
                    $"Workflow '{execution.Name}' called ContinueAsNew {MaxContinueAsNewPerStep} times without waiting for anything; it must await an activity, timer or event between restarts.");
                var result = Finish(instanceId, execution, state, now, stepEvents, run, outbound, activityMessages) with { ReplaceHistory = replaceHistory, NewInstances = newInstances };
                return new StepPlan(result, startedExecutions, true);
            }

            // A new execution: same instance, fresh history starting with the new input and the carried-over events.
            execution = execution with { ExecutionId = Guid.NewGuid().ToString("N"), Input = run.ContinueAsNewInput, Timestamp = nowUtc };
            stepEvents = [new(HistoryEventType.OrchestratorStarted, nowUtc), execution, .. run.CarryoverEvents];
            pastEvents = [];
            customStatus = run.CustomStatus;
            replaceHistory = true;
            startedExecutions++;
        }
    }

    private WorkflowStepResult Finish(
        string instanceId,
        HistoryEvent execution,
        WorkflowInstanceState? state,
        DateTimeOffset now,
        List<HistoryEvent> stepEvents,
        ExecutionResult run,
        List<WorkflowMessage> outbound,
        List<WorkflowMessage> activityMessages)
    {
        var nowUtc = now.UtcDateTime;
        var status = run.Outcome switch
        {
            ExecutionOutcome.Completed => WorkflowStatus.Completed,
            ExecutionOutcome.Failed => WorkflowStatus.Failed,
            ExecutionOutcome.Terminated => WorkflowStatus.Terminated,
            _ => run.Suspended ? WorkflowStatus.Suspended : WorkflowStatus.Running,
        };
        if (status.IsTerminal())
        {
            stepEvents.Add(new HistoryEvent(HistoryEventType.ExecutionCompleted, nowUtc)
            {
                Status = status,
                Result = run.Output,
                FailureDetails = run.Failure,
            });
            if (execution.ParentInstanceId is not null)
            {
                var parentEvent = status == WorkflowStatus.Completed
                    ? new HistoryEvent(HistoryEventType.SubOrchestrationInstanceCompleted, nowUtc) { TaskScheduledId = execution.ParentTaskId, Result = run.Output }
                    : new HistoryEvent(HistoryEventType.SubOrchestrationInstanceFailed, nowUtc)
                    {
                        TaskScheduledId = execution.ParentTaskId,
                        FailureDetails = run.Failure ?? new TaskFailureDetails(
                            "Gardien.Runtime.SubWorkflowTerminated", $"Sub-workflow '{execution.Name}' (instance '{instanceId}') was terminated: {run.Output}"),
                    };
                outbound.Add(new WorkflowMessage(execution.ParentInstanceId, parentEvent) { ExecutionId = execution.ParentExecutionId });
            }
        }

        stepEvents.Add(new HistoryEvent(HistoryEventType.OrchestratorCompleted, nowUtc));
        var newState = new WorkflowInstanceState(instanceId, execution.Name ?? state?.Name ?? string.Empty)
        {
            Version = execution.Version,
            ExecutionId = execution.ExecutionId,
            Status = status,
            CreatedAt = state?.CreatedAt ?? now,
            LastUpdatedAt = now,
            CompletedAt = status.IsTerminal() ? now : null,
            ScheduledStartAt = state?.ScheduledStartAt,
            ParentInstanceId = execution.ParentInstanceId,
            Input = execution.Input,
            Output = status is WorkflowStatus.Completed or WorkflowStatus.Terminated ? run.Output : null,
            CustomStatus = run.CustomStatus,
            FailureDetails = run.Failure,
        };
        return new WorkflowStepResult(newState)
        {
            NewHistory = stepEvents,
            ActivityMessages = activityMessages,
            WorkflowMessages = outbound,
        };
    }

    private HistoryEvent ResolveVersion(HistoryEvent start) =>
        start.Version is not null ? start : start with { Version = _registry.LatestVersion(start.Name ?? string.Empty) ?? WorkflowAttribute.DefaultVersion };

    private DateTimeOffset NextHop(DateTimeOffset now, DateTime fireAt)
    {
        var target = new DateTimeOffset(fireAt, TimeSpan.Zero);
        return _store.MaxMessageDelay is { } max && target - now > max ? now + max : target;
    }

    private void Discard(HistoryEvent e, string instanceId, string reason) => EngineLog.Discarded(_logger, e.EventType, instanceId, reason);

    private static bool IsSameStart(HistoryEvent current, HistoryEvent candidate) =>
        candidate.ExecutionId == current.ExecutionId
        || (candidate.ParentInstanceId is not null && candidate.ParentInstanceId == current.ParentInstanceId && candidate.ParentTaskId == current.ParentTaskId)
        || (candidate.ParentInstanceId is null && current.ParentInstanceId is null && candidate.ExecutionId is null);

    private static bool IsAction(HistoryEvent e) =>
        e.EventType is HistoryEventType.TaskScheduled or HistoryEventType.TimerCreated or HistoryEventType.SubOrchestrationInstanceCreated or HistoryEventType.EventSent;

    private static bool IsCompletion(HistoryEvent e) =>
        e.EventType is HistoryEventType.TaskCompleted or HistoryEventType.TaskFailed or HistoryEventType.TimerFired
            or HistoryEventType.SubOrchestrationInstanceCompleted or HistoryEventType.SubOrchestrationInstanceFailed;

    private async Task RunActivityAsync(ActivityWorkItem workItem, ActivitySlot slot, CancellationToken stop)
    {
        await Task.Yield();
        var message = workItem.Message;
        var scheduled = message.Event;
        var instanceId = message.InstanceId;
        using var span = WorkflowEngineTelemetry.Source.StartActivity(WorkflowEngineTelemetry.ActivitySpan, ActivityKind.Internal);
        span?.SetTag(WorkflowEngineTelemetry.InstanceIdTag, instanceId);
        span?.SetTag(WorkflowEngineTelemetry.ActivityNameTag, scheduled.Name);
        using var logScope = _logger.BeginScope(new Dictionary<string, object> { ["InstanceId"] = instanceId, ["ActivityName"] = scheduled.Name ?? string.Empty, ["TaskId"] = scheduled.EventId });
        var startedAt = Stopwatch.GetTimestamp();
        HistoryEvent response;
        if (workItem.DequeueCount > _options.MaxDequeueCount)
        {
            response = Failed(new TaskFailureDetails(
                "Gardien.Runtime.PoisonMessage",
                $"Activity '{scheduled.Name}' (#{scheduled.EventId}) of workflow instance '{instanceId}' was delivered {workItem.DequeueCount} times without completing " +
                $"(limit {_options.MaxDequeueCount}). Last error: {workItem.LastError ?? "unknown (the worker stopped or crashed while running it)"}."));
        }
        else
        {
            var scope = (_services.GetService(typeof(IServiceScopeFactory)) as IServiceScopeFactory)?.CreateAsyncScope();
            await using var scopeDisposal = scope is { } created ? created : (IAsyncDisposable)NoScope.Instance;
            var services = scope?.ServiceProvider ?? _services;
            using var activityStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var renewal = RenewWhileRunningAsync(workItem, activityStop.Token);
            try
            {
                var activity = _registry.CreateActivity(scheduled.Name ?? string.Empty, services);
                if (activity is null)
                {
                    response = Failed(new TaskFailureDetails(
                        "Gardien.Runtime.ActivityNotRegistered",
                        $"No activity named '{scheduled.Name}' is registered in this engine. Register it with WorkflowRegistry.AddActivity."));
                }
                else
                {
                    var input = _options.Serializer.Deserialize(scheduled.Input, activity.InputType);
                    var context = new EngineActivityContext(scheduled.Name!, instanceId, scheduled.EventId, $"{instanceId}:{message.ExecutionId}:{scheduled.EventId}", stop);
                    var output = await activity.RunAsync(context, input).ConfigureAwait(false);
                    response = new HistoryEvent(HistoryEventType.TaskCompleted, _time.GetUtcNow().UtcDateTime)
                    {
                        TaskScheduledId = scheduled.EventId,
                        Result = _options.Serializer.Serialize(output),
                    };
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopping is not a failure: hand the activity back so that another engine runs it.
                await activityStop.CancelAsync().ConfigureAwait(false);
                await renewal.ConfigureAwait(false);
                await TryAbandonActivityAsync(workItem, "The engine stopped while the activity ran.", TimeSpan.Zero).ConfigureAwait(false);
                return;
            }
            catch (Exception ex)
            {
                EngineLog.ActivityFailed(_logger, scheduled.Name, scheduled.EventId, instanceId, ex.Message);
                span?.SetStatus(ActivityStatusCode.Error, ex.Message);
                response = Failed(TaskFailureDetails.FromException(ex));
            }

            await activityStop.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
        }

        _metrics.ActivityDuration.Record(
            Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds,
            new KeyValuePair<string, object?>(WorkflowEngineTelemetry.ActivityNameTag, scheduled.Name));
        // The activity's code is done: its worker slot goes to the next activity once a reporting slot is held.
        await _reportSlots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        slot.Release();
        try
        {
            await _store.CompleteActivityWorkItemAsync(workItem, new WorkflowMessage(instanceId, response) { ExecutionId = message.ExecutionId }, CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (WorkItemLockLostException ex)
        {
            EngineLog.ActivityLockLost(_logger, scheduled.Name, scheduled.EventId, instanceId, ex);
        }
        catch (Exception ex)
        {
            EngineLog.ActivityCompleteFailed(_logger, scheduled.Name, scheduled.EventId, instanceId, ex);
            await TryAbandonActivityAsync(workItem, $"{ex.GetType().Name}: {ex.Message}", _options.AbandonDelay(workItem.DequeueCount)).ConfigureAwait(false);
        }
        finally
        {
            _reportSlots.Release();
        }

        HistoryEvent Failed(TaskFailureDetails details) =>
            new(HistoryEventType.TaskFailed, _time.GetUtcNow().UtcDateTime) { TaskScheduledId = scheduled.EventId, FailureDetails = details };
    }

    /// <summary>Outcomes being reported at once: a few times the workers, so that the store can group-commit them.</summary>
    private static int ReportingCapacity(WorkflowEngineOptions options) => Math.Max(16, options.MaxConcurrentActivities * 4);

    /// <summary>A worker slot, released once: when the activity's code finished, or when the work item ends otherwise.</summary>
    private sealed class ActivitySlot(SemaphoreSlim slots)
    {
        private int _released;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }

    private async Task RenewWhileRunningAsync(ActivityWorkItem workItem, CancellationToken done)
    {
        var every = _options.LockDuration / 2;
        try
        {
            while (true)
            {
                await Task.Delay(every, _time, done).ConfigureAwait(false);
                await _store.RenewActivityWorkItemAsync(workItem, _options.LockDuration, done).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            EngineLog.StoreFailed(_logger, "activity-renewal", ex);
        }
    }

    private async Task TryAbandonActivityAsync(ActivityWorkItem workItem, string reason, TimeSpan delay)
    {
        try
        {
            await _store.AbandonActivityWorkItemAsync(workItem, reason, delay, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            EngineLog.StoreFailed(_logger, "activity", ex);
        }
    }

    private sealed class EngineActivityContext(string name, string instanceId, int taskId, string idempotencyKey, CancellationToken cancellationToken) : ActivityContext
    {
        public override string Name { get; } = name;

        public override string InstanceId { get; } = instanceId;

        public override int TaskId { get; } = taskId;

        public override string IdempotencyKey { get; } = idempotencyKey;

        public override CancellationToken CancellationToken { get; } = cancellationToken;
    }

    private sealed class NoScope : IAsyncDisposable
    {
        public static NoScope Instance { get; } = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static EmptyServiceProvider Instance { get; } = new();

        public object? GetService(Type serviceType) => null;
    }
}
