using DurableTask.Core.History;
using Gardien.Runtime;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using DurableHistoryEvent = DurableTask.Core.History.HistoryEvent;
using HistoryEvent = Gardien.Runtime.HistoryEvent;
using TaskFailureDetails = Gardien.Runtime.TaskFailureDetails;

namespace Gardien.Functions.Durable;

/// <summary>
/// The workflow client port over a Durable Task client (Durable Functions' <c>[DurableClient]</c>, the test host's
/// client, any <see cref="DurableTaskClient"/>). Scheduling keeps the port's contract: idempotent per instance id in
/// every status, which Durable Task alone is not (it restarts a completed instance started again with the same id).
/// </summary>
/// <param name="registry">When given, new instances start on the highest registered version of their workflow.</param>
public sealed class DurableWorkflowClient(
    DurableTaskClient client,
    IWorkflowSerializer? serializer = null,
    WorkflowRegistry? registry = null) : WorkflowClient
{
    private static readonly string[] AllStatuses = [.. Enum.GetValues<OrchestrationRuntimeStatus>().Select(s => s.ToString())];

    private readonly IWorkflowSerializer _serializer = serializer ?? JsonWorkflowSerializer.Default;

    public override async Task<string> ScheduleNewAsync(
        string name,
        object? input = null,
        string? instanceId = null,
        DateTimeOffset? startAt = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var id = instanceId ?? Guid.NewGuid().ToString("N");
        if (instanceId is not null && await client.GetInstanceAsync(id, false, cancellationToken).ConfigureAwait(false) is not null)
        {
            return id;
        }

        var options = new StartOrchestrationOptions(id, startAt)
        {
            DedupeStatuses = AllStatuses,
            Version = registry?.LatestVersion(name) is { } version ? new TaskVersion(version) : null,
        };
        try
        {
            return await client.ScheduleNewOrchestrationInstanceAsync(name, input, options, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A concurrent start of the same id loses the create race: the instance exists, which is the goal.
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            if (await client.GetInstanceAsync(id, false, cancellationToken).ConfigureAwait(false) is null)
            {
                throw;
            }

            return id;
        }
    }

    public override Task RaiseEventAsync(
        string instanceId,
        string eventName,
        object? eventData = null,
        CancellationToken cancellationToken = default) =>
        client.RaiseEventAsync(instanceId, eventName, eventData, cancellationToken);

    public override async Task<WorkflowMetadata?> GetInstanceAsync(
        string instanceId,
        bool getInputsAndOutputs = true,
        bool getHistory = false,
        CancellationToken cancellationToken = default)
    {
        var metadata = await client.GetInstanceAsync(instanceId, getInputsAndOutputs, cancellationToken).ConfigureAwait(false);
        if (metadata is null)
        {
            return null;
        }

        var mapped = Map(metadata);
        if (!getHistory)
        {
            return mapped;
        }

        var history = await client.GetOrchestrationHistoryAsync(instanceId, cancellationToken).ConfigureAwait(false);
        return mapped with { History = [.. history.Select(Map)] };
    }

    public override async Task<WorkflowQueryResult> QueryInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var durableQuery = new OrchestrationQuery
        {
            CreatedFrom = query.CreatedFrom,
            CreatedTo = query.CreatedTo,
            Statuses = query.Statuses is { Count: > 0 } statuses ? [.. statuses.Select(Map)] : null,
            InstanceIdPrefix = query.InstanceIdPrefix,
            PageSize = query.PageSize,
            FetchInputsAndOutputs = query.FetchInputsAndOutputs,
            ContinuationToken = query.ContinuationToken,
        };
        await foreach (var page in client.GetAllInstancesAsync(durableQuery)
            .AsPages(query.ContinuationToken, query.PageSize)
            .WithCancellation(cancellationToken)
            .ConfigureAwait(false))
        {
            return new WorkflowQueryResult(
                [.. page.Values.Select(Map)], string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        }

        return new WorkflowQueryResult([], null);
    }

    public override async Task TerminateAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default)
    {
        // The port terminates non-terminal instances only; Durable Task ignores the request for ended ones as well.
        await client.TerminateInstanceAsync(instanceId, new TerminateInstanceOptions(output, Recursive: false), cancellationToken)
            .ConfigureAwait(false);
    }

    public override Task SuspendAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        client.SuspendInstanceAsync(instanceId, reason, cancellationToken);

    public override Task ResumeAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        client.ResumeInstanceAsync(instanceId, reason, cancellationToken);

    public override async Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var existing = await client.GetInstanceAsync(instanceId, false, cancellationToken).ConfigureAwait(false);
        if (existing is null || !existing.IsCompleted)
        {
            return false;
        }

        var result = await client.PurgeInstanceAsync(instanceId, cancellation: cancellationToken).ConfigureAwait(false);
        return result.PurgedInstanceCount > 0;
    }

    public override async Task<int> PurgeInstancesAsync(WorkflowQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.InstanceIdPrefix is null)
        {
            var filter = new PurgeInstancesFilter(
                query.CreatedFrom,
                query.CreatedTo,
                [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated]);
            return (await client.PurgeAllInstancesAsync(filter, cancellationToken).ConfigureAwait(false)).PurgedInstanceCount;
        }

        // Durable Task purges by time and status only: a prefix is applied by listing the terminal instances first.
        var purged = 0;
        var terminal = query with
        {
            Statuses = [WorkflowStatus.Completed, WorkflowStatus.Failed, WorkflowStatus.Terminated],
            ContinuationToken = null,
            FetchInputsAndOutputs = false,
        };
        var ids = new List<string>();
        await foreach (var instance in QueryAllInstancesAsync(terminal, cancellationToken).ConfigureAwait(false))
        {
            ids.Add(instance.InstanceId);
        }

        foreach (var id in ids)
        {
            purged += (await client.PurgeInstanceAsync(id, cancellation: cancellationToken).ConfigureAwait(false)).PurgedInstanceCount;
        }

        return purged;
    }

    public override async Task<WorkflowMetadata> WaitForCompletionAsync(
        string instanceId,
        bool getInputsAndOutputs = true,
        CancellationToken cancellationToken = default) =>
        Map(await client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs, cancellationToken).ConfigureAwait(false));

    public override async Task<WorkflowMetadata> WaitForStartAsync(
        string instanceId,
        bool getInputsAndOutputs = false,
        CancellationToken cancellationToken = default) =>
        Map(await client.WaitForInstanceStartAsync(instanceId, getInputsAndOutputs, cancellationToken).ConfigureAwait(false));

    // Canceled and ContinuedAsNew are obsolete in Durable Task (never reported by current backends) but still mapped.
