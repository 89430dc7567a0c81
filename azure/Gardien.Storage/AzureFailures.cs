using System.Runtime.CompilerServices;
using Azure;
using Gardien.Workflows;
using Gardien.Workflows.Ports;

namespace Gardien.Storage;

/// <summary>
/// Translates Azure SDK failures that escape an adapter into port exceptions, as the port contract asks: a request the
/// service refuses (400 for a name, metadata or key it cannot store, 403...) becomes <see cref="PortRefusedException"/>
/// so that the workflows stop retrying and compensate at once; timeouts, throttling, lost races and server errors stay
/// transient. The message is one line (what, the service's reason, status and error code), never the HTTP dump.
/// </summary>
public static class AzureFailures
{
    public static PortException Translate(RequestFailedException failure, string operation)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var reason = FailureMessages.HttpStatus(failure.Message)?.Reason is { Length: > 0 } r ? r : "no reason given";
        var message =
            $"{operation}: the storage service answered {failure.Status} ({reason})"
            + $"{(failure.ErrorCode is { } code ? ", " + code : string.Empty)}.";
        return failure.Status switch
        {
            404 => new PortNotFoundException(message, failure),
            >= 400 and < 500 and not (408 or 409 or 412 or 429) => new PortRefusedException(message, failure),
            _ => new PortException(message, isTransient: true, failure),
        };
    }

    internal static async Task<T> Run<T>(Func<Task<T>> call, string operation)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, operation);
        }
    }

    internal static async IAsyncEnumerable<T> Run<T>(
        IAsyncEnumerable<T> items,
        string operation,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var enumerator = items.GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await enumerator.MoveNextAsync().ConfigureAwait(false);
                }
                catch (RequestFailedException ex)
                {
                    throw Translate(ex, operation);
                }

                if (!more)
                {
                    yield break;
                }

                yield return enumerator.Current;
            }
        }
    }
}

/// <summary><see cref="IStorageProvisioner"/> with Azure SDK failures translated (see <see cref="AzureFailures"/>).</summary>
public sealed class FailureTranslatingStorageProvisioner(IStorageProvisioner inner) : IStorageProvisioner
{
    public Task<ProvisionResult> EnsureContainerAsync(ContainerSpec spec, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.EnsureContainerAsync(spec, cancellationToken), $"Provisioning container '{spec?.Name}'");

    public Task<ContainerInfo?> GetContainerAsync(string container, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.GetContainerAsync(container, cancellationToken), $"Reading container '{container}'");

    public Task<OperationResult> SetContainerMetadataAsync(
        string container,
        IReadOnlyDictionary<string, string?> metadata,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.SetContainerMetadataAsync(container, metadata, cancellationToken),
            $"Setting the metadata of container '{container}'");

    public IAsyncEnumerable<StoredBlob> ListBlobsAsync(
        string container,
        string? prefix = null,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            inner.ListBlobsAsync(container, prefix, cancellationToken), $"Listing container '{container}'", cancellationToken);

    public Task<ContainerManifest> ComputeManifestAsync(string container, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.ComputeManifestAsync(container, cancellationToken), $"Computing the manifest of container '{container}'");

    public Task<OperationResult> SetBlobTagsAsync(
        string container,
        string blobName,
        IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.SetBlobTagsAsync(container, blobName, tags, cancellationToken), $"Tagging blob '{container}/{blobName}'");

    public IAsyncEnumerable<TaggedBlob> FindBlobsByTagsAsync(
        IReadOnlyList<TagCondition> conditions,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(inner.FindBlobsByTagsAsync(conditions, cancellationToken), "Finding blobs by tags", cancellationToken);

    public Task<OperationResult> SetTierAsync(string container, StorageTier tier, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.SetTierAsync(container, tier, cancellationToken), $"Setting the tier of container '{container}'");

    public Task<ContainerDeletionOutcome> DeleteContainerIfEmptyAsync(
        string container,
        string? ownerInstanceId,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.DeleteContainerIfEmptyAsync(container, ownerInstanceId, cancellationToken), $"Removing container '{container}'");

    public Task<OperationResult> MarkForDeletionAsync(
        string container,
        DateTimeOffset purgeNotBefore,
        string reason,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.MarkForDeletionAsync(container, purgeNotBefore, reason, cancellationToken),
            $"Marking container '{container}' for deletion");

    public Task<OperationResult> UnmarkForDeletionAsync(string container, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.UnmarkForDeletionAsync(container, cancellationToken), $"Unmarking container '{container}'");

    public Task<PurgeResult> PurgeAsync(string container, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.PurgeAsync(container, now, cancellationToken), $"Purging container '{container}'");

    public Task<HoldStatus> GetHoldStatusAsync(string container, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.GetHoldStatusAsync(container, cancellationToken), $"Reading the holds of container '{container}'");

    public Task<OperationResult> SetLegalHoldAsync(
        string container,
        string holdTag,
        bool hold,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.SetLegalHoldAsync(container, holdTag, hold, cancellationToken),
            $"Setting legal hold '{holdTag}' on container '{container}'");

    public Task<ContainerControls> GetControlsAsync(string container, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.GetControlsAsync(container, cancellationToken), $"Reading the controls of container '{container}'");

    public Task<OperationResult> LockImmutabilityAsync(string container, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.LockImmutabilityAsync(container, cancellationToken), $"Locking the immutability of container '{container}'");
}

/// <summary><see cref="IGovernanceRegistry"/> with Azure SDK failures translated (see <see cref="AzureFailures"/>).</summary>
public sealed class FailureTranslatingGovernanceRegistry(IGovernanceRegistry inner) : IGovernanceRegistry
{
    public Task<DmpRecord?> GetDmpAsync(string dmpId, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.GetDmpAsync(dmpId, cancellationToken), $"Reading DMP '{dmpId}' from the registry");

