using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Provisioning;

public sealed record UpdateDatasetRetentionInput(
    string DmpId,
    string DatasetId,
    string Container,
    DateOnly KeepUntil,
    DisposalAction Disposal,
    DateTimeOffset At,
    string Actor);

/// <param name="BlobsRetagged">Blobs whose keep-until tag was rewritten.</param>
public sealed record UpdateDatasetRetentionResult(bool Changed, int BlobsRetagged);

/// <summary>
/// Applies a changed retention to a dataset: registry keep-until and disposal, container metadata, and the keep-until
/// index tag of every blob (what the retention sweep queries). Idempotent.
/// </summary>
public sealed class UpdateDatasetRetentionActivity(
    IStorageProvisioner storage,
    IGovernanceRegistry registry,
    IAuditLog audit) : Activity<UpdateDatasetRetentionInput, UpdateDatasetRetentionResult>
{
    public override async Task<UpdateDatasetRetentionResult> RunAsync(ActivityContext context, UpdateDatasetRetentionInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var dataset = await registry.GetDatasetAsync(input.DmpId, input.DatasetId, ct)
            ?? throw new PortNotFoundException(
                $"Dataset '{input.DatasetId}' of DMP '{input.DmpId}' is not in the registry; it cannot have its retention changed.");
        var changed = dataset.KeepUntil != input.KeepUntil || dataset.Disposal != input.Disposal;
        if (changed)
        {
            await registry.UpsertDatasetAsync(
                dataset with { KeepUntil = input.KeepUntil, Disposal = input.Disposal, UpdatedAt = input.At }, ct);
        }

        var keepUntil = GovernanceMetadata.Date(input.KeepUntil);
        await storage.SetContainerMetadataAsync(
            input.Container,
            new Dictionary<string, string?>
            {
                [GovernanceMetadata.KeepUntil] = keepUntil,
                [GovernanceMetadata.Disposal] = input.Disposal.ToString(),
            },
            ct);
        var retagged = 0;
        await foreach (var blob in storage.ListBlobsAsync(input.Container, cancellationToken: ct))
        {
            if (!blob.Tags.TryGetValue(GovernanceMetadata.KeepUntil, out var current) || current != keepUntil)
            {
                await storage.SetBlobTagsAsync(
                    input.Container, blob.Name, new Dictionary<string, string> { [GovernanceMetadata.KeepUntil] = keepUntil }, ct);
                retagged++;
            }
        }

        // A rerun after a crash finds this request's own change already in the registry (UpdatedAt is its time): the
        // entry is appended again with its key (what was there before is no longer known).
        var changedByThisRequest = !changed && dataset.UpdatedAt == input.At;
        if (changed || changedByThisRequest)
        {
            await audit.AppendAsync(
                AuditEntries.Create(
                    input.Actor,
                    "dataset.retention_changed",
                    context.InstanceId,
                    AuditEntries.DatasetSubject(input.DmpId, input.DatasetId),
                    input.At.UtcDateTime,
                    before: changed ? new { keepUntil = dataset.KeepUntil, disposal = dataset.Disposal.ToString() } : null,
                    after: new { keepUntil = input.KeepUntil, disposal = input.Disposal.ToString(), blobsRetagged = retagged }),
                ct);
        }

        return new UpdateDatasetRetentionResult(changed, retagged);
    }
}
