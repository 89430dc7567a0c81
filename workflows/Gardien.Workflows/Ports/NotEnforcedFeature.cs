namespace Gardien.Workflows.Ports;

/// <summary>
/// A governance feature the plan asked for that the adapter did not enforce (e.g. immutability on Azurite).
/// Workflows copy these into the plan status and the audit trail: a feature is either enforced by the platform or
/// reported here, never silently pretended.
/// </summary>
/// <param name="Feature">One of <see cref="GovernanceFeatures"/>.</param>
/// <param name="Reason">Why, for a human: "Azurite has no immutability policies; enforced by the Azure adapter".</param>
/// <param name="RecordedAs">Where the intent was recorded instead (e.g. "container metadata gardien_legal_hold"), or null.</param>
public sealed record NotEnforcedFeature(string Feature, string Reason, string? RecordedAs = null);

/// <summary>Names of governance features used in <see cref="NotEnforcedFeature.Feature"/> and enforced-feature lists.</summary>
public static class GovernanceFeatures
{
    /// <summary>Governance metadata on the container (DMP, dataset, classification, keep-until).</summary>
    public const string ContainerMetadata = "container-metadata";
    /// <summary>Index tags on each blob (DMP, dataset, keep-until).</summary>
    public const string BlobIndexTags = "blob-index-tags";
    /// <summary>The storage tier of the blobs.</summary>
    public const string AccessTier = "access-tier";
    /// <summary>A time-based immutability (WORM) policy.</summary>
    public const string Immutability = "immutability";
    /// <summary>A legal hold on the container.</summary>
    public const string LegalHold = "legal-hold";
    /// <summary>Soft delete of blobs and containers.</summary>
    public const string SoftDelete = "soft-delete";
    /// <summary>An encryption scope for the container.</summary>
    public const string EncryptionScope = "encryption-scope";
    /// <summary>Lifecycle management rules.</summary>
    public const string LifecyclePolicy = "lifecycle-policy";
    /// <summary>A storage quota.</summary>
    public const string Quota = "quota";
    /// <summary>A role assignment giving a group access to the container.</summary>
    public const string RoleAssignment = "role-assignment";
}

/// <summary>
/// The result of an idempotent mutating call. <see cref="Changed"/> is false when the target already was in the
/// requested state (a repeated call), which lets the workflow audit only real changes.
/// </summary>
public sealed record OperationResult(bool Changed, IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally)
{
    /// <summary>The target already was in the requested state.</summary>
    public static OperationResult Unchanged { get; } = new(false, []);

    /// <summary>The call changed the target.</summary>
    public static OperationResult Done { get; } = new(true, []);
}
