using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Gardien.Functions.Tests.Backend;

/// <summary>
/// A <see cref="DurableTaskClient"/> over the framework's <see cref="TaskHubClient"/>, so that the Functions app's
/// <c>DurableWorkflowClient</c> drives the Azure Storage backend directly. Covers what the scenarios and benchmarks
/// use (start, events, status, waits); management calls are not needed there.
/// </summary>
public sealed class TaskHubDurableClient(TaskHubClient hub, DataConverter converter) : DurableTaskClient("dtf-azure-storage")
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName,
        object? input = null,
        StartOrchestrationOptions? options = null,
        CancellationToken cancellation = default)
    {
        var id = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        OrchestrationStatus[] dedupe =
        [
            OrchestrationStatus.Pending,
            OrchestrationStatus.Running,
            OrchestrationStatus.Completed,
            OrchestrationStatus.Failed,
            OrchestrationStatus.Terminated,
            OrchestrationStatus.Suspended,
        ];
        // The framework dispatches on name and version, and the shims are registered without a version (Durable Functions
        // dispatches on the function name alone): the workflow's version is resolved by the adapter instead.
        var instance = await hub.CreateOrchestrationInstanceAsync(orchestratorName.Name, string.Empty, id, input, null, dedupe)
            .ConfigureAwait(false);
        return instance.InstanceId;
    }

    public override Task RaiseEventAsync(
        string instanceId,
        string eventName,
        object? eventPayload = null,
        CancellationToken cancellation = default) =>
        hub.RaiseEventAsync(new OrchestrationInstance { InstanceId = instanceId }, eventName, eventPayload!);

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(
        string instanceId,
        bool getInputsAndOutputs = false,
        CancellationToken cancellation = default)
    {
        var state = await hub.GetOrchestrationStateAsync(instanceId).ConfigureAwait(false);
        return state is null ? null : Map(state, getInputsAndOutputs);
    }

    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(
        string instanceId,
        bool getInputsAndOutputs = false,
        CancellationToken cancellation = default)
    {
        while (true)
        {
            if (await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation).ConfigureAwait(false) is { IsCompleted: true } done)
            {
                return done;
            }

            await Task.Delay(Poll, cancellation).ConfigureAwait(false);
        }
    }

    public override async Task<OrchestrationMetadata> WaitForInstanceStartAsync(
        string instanceId,
        bool getInputsAndOutputs = false,
        CancellationToken cancellation = default)
    {
        while (true)
        {
            if (await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation)
                .ConfigureAwait(false) is { RuntimeStatus: not OrchestrationRuntimeStatus.Pending } started)
            {
                return started;
            }

            await Task.Delay(Poll, cancellation).ConfigureAwait(false);
        }
    }

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        hub.SuspendInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, reason);

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        hub.ResumeInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, reason);

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) =>
        throw new NotSupportedException("Queries are not used on this backend by the scenarios or benchmarks.");

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private OrchestrationMetadata Map(OrchestrationState state, bool withData) => new(state.Name, state.OrchestrationInstance.InstanceId)
    {
        RuntimeStatus = (OrchestrationRuntimeStatus)(int)state.OrchestrationStatus,
        CreatedAt = state.CreatedTime,
        LastUpdatedAt = state.LastUpdatedTime,
        SerializedInput = withData ? state.Input : null,
        SerializedOutput = withData ? state.Output : null,
        SerializedCustomStatus = withData ? state.Status : null,
        FailureDetails = state.FailureDetails is { } f
            ? new TaskFailureDetails(f.ErrorType, f.ErrorMessage, f.StackTrace, null, null)
            : null,
        DataConverter = converter,
    };
}