    public Task<DmpRecord> UpsertDmpAsync(DmpRecord record, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.UpsertDmpAsync(record, cancellationToken), $"Recording DMP '{record?.DmpId}' in the registry");

    public Task<IReadOnlyList<DmpRecord>> ListDmpsAsync(DmpState? state = null, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.ListDmpsAsync(state, cancellationToken), "Listing DMPs in the registry");

    public Task<DatasetRecord?> GetDatasetAsync(string dmpId, string datasetId, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.GetDatasetAsync(dmpId, datasetId, cancellationToken), $"Reading dataset '{datasetId}' from the registry");

    public Task<DatasetRecord> UpsertDatasetAsync(DatasetRecord record, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.UpsertDatasetAsync(record, cancellationToken), $"Recording dataset '{record?.DatasetId}' in the registry");

    public Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string dmpId, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.ListDatasetsAsync(dmpId, cancellationToken), $"Listing the datasets of DMP '{dmpId}'");

    public Task<DatasetRecord?> FindDatasetByContainerAsync(string container, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.FindDatasetByContainerAsync(container, cancellationToken), $"Finding the dataset of container '{container}'");

    public Task<IReadOnlyList<DatasetRecord>> ListDatasetsDueAsync(
        DateOnly keepUntilOnOrBefore,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.ListDatasetsDueAsync(keepUntilOnOrBefore, cancellationToken), "Listing datasets due for retention");

    public Task<GrantRecord?> GetGrantAsync(
        string dmpId,
        string datasetId,
        string principalId,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.GetGrantAsync(dmpId, datasetId, principalId, cancellationToken), $"Reading a grant on dataset '{datasetId}'");

    public Task<GrantRecord> UpsertGrantAsync(GrantRecord record, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.UpsertGrantAsync(record, cancellationToken), $"Recording a grant on dataset '{record?.DatasetId}'");

    public Task<IReadOnlyList<GrantRecord>> ListGrantsAsync(
        string dmpId,
        string? datasetId = null,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.ListGrantsAsync(dmpId, datasetId, cancellationToken), $"Listing the grants of DMP '{dmpId}'");

    public Task<ApprovalRecord?> GetApprovalAsync(string dmpId, string approvalId, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.GetApprovalAsync(dmpId, approvalId, cancellationToken), $"Reading approval '{approvalId}'");

    public Task<ApprovalRecord> UpsertApprovalAsync(ApprovalRecord record, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.UpsertApprovalAsync(record, cancellationToken), $"Recording approval '{record?.ApprovalId}'");

    public Task<IReadOnlyList<ApprovalRecord>> ListApprovalsAsync(
        string dmpId,
        string? instanceId = null,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.ListApprovalsAsync(dmpId, instanceId, cancellationToken), $"Listing the approvals of DMP '{dmpId}'");

    public Task<TokenConsumption> TryConsumeTokenAsync(
        string tokenId,
        string useFingerprint,
        DateTimeOffset usedAt,
        DateTimeOffset expiresAt,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(
            () => inner.TryConsumeTokenAsync(tokenId, useFingerprint, usedAt, expiresAt, cancellationToken),
            "Recording the use of an approval link");

    public Task<bool> TryMarkEventProcessedAsync(
        string eventId,
        DateTimeOffset processedAt,
        CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.TryMarkEventProcessedAsync(eventId, processedAt, cancellationToken), $"Recording event '{eventId}'");

    public Task<bool> IsEventProcessedAsync(string eventId, CancellationToken cancellationToken = default) =>
        AzureFailures.Run(() => inner.IsEventProcessedAsync(eventId, cancellationToken), $"Reading event '{eventId}'");
}
