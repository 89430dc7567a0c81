using System.Security.Cryptography;
using System.Text;

namespace Gardien.Workflows.Ports;

/// <summary>Storage access tiers, as in Azure Blob Storage.</summary>
public enum StorageTier
{
    Hot,
    Cool,
    Cold,
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

    public string? EncryptionScope { get; init; }

    /// <summary>Time-based immutability (WORM) retention in days, or null for none.</summary>
    public int? ImmutabilityDays { get; init; }

    /// <summary>
    /// Locks the immutability policy (irreversible: its period can then only grow and the container cannot be deleted
    /// while it holds data). False keeps the policy unlocked, which is how a policy starts.
    /// </summary>
    public bool LockImmutability { get; init; }

    public long? QuotaBytes { get; init; }

    public bool LegalHold { get; init; }

    public IReadOnlyList<LifecycleRule> LifecycleRules { get; init; } = [];

    /// <summary>The workflow instance provisioning the container; stored only at creation (see <see cref="IStorageProvisioner.DeleteContainerIfEmptyAsync"/>).</summary>
    public string? OwnerInstanceId { get; init; }
}

/// <summary>A lifecycle management rule for one container (days since last modification).</summary>
public sealed record LifecycleRule(string Name, int? TierToCoolAfterDays = null, int? TierToArchiveAfterDays = null, int? DeleteAfterDays = null);

public enum ProvisionOutcome
{
    Created,
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

public sealed record TaggedBlob(string Container, string Name, IReadOnlyDictionary<string, string> Tags);

public enum TagOperator
{
    Equal,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}

/// <summary>One tag condition; values compare as ordinal strings (so dates must be written yyyy-MM-dd).</summary>
public sealed record TagCondition(string Key, TagOperator Operator, string Value);

public enum ContainerDeletionOutcome
{
    Deleted,
    NotFound,
    NotEmpty,
    /// <summary>The container exists but another instance (or nobody recorded) created it.</summary>
    NotOwned,
}

public enum PurgeOutcome
{
    Purged,
    AlreadyGone,
    NotMarked,
    GracePeriodNotOver,
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
public sealed record ContainerControls(string Container, IReadOnlyList<string> Enforced, IReadOnlyList<NotEnforcedFeature> NotEnforced, HoldStatus Hold)
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
