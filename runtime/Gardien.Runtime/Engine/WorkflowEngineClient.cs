using Gardien.Runtime.Storage;

namespace Gardien.Runtime.Engine;

/// <summary>
/// <see cref="WorkflowClient"/> over an <see cref="IWorkflowStore"/>: every call is a store write or read, so it works
/// from any process sharing the store, whether or not an engine runs there.
/// </summary>
public sealed class WorkflowEngineClient : WorkflowClient
{
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(1);

    private readonly IWorkflowStore _store;
    private readonly IWorkflowSerializer _serializer;
    private readonly TimeProvider _time;
    private readonly WorkflowRegistry? _registry;

    /// <param name="registry">When given, new instances are pinned to the highest registered version at schedule time.</param>
    public WorkflowEngineClient(
        IWorkflowStore store,
        IWorkflowSerializer? serializer = null,
        TimeProvider? timeProvider = null,
        WorkflowRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _serializer = serializer ?? JsonWorkflowSerializer.Default;
        _time = timeProvider ?? TimeProvider.System;
        _registry = registry;
    }

    public override async Task<string> ScheduleNewAsync(
        string name,
        object? input = null,
        string? instanceId = null,
        DateTimeOffset? startAt = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (instanceId is not null)
        {
            ValidateInstanceId(instanceId);
        }

        var id = instanceId ?? Guid.NewGuid().ToString("N");
        var now = _time.GetUtcNow();
        var data = _serializer.Serialize(input);
        var version = _registry?.LatestVersion(name);
        var executionId = Guid.NewGuid().ToString("N");
        var start = new HistoryEvent(HistoryEventType.ExecutionStarted, now.UtcDateTime)
        {
            Name = name,
            Version = version,
            InstanceId = id,
            ExecutionId = executionId,
            Input = data,
            ScheduledStartTime = startAt?.UtcDateTime,
        };
        var state = new WorkflowInstanceState(id, name)
        {
            Version = version,
            ExecutionId = executionId,
            Status = WorkflowStatus.Pending,
            CreatedAt = now,
            LastUpdatedAt = now,
            ScheduledStartAt = startAt,
            Input = data,
        };
        await _store.CreateInstanceAsync(
            state, new WorkflowMessage(id, start) { VisibleAt = startAt > now ? startAt : null }, cancellationToken)
            .ConfigureAwait(false);
        return id;
    }

    public override Task RaiseEventAsync(
        string instanceId,
        string eventName,
        object? eventData = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        return Send(
            instanceId,
            new HistoryEvent(HistoryEventType.EventRaised, Now) { Name = eventName, Input = _serializer.Serialize(eventData) },
            cancellationToken);
    }

    public override async Task<WorkflowMetadata?> GetInstanceAsync(
        string instanceId, bool getInputsAndOutputs = true, bool getHistory = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        var state = await _store.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (state is null)
        {
            return null;
        }

        var history = getHistory ? await _store.GetHistoryAsync(instanceId, cancellationToken).ConfigureAwait(false) : null;
        return ToMetadata(state, getInputsAndOutputs) with { History = history };
    }

