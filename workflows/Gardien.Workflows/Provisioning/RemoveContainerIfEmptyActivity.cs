using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Provisioning;

/// <param name="OwnerInstanceId">Only a container created by this instance is deleted.</param>
public sealed record RemoveContainerIfEmptyInput(
    string DmpId,
    string DatasetId,
    string Container,
    string OwnerInstanceId,
    string Reason,
    DateTimeOffset At,
    string Actor);

/// <summary>
/// Compensation of <see cref="ProvisionContainerActivity"/>: deletes the container only when it is empty and was created
/// by the given instance (never data, never another run's container), and marks the dataset Failed. Idempotent.
/// </summary>
public sealed class RemoveContainerIfEmptyActivity(
    IStorageProvisioner storage,
    IGovernanceRegistry registry,
    IAuditLog audit) : Activity<RemoveContainerIfEmptyInput, ContainerDeletionOutcome>
{
    public override async Task<ContainerDeletionOutcome> RunAsync(ActivityContext context, RemoveContainerIfEmptyInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var outcome = await storage.DeleteContainerIfEmptyAsync(input.Container, input.OwnerInstanceId, ct);
        if (outcome is ContainerDeletionOutcome.Deleted or ContainerDeletionOutcome.NotFound)
        {
            var dataset = await registry.GetDatasetAsync(input.DmpId, input.DatasetId, ct);
            if (dataset is not null && dataset.CreatedByInstanceId == input.OwnerInstanceId && dataset.State != DatasetState.Failed)
            {
                await registry.UpsertDatasetAsync(dataset with { State = DatasetState.Failed, UpdatedAt = input.At }, ct);
            }
        }

        await audit.AppendAsync(
            AuditEntries.Create(
                input.Actor,
                "container.compensated",
                context.InstanceId,
                AuditEntries.ContainerSubject(input.Container),
                input.At.UtcDateTime,
                after: new { outcome = outcome.ToString(), reason = input.Reason }),
            ct);
        return outcome;
    }
}
