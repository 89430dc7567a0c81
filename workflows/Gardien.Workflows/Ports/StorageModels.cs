using System.Security.Cryptography;
using System.Text;

namespace Gardien.Workflows.Ports;

/// <summary>Storage access tiers, as in Azure Blob Storage.</summary>
public enum StorageTier
{
    /// <summary>Frequent access.</summary>
    Hot,
    /// <summary>Infrequent access, kept at least 30 days.</summary>
    Cool,
    /// <summary>Rare access, kept at least 90 days.</summary>
    Cold,
    /// <summary>Offline: blobs must be rehydrated before they can be read.</summary>
    Archive,
}

/// <summary>What one governed container should be.</summary>
public sealed record ContainerSpec
{
    /// <summary>Container name: 3–63 characters, lower-case letters, digits and single hyphens.</summary>
    public required string Name { get; init; }

    /// <summary>Container metadata (keys: C# identifier rules, lower case recommended; values ASCII).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Default tier for the container's blobs.</summary>
    public StorageTier Tier { get; init; } = StorageTier.Hot;

    /// <summary>The encryption scope the container's blobs are encrypted with; null: the account default.</summary>
    public string? EncryptionScope { get; init; }

    /// <summary>Time-based immutability (WORM) retention in days, or null for none.</summary>
    public int? ImmutabilityDays { get; init; }

    /// <summary>
    /// Locks the immutability policy (irreversible: its period can then only grow and the container cannot be deleted
    /// while it holds data). False keeps the policy unlocked, which is how a policy starts.
    /// </summary>
    public bool LockImmutability { get; init; }

    /// <summary>Storage quota in bytes; null: none.</summary>
    public long? QuotaBytes { get; init; }

    /// <summary>Puts a legal hold on the container at creation.</summary>
    public bool LegalHold { get; init; }

    /// <summary>Lifecycle management rules for the container's blobs.</summary>
    public IReadOnlyList<LifecycleRule> LifecycleRules { get; init; } = [];

    /// <summary>
    /// The workflow instance provisioning the container; stored only at creation (see
    /// <see cref="IStorageProvisioner.DeleteContainerIfEmptyAsync"/>).
    /// </summary>
    public string? OwnerInstanceId { get; init; }
}

/// <summary>A lifecycle management rule for one container (days since last modification).</summary>
public sealed record LifecycleRule(
    string Name,
    int? TierToCoolAfterDays = null,
    int? TierToArchiveAfterDays = null,
    int? DeleteAfterDays = null);

/// <summary>What <see cref="IStorageProvisioner.EnsureContainerAsync"/> did.</summary>
public enum ProvisionOutcome
{
    /// <summary>The container was created by this call.</summary>
    Created,
    /// <summary>The container existed already (a redelivered call, or another instance created it).</summary>
    AlreadyExisted,
}

/// <param name="Location">The container's URL: the provisioned location written back to the DMP (<c>host.url</c>).</param>
/// <param name="EnforcedFeatures">Features of the spec the store enforces (names from <see cref="GovernanceFeatures"/>).</param>
public sealed record ProvisionResult(
    string Container,
    ProvisionOutcome Outcome,
    Uri Location,
    IReadOnlyList<string> EnforcedFeatures,
    IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally);

/// <summary>A container as the store reports it.</summary>
/// <param name="Name">The container's name.</param>
/// <param name="Location">The container's URL.</param>
/// <param name="Metadata">Its metadata.</param>
/// <param name="ETag">Its ETag.</param>
/// <param name="LastModified">When it last changed.</param>
/// <param name="OwnerInstanceId">The workflow instance that created it, when recorded.</param>
/// <param name="DeletionMark">The disposal phase-1 mark, when marked for deletion.</param>
/// <param name="LegalHold">Whether a legal hold is on it.</param>
public sealed record ContainerInfo(
    string Name,
    Uri Location,
    IReadOnlyDictionary<string, string> Metadata,
    string ETag,
    DateTimeOffset LastModified,
    string? OwnerInstanceId,
    DeletionMark? DeletionMark,
    bool LegalHold);

/// <summary>Phase-1 disposal mark.</summary>
public sealed record DeletionMark(DateTimeOffset PurgeNotBefore, string Reason);

/// <param name="Tags">Blob index tags (or their metadata fallback); empty when none.</param>
public sealed record StoredBlob(
    string Name,
    string ETag,
    long SizeBytes,
    IReadOnlyDictionary<string, string> Tags,
    StorageTier? Tier,
    DateTimeOffset? CreatedOn);

