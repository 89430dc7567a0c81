namespace Gardien.Runtime;

/// <summary>
/// Starts, signals, inspects and manages workflow instances; mirrors Durable Task's <c>DurableTaskClient</c>.
/// </summary>
public interface IWorkflowClient
{
    /// <summary>
    /// Schedules a new instance and returns its id. Idempotent per instance id: when an instance with
    /// <paramref name="instanceId"/> already exists (in any status, until purged) nothing new is scheduled and the same id is returned.
    /// </summary>
    /// <param name="instanceId">Defaults to a new random id.</param>
    /// <param name="startAt">Start no earlier than this time (durable; default: now).</param>
    Task<string> ScheduleNewAsync(string name, object? input = null, string? instanceId = null, DateTimeOffset? startAt = null, CancellationToken cancellationToken = default);

    /// <summary>Raises an event; if the instance is not waiting yet the event is buffered until it does. Events to a completed instance are discarded.</summary>
    Task RaiseEventAsync(string instanceId, string eventName, object? eventData = null, CancellationToken cancellationToken = default);

    /// <summary>Null when the instance does not exist.</summary>
    Task<WorkflowMetadata?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = true, bool getHistory = false, CancellationToken cancellationToken = default);

    Task<WorkflowQueryResult> QueryInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default);

    /// <summary>Terminates a non-terminal instance (asynchronously: the instance processes the request). Sub-workflows are not terminated.</summary>
    Task TerminateAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default);

    /// <summary>Suspends: the instance records incoming events but does not act on them until resumed.</summary>
    Task SuspendAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    Task ResumeAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a terminal instance with its history; false when it does not exist or is not terminal.</summary>
    Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Deletes every terminal instance matching the filter (paging and status filter of <paramref name="query"/> are ignored); returns how many.</summary>
    Task<int> PurgeInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default);

    /// <summary>Waits until the instance is Completed, Failed or Terminated; cancel to stop waiting.</summary>
    Task<WorkflowMetadata> WaitForCompletionAsync(string instanceId, bool getInputsAndOutputs = true, CancellationToken cancellationToken = default);

    /// <summary>Waits until the instance has started running (or ended).</summary>
    Task<WorkflowMetadata> WaitForStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default);
}

/// <summary>Base class of workflow clients (embedded engine, Durable Functions adapter).</summary>
public abstract class WorkflowClient : IWorkflowClient, IAsyncDisposable
{
    public abstract Task<string> ScheduleNewAsync(string name, object? input = null, string? instanceId = null, DateTimeOffset? startAt = null, CancellationToken cancellationToken = default);

    public abstract Task RaiseEventAsync(string instanceId, string eventName, object? eventData = null, CancellationToken cancellationToken = default);

    public abstract Task<WorkflowMetadata?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = true, bool getHistory = false, CancellationToken cancellationToken = default);

    public abstract Task<WorkflowQueryResult> QueryInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default);

    public abstract Task TerminateAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default);

    public abstract Task SuspendAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    public abstract Task ResumeAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    public abstract Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default);

    public abstract Task<int> PurgeInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default);

    public abstract Task<WorkflowMetadata> WaitForCompletionAsync(string instanceId, bool getInputsAndOutputs = true, CancellationToken cancellationToken = default);

    public abstract Task<WorkflowMetadata> WaitForStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default);

    /// <summary>Lists every page of a query.</summary>
    public async IAsyncEnumerable<WorkflowMetadata> QueryAllInstancesAsync(WorkflowQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var page = query;
        while (true)
        {
            var result = await QueryInstancesAsync(page, cancellationToken).ConfigureAwait(false);
            foreach (var instance in result.Instances)
            {
                yield return instance;
            }

            if (result.ContinuationToken is null)
            {
                yield break;
            }

            page = page with { ContinuationToken = result.ContinuationToken };
        }
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Instance filter and paging; mirrors Durable Task's <c>OrchestrationQuery</c>.</summary>
public sealed record WorkflowQuery
{
    /// <summary>Null or empty: any status.</summary>
    public IReadOnlyCollection<WorkflowStatus>? Statuses { get; init; }

    /// <summary>Inclusive lower bound on creation time.</summary>
    public DateTimeOffset? CreatedFrom { get; init; }

    /// <summary>Exclusive upper bound on creation time.</summary>
    public DateTimeOffset? CreatedTo { get; init; }

    public string? InstanceIdPrefix { get; init; }

    public int PageSize { get; init; } = 100;

    /// <summary>From the previous page's <see cref="WorkflowQueryResult.ContinuationToken"/>; opaque.</summary>
    public string? ContinuationToken { get; init; }

    public bool FetchInputsAndOutputs { get; init; }
}

/// <summary>One page of a query; <see cref="ContinuationToken"/> is null on the last page.</summary>
public sealed record WorkflowQueryResult(IReadOnlyList<WorkflowMetadata> Instances, string? ContinuationToken);

/// <summary>State of an instance as the client reports it; mirrors Durable Task's <c>OrchestrationMetadata</c>.</summary>
public sealed record WorkflowMetadata
{
    public WorkflowMetadata(string instanceId, string name, WorkflowStatus status, IWorkflowSerializer serializer)
    {
        InstanceId = instanceId;
        Name = name;
        Status = status;
        Serializer = serializer;
    }

    public string InstanceId { get; }

    public string Name { get; }

    public WorkflowStatus Status { get; init; }

    public string? Version { get; init; }

    public string? ExecutionId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastUpdatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Requested start time of a delayed start.</summary>
    public DateTimeOffset? ScheduledStartAt { get; init; }

    public string? ParentInstanceId { get; init; }

    public string? SerializedInput { get; init; }

    public string? SerializedOutput { get; init; }

    public string? SerializedCustomStatus { get; init; }

    /// <summary>Set when <see cref="Status"/> is Failed.</summary>
    public TaskFailureDetails? FailureDetails { get; init; }

    /// <summary>Only when asked for; the current execution's history.</summary>
    public IReadOnlyList<HistoryEvent>? History { get; init; }

    public bool IsRunning => Status is WorkflowStatus.Running or WorkflowStatus.Suspended or WorkflowStatus.ContinuedAsNew;

    public bool IsCompleted => Status.IsTerminal();

    private IWorkflowSerializer Serializer { get; }

    public T? ReadInputAs<T>() => Serializer.Deserialize<T>(SerializedInput);

    public T? ReadOutputAs<T>() => Serializer.Deserialize<T>(SerializedOutput);

    public T? ReadCustomStatusAs<T>() => Serializer.Deserialize<T>(SerializedCustomStatus);
}