#pragma warning disable CS0618
    public static WorkflowStatus Map(OrchestrationRuntimeStatus status) => status switch
    {
        OrchestrationRuntimeStatus.Running => WorkflowStatus.Running,
        OrchestrationRuntimeStatus.Completed => WorkflowStatus.Completed,
        OrchestrationRuntimeStatus.ContinuedAsNew => WorkflowStatus.ContinuedAsNew,
        OrchestrationRuntimeStatus.Failed => WorkflowStatus.Failed,
        OrchestrationRuntimeStatus.Canceled => WorkflowStatus.Terminated,
        OrchestrationRuntimeStatus.Terminated => WorkflowStatus.Terminated,
        OrchestrationRuntimeStatus.Pending => WorkflowStatus.Pending,
        OrchestrationRuntimeStatus.Suspended => WorkflowStatus.Suspended,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown Durable Task status."),
    };

    public static OrchestrationRuntimeStatus Map(WorkflowStatus status) => status switch
    {
        WorkflowStatus.Pending => OrchestrationRuntimeStatus.Pending,
        WorkflowStatus.Running => OrchestrationRuntimeStatus.Running,
        WorkflowStatus.Completed => OrchestrationRuntimeStatus.Completed,
        WorkflowStatus.Failed => OrchestrationRuntimeStatus.Failed,
        WorkflowStatus.Terminated => OrchestrationRuntimeStatus.Terminated,
        WorkflowStatus.Suspended => OrchestrationRuntimeStatus.Suspended,
        WorkflowStatus.ContinuedAsNew => OrchestrationRuntimeStatus.ContinuedAsNew,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown workflow status."),
    };
