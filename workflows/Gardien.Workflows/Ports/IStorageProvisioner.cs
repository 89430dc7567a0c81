namespace Gardien.Workflows.Ports;

/// <summary>
/// Provisions and disposes governed storage (one container per dataset). Every mutating call is idempotent:
/// calling it twice with the same arguments has the effect of calling it once, and reports <c>Changed = false</c>
/// (or <see cref="ProvisionOutcome.AlreadyExisted"/>) the second time. Failures throw (<see cref="PortException"/>
/// or the SDK's exception) so that retry policies act. Features the backing store cannot enforce are reported as
/// <see cref="NotEnforcedFeature"/>, never silently skipped.
/// </summary>
public interface IStorageProvisioner
{
    /// <summary>
    /// Creates the container if missing and applies the spec. Idempotent: an existing container gets the spec's
    /// metadata merged in (keys given overwrite, others are kept) and the outcome <see cref="ProvisionOutcome.AlreadyExisted"/>;
    /// <see cref="ContainerSpec.OwnerInstanceId"/> is written only at creation, so compensation of a later run never
    /// claims a container an earlier run created.
    /// </summary>
    Task<ProvisionResult> EnsureContainerAsync(ContainerSpec spec, CancellationToken cancellationToken = default);

    /// <summary>The container's state, or null when it does not exist.</summary>
    Task<ContainerInfo?> GetContainerAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>
    /// Merges metadata into the container (keys given overwrite, others are kept; a null value removes the key). Idempotent.
    /// </summary>
    Task<OperationResult> SetContainerMetadataAsync(
        string container,
        IReadOnlyDictionary<string, string?> metadata,
        CancellationToken cancellationToken = default);

    /// <summary>Every blob of the container, in name order. Streams: containers may hold millions of blobs.</summary>
    IAsyncEnumerable<StoredBlob> ListBlobsAsync(string container, string? prefix = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Blob count, total bytes and a manifest hash over names and ETags (see <see cref="ContainerManifest.Compute"/>),
    /// the content of a deletion certificate and the basis of quota checks. Read-only.
    /// </summary>
    Task<ContainerManifest> ComputeManifestAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>
    /// Merges blob index tags into the blob (keys given overwrite, others are kept; at most 10 tags in total, as in Azure).
    /// Idempotent. Where the store has no index tags the adapter stores them as blob metadata and reports
    /// <see cref="GovernanceFeatures.BlobIndexTags"/> as not enforced.
    /// </summary>
    Task<OperationResult> SetBlobTagsAsync(
        string container,
        string blobName,
        IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Blobs, across all containers, whose index tags satisfy every condition (AND). Used by the retention sweep to
    /// cross-check the registry. Where the store cannot query tags the adapter scans and filters itself.
    /// </summary>
    IAsyncEnumerable<TaggedBlob> FindBlobsByTagsAsync(
        IReadOnlyList<TagCondition> conditions,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves every blob of the container to the tier (disposal by archive), and records the tier on the container. Idempotent.
    /// </summary>
    Task<OperationResult> SetTierAsync(string container, StorageTier tier, CancellationToken cancellationToken = default);

    /// <summary>
    /// Compensation: deletes the container only if it exists, holds no blob and — when <paramref name="ownerInstanceId"/>
    /// is given — was created by that workflow instance. Never deletes data. Idempotent (a missing container is
    /// <see cref="ContainerDeletionOutcome.NotFound"/>).
    /// </summary>
    Task<ContainerDeletionOutcome> DeleteContainerIfEmptyAsync(
        string container,
        string? ownerInstanceId,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Disposal phase 1: marks the container for deletion, purgeable from <paramref name="purgeNotBefore"/>. Data stays.
    /// Idempotent: marking an already marked container keeps the first mark (its date is never moved earlier) and
    /// returns <c>Changed = false</c>. Refused (<see cref="PortException"/>, not transient) while the container is under a legal hold.
    /// </summary>
    Task<OperationResult> MarkForDeletionAsync(
        string container,
        DateTimeOffset purgeNotBefore,
        string reason,
        CancellationToken cancellationToken = default);

    /// <summary>Cancels a deletion mark during the grace period (a hold or an extension arrived). Idempotent.</summary>
    Task<OperationResult> UnmarkForDeletionAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>
    /// Disposal phase 2: deletes the blobs and the container, but only when it is marked, <paramref name="now"/> (replay-safe
    /// time from the workflow) is at or after the mark's purge date, and no legal hold is set; otherwise nothing is
    /// deleted and the outcome says why. Idempotent: a container already gone is <see cref="PurgeOutcome.AlreadyGone"/>.
    /// </summary>
    Task<PurgeResult> PurgeAsync(string container, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Legal hold and immutability state of the container (platform state where available, else Gardien's recorded flags).
    /// </summary>
    Task<HoldStatus> GetHoldStatusAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>
    /// The controls in force on the container, read back from the store, so that the plan status shows what is enforced
    /// rather than what was asked. Read-only. Throws <see cref="PortNotFoundException"/> for a missing container. The
    /// default reports only the hold state, for stores that know nothing more.
    /// </summary>
    async Task<ContainerControls> GetControlsAsync(string container, CancellationToken cancellationToken = default)
    {
        var hold = await GetHoldStatusAsync(container, cancellationToken);
        return new ContainerControls(container, hold.PlatformEnforced && hold.LegalHold ? [GovernanceFeatures.LegalHold] : [], [], hold);
    }

    /// <summary>
    /// Locks the container's time-based immutability policy (irreversible: the period can then only grow). Idempotent:
    /// an already locked policy is <c>Changed = false</c>. Refused (<see cref="PortRefusedException"/>) when the container
    /// has no immutability policy to lock. The default, for stores without immutability policies, changes nothing and
    /// reports immutability as not enforced.
    /// </summary>
    Task<OperationResult> LockImmutabilityAsync(string container, CancellationToken cancellationToken = default) =>
        Task.FromResult(new OperationResult(false, [
            new NotEnforcedFeature(
                GovernanceFeatures.Immutability, "This store has no immutability policies to lock; the Azure adapter locks them."),
        ]));

    /// <summary>
    /// Sets or clears a legal hold tag on the container. Idempotent. Locally recorded as metadata and reported as not enforced.
    /// </summary>
    Task<OperationResult> SetLegalHoldAsync(string container, string holdTag, bool hold, CancellationToken cancellationToken = default);
}
