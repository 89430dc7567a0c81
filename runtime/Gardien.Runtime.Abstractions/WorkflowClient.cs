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
    /// <param name="name">The registered workflow to run.</param>
    /// <param name="input">Its input (serialised with the workflow serializer).</param>
    /// <param name="instanceId">Defaults to a new random id.</param>
    /// <param name="startAt">Start no earlier than this time (durable; default: now).</param>
    /// <param name="cancellationToken">Cancels the call, not the instance.</param>
    Task<string> ScheduleNewAsync(
        string name,
        object? input = null,
        string? instanceId = null,
        DateTimeOffset? startAt = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Raises an event; if the instance is not waiting yet the event is buffered until it does. Events to a completed instance are
    /// discarded.
    /// </summary>
    Task RaiseEventAsync(string instanceId, string eventName, object? eventData = null, CancellationToken cancellationToken = default);

    /// <summary>Null when the instance does not exist.</summary>
    Task<WorkflowMetadata?> GetInstanceAsync(
        string instanceId,
        bool getInputsAndOutputs = true,
        bool getHistory = false,
        CancellationToken cancellationToken = default);

    /// <summary>One page of the instances matching <paramref name="query"/>.</summary>
    Task<WorkflowQueryResult> QueryInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Terminates a non-terminal instance (asynchronously: the instance processes the request). Sub-workflows are not terminated.
    /// </summary>
    Task TerminateAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default);

    /// <summary>Suspends: the instance records incoming events but does not act on them until resumed.</summary>
    Task SuspendAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Resumes a suspended instance: it acts on the events it recorded meanwhile.</summary>
    Task ResumeAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a terminal instance with its history; false when it does not exist or is not terminal.</summary>
    Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every terminal instance matching the filter (paging and status filter of <paramref name="query"/> are ignored); returns how
    /// many.
    /// </summary>
    Task<int> PurgeInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default);

    /// <summary>Waits until the instance is Completed, Failed or Terminated; cancel to stop waiting.</summary>
    Task<WorkflowMetadata> WaitForCompletionAsync(
        string instanceId,
        bool getInputsAndOutputs = true,
        CancellationToken cancellationToken = default);

    /// <summary>Waits until the instance has started running (or ended).</summary>
    Task<WorkflowMetadata> WaitForStartAsync(
        string instanceId,
        bool getInputsAndOutputs = false,
        CancellationToken cancellationToken = default);
}

/// <summary>Base class of workflow clients (embedded engine, Durable Functions adapter).</summary>
public abstract class WorkflowClient : IWorkflowClient, IAsyncDisposable
{
    /// <inheritdoc/>
    public abstract Task<string> ScheduleNewAsync(
        string name,
        object? input = null,
        string? instanceId = null,
        DateTimeOffset? startAt = null,
        CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task RaiseEventAsync(
        string instanceId,
        string eventName,
        object? eventData = null,
        CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task<WorkflowMetadata?> GetInstanceAsync(
        string instanceId,
        bool getInputsAndOutputs = true,
        bool getHistory = false,
        CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task<WorkflowQueryResult> QueryInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task TerminateAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task SuspendAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task ResumeAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task<int> PurgeInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task<WorkflowMetadata> WaitForCompletionAsync(
        string instanceId,
        bool getInputsAndOutputs = true,
        CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract Task<WorkflowMetadata> WaitForStartAsync(
        string instanceId,
        bool getInputsAndOutputs = false,
        CancellationToken cancellationToken = default);

    /// <summary>Lists every page of a query.</summary>
    public async IAsyncEnumerable<WorkflowMetadata> QueryAllInstancesAsync(
        WorkflowQuery query,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
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

    /// <summary>Releases what the client holds (nothing by default).</summary>
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

    /// <summary>Only instances whose id starts with this.</summary>
    public string? InstanceIdPrefix { get; init; }

    /// <summary>Instances per page.</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>From the previous page's <see cref="WorkflowQueryResult.ContinuationToken"/>; opaque.</summary>
    public string? ContinuationToken { get; init; }

    /// <summary>Whether the instances come with their serialised input, output and custom status.</summary>
    public bool FetchInputsAndOutputs { get; init; }
}

/// <summary>One page of a query; <see cref="ContinuationToken"/> is null on the last page.</summary>
public sealed record WorkflowQueryResult(IReadOnlyList<WorkflowMetadata> Instances, string? ContinuationToken);

/// <summary>State of an instance as the client reports it; mirrors Durable Task's <c>OrchestrationMetadata</c>.</summary>
public sealed record WorkflowMetadata
{
    /// <summary>
    /// The state of instance <paramref name="instanceId"/> of workflow <paramref name="name"/>; <paramref name="serializer"/> reads its
    /// payloads.
    /// </summary>
    public WorkflowMetadata(string instanceId, string name, WorkflowStatus status, IWorkflowSerializer serializer)
    {
        InstanceId = instanceId;
        Name = name;
        Status = status;
        Serializer = serializer;
    }

    /// <summary>The instance id.</summary>
    public string InstanceId { get; }

    /// <summary>The workflow's registered name.</summary>
    public string Name { get; }

    /// <summary>Where the instance is.</summary>
    public WorkflowStatus Status { get; init; }

    /// <summary>The workflow version the instance runs.</summary>
    public string? Version { get; init; }

    /// <summary>The current execution (a new one after each continue-as-new).</summary>
    public string? ExecutionId { get; init; }

    /// <summary>When the instance was scheduled.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When a step last changed the instance.</summary>
    public DateTimeOffset LastUpdatedAt { get; init; }

    /// <summary>When it ended; null while it runs.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Requested start time of a delayed start.</summary>
    public DateTimeOffset? ScheduledStartAt { get; init; }

    /// <summary>The workflow that started this one as a sub-workflow; null for a top-level instance.</summary>
    public string? ParentInstanceId { get; init; }

    /// <summary>The input as stored (only when inputs and outputs were asked for).</summary>
    public string? SerializedInput { get; init; }

    /// <summary>The output as stored, once completed (only when inputs and outputs were asked for).</summary>
    public string? SerializedOutput { get; init; }

    /// <summary>The custom status the workflow last set, as stored.</summary>
    public string? SerializedCustomStatus { get; init; }

    /// <summary>Set when <see cref="Status"/> is Failed.</summary>
    public TaskFailureDetails? FailureDetails { get; init; }

    /// <summary>Only when asked for; the current execution's history.</summary>
    public IReadOnlyList<HistoryEvent>? History { get; init; }

    /// <summary>True while the instance has started and not ended.</summary>
    public bool IsRunning => Status is WorkflowStatus.Running or WorkflowStatus.Suspended or WorkflowStatus.ContinuedAsNew;

    /// <summary>True once Completed, Failed or Terminated.</summary>
    public bool IsCompleted => Status.IsTerminal();

    private IWorkflowSerializer Serializer { get; }

    /// <summary>The input read as a <typeparamref name="T"/>.</summary>
    public T? ReadInputAs<T>() => Serializer.Deserialize<T>(SerializedInput);

    /// <summary>The output read as a <typeparamref name="T"/>.</summary>
    public T? ReadOutputAs<T>() => Serializer.Deserialize<T>(SerializedOutput);

    /// <summary>The custom status read as a <typeparamref name="T"/>.</summary>
    public T? ReadCustomStatusAs<T>() => Serializer.Deserialize<T>(SerializedCustomStatus);
}
