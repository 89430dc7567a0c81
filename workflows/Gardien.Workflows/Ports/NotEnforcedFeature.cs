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
    public const string ContainerMetadata = "container-metadata";
    public const string BlobIndexTags = "blob-index-tags";
    public const string AccessTier = "access-tier";
    public const string Immutability = "immutability";
    public const string LegalHold = "legal-hold";
    public const string SoftDelete = "soft-delete";
    public const string EncryptionScope = "encryption-scope";
    public const string LifecyclePolicy = "lifecycle-policy";
    public const string Quota = "quota";
    public const string RoleAssignment = "role-assignment";
}

/// <summary>
/// The result of an idempotent mutating call. <see cref="Changed"/> is false when the target already was in the
/// requested state (a repeated call), which lets the workflow audit only real changes.
/// </summary>
public sealed record OperationResult(bool Changed, IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally)
{
    public static OperationResult Unchanged { get; } = new(false, []);

    public static OperationResult Done { get; } = new(true, []);
}
