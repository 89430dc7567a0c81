using System.Collections.Concurrent;
using System.Diagnostics;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.Engine;

/// <summary>
/// Processes one workflow work item: plans the step (message triage, poison handling, then the actions the workflow
/// code takes on replay), commits it, and reports it. A committed step's execution is kept alive for the instance's
/// next step (see <see cref="WorkflowEngineOptions.MaxCachedExecutions"/>); a step that fails is abandoned, to be
/// redelivered after a back-off.
/// </summary>
internal sealed class WorkflowStepProcessor(
    IWorkflowStore store,
    WorkflowRegistry registry,
    WorkflowEngineOptions options,
    IServiceProvider services,
    WorkflowEngineMetrics metrics,
    ILoggerFactory loggerFactory,
    ILogger logger)
{
    private const int MaxContinueAsNewPerStep = 1000;

    // Executions suspended after their last committed step (see WorkflowEngineOptions.MaxCachedExecutions).
    private readonly ConcurrentDictionary<string, LiveExecution> _liveExecutions = new(StringComparer.Ordinal);

    public async Task ProcessAsync(WorkflowWorkItem workItem)
    {
        using var span = WorkflowEngineTelemetry.Source.StartActivity(WorkflowEngineTelemetry.WorkflowStepSpan, ActivityKind.Internal);
        span?.SetTag(WorkflowEngineTelemetry.InstanceIdTag, workItem.InstanceId);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["InstanceId"] = workItem.InstanceId });
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

            plan = Plan(workItem);
            span?.SetTag(WorkflowEngineTelemetry.WorkflowNameTag, plan.Result.State?.Name);
            kept = Keep(workItem.InstanceId, plan);

            // Never cancelled: a commit is all or nothing, and stopping waits for it.
            await store.CompleteWorkflowWorkItemAsync(workItem, plan.Result, CancellationToken.None).ConfigureAwait(false);
            kept?.Commit.SetResult(true);
        }
        catch (WorkItemLockLostException ex)
        {
            Forget(workItem.InstanceId, kept);
            EngineLog.StepLockLost(logger, workItem.InstanceId, ex);
            return;
        }
        catch (Exception ex)
        {
            Forget(workItem.InstanceId, kept);
            var dequeueCount = workItem.Messages.Count == 0 ? 0 : workItem.Messages.Max(m => m.DequeueCount);
            EngineLog.StepFailed(logger, workItem.InstanceId, dequeueCount, ex);
            span?.SetStatus(ActivityStatusCode.Error, ex.Message);
            try
            {
                await store.AbandonWorkflowWorkItemAsync(
                    workItem, $"{ex.GetType().Name}: {ex.Message}", options.AbandonDelay(dequeueCount), CancellationToken.None)
                    .ConfigureAwait(false);
            }
            catch (Exception abandonError)
            {
                EngineLog.StoreFailed(logger, "workflow", abandonError);
            }

            return;
        }

        Report(plan);
    }

    /// <summary>Decides what one step commits: message triage, poison handling, then the actions of the replayed code.</summary>
    private StepPlan Plan(WorkflowWorkItem workItem)
    {
        var now = options.TimeProvider.GetUtcNow();
        var live = TakeLiveExecution(workItem);
        var triage = StepMessageTriage.Sort(workItem, live?.Executor, now, store.MaxMessageDelay, logger);
        if (triage.Started is null && triage.NewStart is null)
        {
            return WaitForStart(workItem, triage, now);
        }

        if (PlanPoisoned(workItem, triage, now) is { } poisoned)
        {
            return poisoned;
        }

        if (triage.Ended || (triage.NewStart is null && triage.NewEvents.Count == 0))
        {
            return new StepPlan(new WorkflowStepResult(workItem.Instance) { WorkflowMessages = triage.Outbound }, 0, false);
        }

        return PlanActions(workItem, triage, live, now);
    }

    /// <summary>The instance's live execution if nothing else committed since it did (same execution, same history length).</summary>
    private LiveExecution? TakeLiveExecution(WorkflowWorkItem workItem)
    {
        if (!_liveExecutions.TryRemove(workItem.InstanceId, out var live))
        {
            return null;
        }

        return live.HistoryCount != workItem.History.Count || live.ExecutionId != workItem.Instance?.ExecutionId ? null : live;
    }

    /// <summary>No execution started: messages for an instance whose delayed start has not come yet wait until it has.</summary>
    private static StepPlan WaitForStart(WorkflowWorkItem workItem, StepMessageTriage triage, DateTimeOffset now)
    {
        var state = workItem.Instance;
        if (state is { Status: WorkflowStatus.Pending } && !triage.Ended)
        {
            var retryAt = state.ScheduledStartAt is { } startAt && startAt > now.AddSeconds(1) ? startAt : now.AddSeconds(1);
            triage.Outbound.AddRange(
                workItem.Messages.Select(m => m.Message with { MessageId = Guid.NewGuid().ToString("N"), VisibleAt = retryAt }));
        }

        return new StepPlan(new WorkflowStepResult(state) { WorkflowMessages = triage.Outbound }, 0, false);
    }

    /// <summary>
    /// A message delivered more often than the limit fails the instance (its execution started if it had not); null when none is.
    /// </summary>
    private StepPlan? PlanPoisoned(WorkflowWorkItem workItem, StepMessageTriage triage, DateTimeOffset now)
    {
        var poison = workItem.Messages.FirstOrDefault(m => m.DequeueCount > options.MaxDequeueCount);
        if (poison is null || triage.Ended)
        {
            return null;
        }

        var state = workItem.Instance;
        var start = triage.Started ?? ResolveVersion(triage.NewStart!);
        var failure = new TaskFailureDetails(
            "Gardien.Runtime.PoisonMessage",
            $"Message {poison.Message.Event} to workflow instance '{workItem.InstanceId}' was delivered {poison.DequeueCount} times "
            + "without being processed " +
            $"(limit {options.MaxDequeueCount}). Last error: {poison.LastError ?? "unknown (the worker stopped or crashed)"}.");
        var events = new List<HistoryEvent> { new(HistoryEventType.OrchestratorStarted, now.UtcDateTime) };
        if (triage.Started is null)
        {
            events.Add(start);
        }

        var run = new ExecutionResult { Outcome = ExecutionOutcome.Failed, Failure = failure, CustomStatus = state?.CustomStatus };
        var result = Finish(workItem.InstanceId, start, state, now, events, run, triage.Outbound, []);
        return new StepPlan(result, triage.Started is null ? 1 : 0, true);
    }

    /// <summary>
    /// Runs the execution (the live one, or a replay) over the step's events and turns what it did into the step's
    /// result; a ContinueAsNew starts the next execution within the same step, until one waits for something.
    /// </summary>
    private StepPlan PlanActions(WorkflowWorkItem workItem, StepMessageTriage triage, LiveExecution? live, DateTimeOffset now)
    {
        var nowUtc = now.UtcDateTime;
        var instanceId = workItem.InstanceId;
        var state = workItem.Instance;
        var outbound = triage.Outbound;
        var startedExecutions = 0;
        var execution = triage.Started;
        var stepEvents = new List<HistoryEvent> { new(HistoryEventType.OrchestratorStarted, nowUtc) };
        if (execution is null)
        {
            execution = ResolveVersion(triage.NewStart!);
            stepEvents.Add(execution);
            startedExecutions++;
        }

        stepEvents.AddRange(triage.NewEvents);
        IReadOnlyList<HistoryEvent> pastEvents = workItem.History;
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
            else if (registry.CreateWorkflow(
                execution.Name ?? string.Empty, execution.Version ?? string.Empty, services) is not { } workflow)
            {
                run = new ExecutionResult
                {
                    Outcome = ExecutionOutcome.Failed,
                    CustomStatus = customStatus,
                    Failure = new TaskFailureDetails(
                        "Gardien.Runtime.WorkflowNotRegistered",
                        $"No workflow named '{execution.Name}' version '{execution.Version}' is registered in this engine " +
                        $"(registered versions: {registry.DescribeWorkflowVersions(execution.Name ?? string.Empty)}). "
                        + "Register it with WorkflowRegistry.AddWorkflow."),
                };
            }
            else
            {
                executor = new WorkflowExecutor(workflow, instanceId, options.Serializer, loggerFactory, store.MaxMessageDelay);
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
                    Live = options.MaxCachedExecutions > 0 && !replaceHistory ? executor : null,
                    HistoryCountAfter = workItem.History.Count + result.NewHistory.Count,
                };
            }

            if (generation >= MaxContinueAsNewPerStep)
            {
                run.Outcome = ExecutionOutcome.Failed;
                run.Failure = new TaskFailureDetails(
                    "Gardien.Runtime.ContinueAsNewLoop",
                    $"Workflow '{execution.Name}' called ContinueAsNew {MaxContinueAsNewPerStep} times without waiting for anything; " +
                    "it must await an activity, timer or event between restarts.");
                var result = Finish(instanceId, execution, state, now, stepEvents, run, outbound, activityMessages) with
                {
                    ReplaceHistory = replaceHistory,
                    NewInstances = newInstances,
                };
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

    /// <summary>
    /// The step's result: the closing events (and the parent's completion message when the execution ended) and the new state.
    /// </summary>
    private static WorkflowStepResult Finish(
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
                    ? new HistoryEvent(HistoryEventType.SubOrchestrationInstanceCompleted, nowUtc)
                    {
                        TaskScheduledId = execution.ParentTaskId,
                        Result = run.Output,
                    }
                    : new HistoryEvent(HistoryEventType.SubOrchestrationInstanceFailed, nowUtc)
                    {
                        TaskScheduledId = execution.ParentTaskId,
                        FailureDetails = run.Failure ?? new TaskFailureDetails(
                            "Gardien.Runtime.SubWorkflowTerminated",
                            $"Sub-workflow '{execution.Name}' (instance '{instanceId}') was terminated: {run.Output}"),
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
        start.Version is not null
            ? start
            : start with { Version = registry.LatestVersion(start.Name ?? string.Empty) ?? WorkflowAttribute.DefaultVersion };

    /// <summary>Before a step's commit: keeps the still-running execution for the instance's next step, pending the commit.</summary>
    private LiveExecution? Keep(string instanceId, StepPlan plan)
    {
        if (plan.Live is not { CanContinue: true } executor
            || plan.Result.State is not { } state
            || state.Status.IsTerminal()
            || plan.Result.ReplaceHistory)
        {
            return null;
        }

        if (_liveExecutions.Count >= options.MaxCachedExecutions)
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
            metrics.Started.Add(plan.StartedExecutions, tags);
        }

        if (!plan.StatusChanged)
        {
            return;
        }

        EngineLog.InstanceStatus(logger, state.InstanceId, state.Name, state.Version, state.Status);
        if (state.Status == WorkflowStatus.Completed)
        {
            metrics.Completed.Add(1, tags);
        }
        else if (state.Status == WorkflowStatus.Failed)
        {
            metrics.Failed.Add(1, tags);
            EngineLog.InstanceFailed(logger, state.InstanceId, state.FailureDetails?.ToString() ?? "unknown");
        }
    }

    private sealed record LiveExecution(WorkflowExecutor Executor, string? ExecutionId, int HistoryCount)
    {
        public TaskCompletionSource<bool> Commit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<bool> Committed => Commit.Task;
    }

    private sealed record StepPlan(WorkflowStepResult Result, int StartedExecutions, bool StatusChanged)
    {
        /// <summary>The execution that produced the step, if it may continue at the next step once this one is committed.</summary>
        public WorkflowExecutor? Live { get; init; }

        public int HistoryCountAfter { get; init; }
    }
}