#pragma warning restore CS0618

    private WorkflowMetadata Map(OrchestrationMetadata metadata) =>
        new(metadata.InstanceId, metadata.Name, Map(metadata.RuntimeStatus), _serializer)
        {
            CreatedAt = metadata.CreatedAt,
            LastUpdatedAt = metadata.LastUpdatedAt,
            CompletedAt = metadata.IsCompleted ? metadata.LastUpdatedAt : null,
            SerializedInput = metadata.SerializedInput,
            SerializedOutput = metadata.SerializedOutput,
            SerializedCustomStatus = metadata.SerializedCustomStatus,
            FailureDetails = metadata.FailureDetails is { } failure ? DurableWorkflowContext.Map(failure) : null,
        };

    private static HistoryEvent Map(DurableHistoryEvent e)
    {
        var type = e.EventType switch
        {
            EventType.ExecutionFailed => HistoryEventType.ExecutionCompleted,
            EventType.HistoryState or EventType.ExecutionRewound => HistoryEventType.GenericEvent,
            var other => Enum.Parse<HistoryEventType>(other.ToString()),
        };
        var mapped = new HistoryEvent(type, e.Timestamp, e.EventId);
        return e switch
        {
            ExecutionStartedEvent s => mapped with
            {
                Name = s.Name,
                Version = s.Version,
                Input = s.Input,
                InstanceId = s.OrchestrationInstance?.InstanceId,
                ExecutionId = s.OrchestrationInstance?.ExecutionId,
                ParentInstanceId = s.ParentInstance?.OrchestrationInstance?.InstanceId,
                ParentTaskId = s.ParentInstance?.TaskScheduleId ?? -1,
                ScheduledStartTime = s.ScheduledStartTime,
            },
            ContinueAsNewEvent n => mapped with { Result = n.Result },
            ExecutionCompletedEvent c => mapped with
            {
                Result = c.Result,
                Status = c.OrchestrationStatus == DurableTask.Core.OrchestrationStatus.Failed
                    ? WorkflowStatus.Failed
                    : WorkflowStatus.Completed,
                FailureDetails = Map(c.FailureDetails),
            },
            ExecutionTerminatedEvent t => mapped with { Input = t.Input },
            TaskScheduledEvent s => mapped with { Name = s.Name, Version = s.Version, Input = s.Input },
            TaskCompletedEvent c => mapped with { TaskScheduledId = c.TaskScheduledId, Result = c.Result },
            TaskFailedEvent f => mapped with
            {
                TaskScheduledId = f.TaskScheduledId,
                FailureDetails = Map(f.FailureDetails),
                Reason = f.Reason,
            },
            TimerCreatedEvent t => mapped with { FireAt = t.FireAt },
            TimerFiredEvent t => mapped with { TaskScheduledId = t.TimerId, FireAt = t.FireAt },
            EventRaisedEvent r => mapped with { Name = r.Name, Input = r.Input },
            EventSentEvent s => mapped with { Name = s.Name, InstanceId = s.InstanceId, Input = s.Input },
            SubOrchestrationInstanceCreatedEvent s => mapped with
            {
                Name = s.Name,
                Version = s.Version,
                InstanceId = s.InstanceId,
                Input = s.Input,
            },
            SubOrchestrationInstanceCompletedEvent c => mapped with { TaskScheduledId = c.TaskScheduledId, Result = c.Result },
            SubOrchestrationInstanceFailedEvent f => mapped with
            {
                TaskScheduledId = f.TaskScheduledId,
                FailureDetails = Map(f.FailureDetails),
                Reason = f.Reason,
            },
            ExecutionSuspendedEvent s => mapped with { Reason = s.Reason },
            _ => mapped,
        };
    }

    private static TaskFailureDetails? Map(DurableTask.Core.FailureDetails? failure) =>
        failure is null
            ? null
            : new TaskFailureDetails(failure.ErrorType, failure.ErrorMessage, failure.StackTrace, Map(failure.InnerFailure));
}
