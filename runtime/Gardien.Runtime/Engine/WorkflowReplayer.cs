namespace Gardien.Runtime.Engine;

/// <summary>
/// Replays a recorded history against the workflow code registered today, with no store and no engine (Temporal's
/// <c>WorkflowReplayer</c> is the model): the code must take, in order, the actions the history recorded (activities,
/// timers, sub-workflows, events sent) and no others, and end the way the history ended. A history saved from a
/// running instance and replayed after a change to the code tells whether such instances survive a deployment.
/// </summary>
public sealed class WorkflowReplayer
{
    private readonly WorkflowRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly IWorkflowSerializer _serializer;

    /// <param name="registry">The workflows as registered today (the history names the one to replay).</param>
    /// <param name="services">What the workflow classes are created from (workflows rarely need anything).</param>
    /// <param name="serializer">The serializer the history's payloads were written with.</param>
    public WorkflowReplayer(WorkflowRegistry registry, IServiceProvider? services = null, IWorkflowSerializer? serializer = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
        _services = services ?? NoServices.Instance;
        _serializer = serializer ?? JsonWorkflowSerializer.Default;
    }

    /// <summary>Replays one execution's history (from its <c>ExecutionStarted</c> on); never throws for a divergence, reports it.</summary>
    public WorkflowReplayResult Replay(IReadOnlyList<HistoryEvent> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var started = history.FirstOrDefault(e => e.EventType == HistoryEventType.ExecutionStarted)
            ?? throw new ArgumentException(
                "The history has no ExecutionStarted event: it is not the history of an execution.", nameof(history));
        var name = started.Name ?? throw new ArgumentException("The history's ExecutionStarted event names no workflow.", nameof(history));
        var version = string.IsNullOrEmpty(started.Version) ? _registry.LatestVersion(name) : started.Version;
        if (version is null || _registry.CreateWorkflow(name, version, _services) is not { } workflow)
        {
            return new WorkflowReplayResult(
                name, false, $"Workflow '{name}' version '{started.Version}' is not registered: register it to replay this history.");
        }

        var instanceId = started.InstanceId ?? "replay";
        var executor = new WorkflowExecutor(workflow, instanceId, _serializer, loggerFactory: null, maxTimerDelay: null);
        var result = executor.Execute(history, [], customStatus: null);
        if (result.NonDeterministic)
        {
            return new WorkflowReplayResult(name, false, result.Failure?.ErrorMessage);
        }

        if (result.ActionEvents.Count > 0)
        {
            return new WorkflowReplayResult(name, false,
                $"After the recorded history, the replayed code of '{name}' took actions the history does not have: "
                + string.Join(", ", result.ActionEvents.Select(e => e.ToString())) + ".");
        }

        var recordedActions = history.Where(IsAction).ToList();
        if (executor.ActionsTaken < recordedActions.Count)
        {
            return new WorkflowReplayResult(name, false,
                $"The replayed code of '{name}' ended ({result.Outcome}) after {executor.ActionsTaken} of the {recordedActions.Count} "
                + $"actions the history recorded; the next recorded one is {recordedActions[executor.ActionsTaken]}.");
        }

        var recorded = history.LastOrDefault(e =>
            e.EventType is HistoryEventType.ExecutionCompleted or HistoryEventType.ContinueAsNew or HistoryEventType.ExecutionTerminated);
        var replayed = result.Outcome;
        var expected = recorded?.EventType switch
        {
            HistoryEventType.ContinueAsNew => ExecutionOutcome.ContinuedAsNew,
            HistoryEventType.ExecutionTerminated => ExecutionOutcome.Terminated,
            HistoryEventType.ExecutionCompleted when recorded.Status == WorkflowStatus.Failed => ExecutionOutcome.Failed,
            HistoryEventType.ExecutionCompleted => ExecutionOutcome.Completed,
            _ => ExecutionOutcome.Running,
        };
        return replayed == expected
            ? new WorkflowReplayResult(name, true, null)
            : new WorkflowReplayResult(name, false,
                $"The history of '{name}' ended {expected}, the replayed code ended {replayed}"
                + (result.Failure is { } failure ? ": " + failure : string.Empty) + ".");
    }

    private static bool IsAction(HistoryEvent e) => e.EventType is HistoryEventType.TaskScheduled or HistoryEventType.TimerCreated
        or HistoryEventType.SubOrchestrationInstanceCreated or HistoryEventType.EventSent;

    private sealed class NoServices : IServiceProvider
    {
        public static NoServices Instance { get; } = new();

        public object? GetService(Type serviceType) => null;
    }
}

/// <summary>What replaying a history showed.</summary>
/// <param name="WorkflowName">The workflow the history belongs to.</param>
/// <param name="Succeeded">True when the code took exactly the recorded actions and ended as the history did.</param>
/// <param name="Divergence">Where the code departed from the history; null when it did not.</param>
public sealed record WorkflowReplayResult(string WorkflowName, bool Succeeded, string? Divergence);
