namespace Gardien.BlobStorage;

/// <summary>
/// Container metadata written by <see cref="BlobStorageProvisioner"/>. Where a feature is not enforced by the store,
/// the intent is still recorded here, visible to anyone inspecting the container.
/// </summary>
public static class ContainerMetadataKeys
{
    public const string OwnerInstance = "gardien_owner_instance";
    public const string Tier = "gardien_tier";
    public const string LegalHold = "gardien_legal_hold";
    public const string HoldTags = "gardien_hold_tags";
    public const string ImmutabilityDays = "gardien_immutability_days";
    public const string EncryptionScope = "gardien_encryption_scope";
    public const string QuotaBytes = "gardien_quota_bytes";
    public const string LifecycleRules = "gardien_lifecycle_rules";
    public const string PurgeNotBefore = "gardien_purge_not_before";
    public const string DeletionReason = "gardien_deletion_reason";
    public const string PurgeManifest = "gardien_purge_manifest";

    /// <summary>Prefix of blob metadata used for tags only when the store rejects blob index tags.</summary>
    public const string TagFallbackPrefix = "gardien_tag_";
}