/// <summary>A blob found by its index tags.</summary>
/// <param name="Container">The blob's container.</param>
/// <param name="Name">The blob's name.</param>
/// <param name="Tags">Its index tags.</param>
public sealed record TaggedBlob(string Container, string Name, IReadOnlyDictionary<string, string> Tags);

/// <summary>How a <see cref="TagCondition"/> compares a tag with its value (ordinal string comparison).</summary>
public enum TagOperator
{
    /// <summary>The tag equals the value.</summary>
    Equal,
    /// <summary>The tag sorts before the value.</summary>
    LessThan,
    /// <summary>The tag sorts before or equals the value.</summary>
    LessThanOrEqual,
    /// <summary>The tag sorts after the value.</summary>
    GreaterThan,
    /// <summary>The tag sorts after or equals the value.</summary>
    GreaterThanOrEqual,
}

/// <summary>One tag condition; values compare as ordinal strings (so dates must be written yyyy-MM-dd).</summary>
public sealed record TagCondition(string Key, TagOperator Operator, string Value);

/// <summary>What <see cref="IStorageProvisioner.DeleteContainerIfEmptyAsync"/> did.</summary>
public enum ContainerDeletionOutcome
{
    /// <summary>The container was deleted.</summary>
    Deleted,
    /// <summary>There was no such container.</summary>
    NotFound,
    /// <summary>The container holds blobs: it was kept.</summary>
    NotEmpty,
    /// <summary>The container exists but another instance (or nobody recorded) created it.</summary>
    NotOwned,
}

/// <summary>What <see cref="IStorageProvisioner.PurgeAsync"/> did (phase 2 of a deletion).</summary>
public enum PurgeOutcome
{
    /// <summary>The container and its blobs were deleted.</summary>
    Purged,
    /// <summary>The container no longer existed.</summary>
    AlreadyGone,
    /// <summary>The container was not marked for deletion: nothing was deleted.</summary>
    NotMarked,
    /// <summary>The deletion grace period has not ended: nothing was deleted.</summary>
    GracePeriodNotOver,
    /// <summary>A legal hold is on the container: nothing was deleted.</summary>
    UnderLegalHold,
}

/// <param name="Manifest">What was (or would have been) deleted; null when the container was already gone.</param>
public sealed record PurgeResult(PurgeOutcome Outcome, ContainerManifest? Manifest, string Detail);

/// <param name="HoldTags">Active legal hold tags.</param>
/// <param name="ImmutableUntil">End of a time-based immutability policy, when one is known.</param>
/// <param name="PlatformEnforced">True when the state comes from the platform; false when it is Gardien's own recorded flag.</param>
public sealed record HoldStatus(bool LegalHold, IReadOnlyList<string> HoldTags, DateTimeOffset? ImmutableUntil, bool PlatformEnforced);

/// <summary>
/// The governance controls in force on a container, read back from the store rather than assumed from the spec: what
/// the platform enforces (<see cref="Enforced"/>, names from <see cref="GovernanceFeatures"/>) and what is only recorded.
/// </summary>
/// <param name="Hold">Legal hold state, as <see cref="IStorageProvisioner.GetHoldStatusAsync"/> reports it.</param>
public sealed record ContainerControls(
    string Container,
    IReadOnlyList<string> Enforced,
    IReadOnlyList<NotEnforcedFeature> NotEnforced,
    HoldStatus Hold)
{
    /// <summary>Days of the time-based immutability policy in force; null when there is none.</summary>
    public int? ImmutabilityDays { get; init; }

    /// <summary>True when that policy is locked.</summary>
    public bool ImmutabilityLocked { get; init; }

    /// <summary>The container's default encryption scope, when it has its own.</summary>
    public string? EncryptionScope { get; init; }

    /// <summary>Names of the lifecycle management rules that cover the container.</summary>
    public IReadOnlyList<string> LifecycleRules { get; init; } = [];
}

/// <summary>
/// The deletion-certificate view of a container: count, bytes and a SHA-256 over the sorted "name\tetag\n" lines.
/// </summary>
public sealed record ContainerManifest(string Container, long BlobCount, long TotalBytes, string ManifestSha256)
{
    /// <summary>Pure and order-independent: blobs are sorted by ordinal name before hashing.</summary>
    public static ContainerManifest Compute(string container, IEnumerable<StoredBlob> blobs)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        var sorted = blobs.OrderBy(b => b.Name, StringComparer.Ordinal).ToList();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes = 0;
        foreach (var blob in sorted)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(blob.Name + "\t" + blob.ETag + "\n"));
            bytes += blob.SizeBytes;
        }

        return new ContainerManifest(container, sorted.Count, bytes, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }
}