    public override async Task<WorkflowQueryResult> QueryInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.PageSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.PageSize, "The page size must be at least 1.");
        }

        var page = await _store.QueryInstancesAsync(query, cancellationToken).ConfigureAwait(false);
        return new WorkflowQueryResult([.. page.Instances.Select(s => ToMetadata(s, query.FetchInputsAndOutputs))], page.ContinuationToken);
    }

    public override Task TerminateAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default) =>
        Send(
            instanceId,
            new HistoryEvent(HistoryEventType.ExecutionTerminated, Now) { Result = _serializer.Serialize(output) },
            cancellationToken);

    public override Task SuspendAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        Send(instanceId, new HistoryEvent(HistoryEventType.ExecutionSuspended, Now) { Reason = reason }, cancellationToken);

    public override Task ResumeAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        Send(instanceId, new HistoryEvent(HistoryEventType.ExecutionResumed, Now) { Reason = reason }, cancellationToken);

    public override Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        return _store.PurgeInstanceAsync(instanceId, cancellationToken);
    }

    public override async Task<int> PurgeInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var terminal = new[] { WorkflowStatus.Completed, WorkflowStatus.Failed, WorkflowStatus.Terminated };
        var filter = query with
        {
            Statuses = query.Statuses is { Count: > 0 } ? [.. query.Statuses.Where(terminal.Contains)] : terminal,
            ContinuationToken = null,
            FetchInputsAndOutputs = false,
        };
        if (filter.Statuses!.Count == 0)
        {
            return 0;
        }

        var ids = new List<string>();
        await foreach (var instance in QueryAllInstancesAsync(filter, cancellationToken).ConfigureAwait(false))
        {
            ids.Add(instance.InstanceId);
        }

        var purged = 0;
        foreach (var id in ids)
        {
            if (await _store.PurgeInstanceAsync(id, cancellationToken).ConfigureAwait(false))
            {
                purged++;
            }
        }

        return purged;
    }

    public override Task<WorkflowMetadata> WaitForCompletionAsync(
        string instanceId,
        bool getInputsAndOutputs = true,
        CancellationToken cancellationToken = default) =>
        WaitUntilAsync(instanceId, getInputsAndOutputs, s => s.IsTerminal(), cancellationToken);

    public override Task<WorkflowMetadata> WaitForStartAsync(
        string instanceId,
        bool getInputsAndOutputs = false,
        CancellationToken cancellationToken = default) =>
        WaitUntilAsync(instanceId, getInputsAndOutputs, s => s != WorkflowStatus.Pending, cancellationToken);

    private async Task<WorkflowMetadata> WaitUntilAsync(
        string instanceId,
        bool getInputsAndOutputs,
        Func<WorkflowStatus, bool> reached,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        var notifier = _store as IWorkflowStoreChangeNotifier;
        var poll = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            // Subscribe before reading so that a commit in between is not missed.
            var changed = notifier?.WaitForInstanceChangeAsync(instanceId, cancellationToken);
            var state = await _store.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false);
            if (state is not null && reached(state.Status))
            {
                return ToMetadata(state, getInputsAndOutputs);
            }

            // Real time on purpose: polling must not depend on a fake clock that tests advance by hand.
            var delay = Task.Delay(poll, TimeProvider.System, cancellationToken);
            await (changed is null ? delay : Task.WhenAny(changed, delay)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            poll = TimeSpan.FromTicks(Math.Min(MaxPollInterval.Ticks, poll.Ticks * 2));
        }
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    private Task Send(string instanceId, HistoryEvent e, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        return _store.SendMessageAsync(new WorkflowMessage(instanceId, e), cancellationToken);
    }

    private WorkflowMetadata ToMetadata(WorkflowInstanceState state, bool withPayloads) =>
        new(state.InstanceId, state.Name, state.Status, _serializer)
        {
            Version = state.Version,
            ExecutionId = state.ExecutionId,
            CreatedAt = state.CreatedAt,
            LastUpdatedAt = state.LastUpdatedAt,
            CompletedAt = state.CompletedAt,
            ScheduledStartAt = state.ScheduledStartAt,
            ParentInstanceId = state.ParentInstanceId,
            SerializedInput = withPayloads ? state.Input : null,
            SerializedOutput = withPayloads ? state.Output : null,
            SerializedCustomStatus = state.CustomStatus,
            FailureDetails = state.FailureDetails,
        };

    private static void ValidateInstanceId(string instanceId)
    {
        if (string.IsNullOrWhiteSpace(instanceId)
            || instanceId.Length > 256
            || instanceId.Any(c => char.IsControl(c) || c is '/' or '\\' or '#' or '?'))
        {
            throw new ArgumentException(
                $"Instance id '{instanceId}' is not valid: use 1 to 256 characters without '/', '\\', '#', "
                + "'?' or control characters (Azure Table keys forbid them).",
                nameof(instanceId));
        }
    }
}
