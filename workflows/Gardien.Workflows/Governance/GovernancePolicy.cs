using System.Text.Json.Serialization;

namespace Gardien.Workflows.Governance;

/// <summary>Access level granted on a dataset's container, from the least to the most privileged.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AccessRole>))]
public enum AccessRole
{
    Reader,
    Contributor,
    Owner,
}

/// <summary>
/// Governance class of a dataset, from the least to the most protected (see docs/policy.md for the table).
/// Public: open, no personal or sensitive data. Internal: shared, no personal or sensitive data.
/// Confidential: personal data, or closed access. Restricted: sensitive (special-category, e.g. health) data.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<DataClassification>))]
public enum DataClassification
{
    Public,
    Internal,
    Confidential,
    Restricted,
}

[JsonConverter(typeof(JsonStringEnumConverter<StorageTier>))]
public enum StorageTier
{
    Hot,
    Cool,
    Cold,
    Archive,
}

[JsonConverter(typeof(JsonStringEnumConverter<DisposalAction>))]
public enum DisposalAction
{
    Delete,
    Archive,
    Publish,
}

/// <summary>
/// The institution's governance policy: everything <see cref="GovernanceEvaluator"/> and the workflows decide from.
/// Loaded and validated by <see cref="PolicyLoader"/> (file format: snake_case keys, see policy.schema.json);
/// serialisable with System.Text.Json because it travels through workflow inputs.
/// </summary>
public sealed record GovernancePolicy
{
    /// <summary>Bumped when the file format changes incompatibly.</summary>
    public int PolicyVersion { get; init; } = 1;

    public required string Institution { get; init; }

    public string? Description { get; init; }

    public required RolePolicy Roles { get; init; }

    public required ApprovalPolicy Approvals { get; init; }

    public required RegionPolicy Regions { get; init; }

    public required StoragePolicy Storage { get; init; }

    public required AccessPolicy Access { get; init; }

    public required RetentionPolicy Retention { get; init; }

    /// <summary>How Gardien writes to people; optional (English when absent).</summary>
    public NotificationPolicy Notifications { get; init; } = new();

    /// <summary>The built-in policy: the same content as policy.sample.json (a brain/biomedical research institute).</summary>
    public static GovernancePolicy Default => PolicyLoader.BuiltInDefault;
}

/// <summary>Maps DMP contributor roles (vocabulary terms, free text or CRediT URIs) to an access level.</summary>
public sealed record RolePolicy
{
    public IReadOnlyList<RoleMapping> Mappings { get; init; } = [];

    /// <summary>Access for a contributor none of whose roles is mapped; null means no access (reported as a finding).</summary>
    public AccessRole? DefaultAccess { get; init; }
}

/// <summary>Every role in <see cref="Roles"/> (matched case-insensitively, trailing slash ignored) grants <see cref="Access"/>.</summary>
public sealed record RoleMapping(AccessRole Access, IReadOnlyList<string> Roles);

public sealed record ApprovalPolicy
{
    /// <summary>Effective data access levels that need the data steward's approval (by default: shared and closed).</summary>
    public IReadOnlyList<Madmp.DataAccess> DataStewardFor { get; init; } = [Madmp.DataAccess.Shared, Madmp.DataAccess.Closed];

    public bool DpoForPersonalData { get; init; } = true;

    public bool DpoForSensitiveData { get; init; } = true;

    public bool DpoForEthicalIssues { get; init; } = true;

    public required Approver DataSteward { get; init; }

    public required Approver DataProtectionOfficer { get; init; }

    /// <summary>
    /// Asked for the PI's approval (then its delegates on escalation) when the DMP's contact has no mailbox that can
    /// receive one (missing, malformed or a look-alike, see <see cref="Mailbox"/>). Null: such a DMP is refused.
    /// </summary>
    public Approver? FallbackApprover { get; init; }

    /// <summary>When one person may not give two approvals of one request (the later role goes to its next delegate).</summary>
    public SeparationOfDuties SeparationOfDuties { get; init; } = SeparationOfDuties.PersonalData;

    public IsoPeriod ReminderEvery { get; init; } = IsoPeriod.FromDays(3);

    public IsoPeriod EscalateAfter { get; init; } = IsoPeriod.FromDays(7);

    /// <summary>An approval still pending after this period ends as Expired.</summary>
    public IsoPeriod Timeout { get; init; } = IsoPeriod.FromDays(30);
}

/// <summary>A person or functional mailbox that approves; delegates take over on escalation, in order.</summary>
public sealed record Approver
{
    public required string Name { get; init; }

    public required string Email { get; init; }

    public IReadOnlyList<Delegate> Delegates { get; init; } = [];

    /// <summary>
    /// People allowed to decide on this approver's behalf (an assistant, a deputy without their own role): their
    /// decisions are recorded and shown as theirs, on behalf of the approver. Anyone else is refused.
    /// </summary>
    public IReadOnlyList<Delegate> OnBehalf { get; init; } = [];
}

#pragma warning disable CA1716 // "Delegate" is the governance term; the record is always used qualified by its namespace.
public sealed record Delegate(string Name, string Email);
#pragma warning restore CA1716

/// <summary>Where data may be hosted: ISO 3166-1 alpha-2 codes, upper case.</summary>
public sealed record RegionPolicy
{
    /// <summary>Allowed host countries for every classification without its own list.</summary>
    public IReadOnlyList<string> Allowed { get; init; } = [];

    /// <summary>Stricter lists for Confidential data (null: <see cref="Allowed"/>).</summary>
    public IReadOnlyList<string>? Confidential { get; init; }

    /// <summary>Stricter lists for Restricted (e.g. health) data (null: <see cref="Confidential"/>, then <see cref="Allowed"/>).</summary>
    public IReadOnlyList<string>? Restricted { get; init; }

    public IReadOnlyList<string> For(DataClassification classification) => classification switch
    {
        DataClassification.Restricted => Restricted ?? Confidential ?? Allowed,
        DataClassification.Confidential => Confidential ?? Allowed,
        _ => Allowed,
    };
}

public sealed record StoragePolicy
{
    /// <summary>Prefix of every container name (lowercase letters, digits, single hyphens; at most 20 characters).</summary>
    public required string ContainerPrefix { get; init; }

    public required PerClassification<StorageTier> Tier { get; init; }

    public required EncryptionPolicy Encryption { get; init; }

    public required ImmutabilityPolicy RawDataImmutability { get; init; }
}

/// <summary>Data in <see cref="AppliesTo"/> is written with the customer-managed-key encryption scope <see cref="Scope"/>.</summary>
public sealed record EncryptionPolicy(string Scope, IReadOnlyList<DataClassification> AppliesTo);

/// <summary>
/// Time-based immutability (WORM) for raw data. A dataset is raw when its type, a keyword or its title holds one of
/// <see cref="EffectiveRawTerms"/> and none of <see cref="EffectiveNotRawTerms"/> (<see cref="RawDataTerms"/>); when
/// they conflict, or only the description mentions raw data, the dataset is treated as raw and the plan says so.
/// </summary>
/// <param name="DatasetTypes">The former name of <see cref="RawTerms"/> (policies written before titles and descriptions
/// were read); a policy gives one or the other.</param>
public sealed record ImmutabilityPolicy(bool Enabled, int Days, IReadOnlyList<string>? DatasetTypes = null)
{
    /// <summary>Terms that say a dataset is raw; null: <see cref="RawDataTerms.DefaultRaw"/> (English and French).</summary>
    public IReadOnlyList<string>? RawTerms { get; init; }

    /// <summary>Terms that say a dataset is derived from others; null: <see cref="RawDataTerms.DefaultNotRaw"/>.</summary>
    public IReadOnlyList<string>? NotRawTerms { get; init; }

    /// <summary>The raw terms in force: <see cref="RawTerms"/>, else <see cref="DatasetTypes"/>, else the built-in ones.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> EffectiveRawTerms => RawTerms ?? DatasetTypes ?? RawDataTerms.DefaultRaw;

    [JsonIgnore]
    public IReadOnlyList<string> EffectiveNotRawTerms => NotRawTerms ?? RawDataTerms.DefaultNotRaw;

    /// <summary>
    /// Days after a container's provisioning at which its immutability policy is locked (0: at once); null: never, the
    /// policy stays unlocked. Locking is irreversible: the period can then only grow and the data cannot be deleted
    /// before it ends, so the delay leaves time to correct a wrong upload first.
    /// </summary>
    public int? LockAfterDays { get; init; }
}

public sealed record AccessPolicy
{
    /// <summary>Access continues this long after the project's end date, then ends automatically.</summary>
    public IsoPeriod GraceAfterProjectEnd { get; init; } = IsoPeriod.FromDays(90);

    /// <summary>How often the PI re-confirms the members.</summary>
    public IsoPeriod ReviewEvery { get; init; } = new(0, 6, 0);

    /// <summary>Members the PI did not confirm lose access this long after the review request.</summary>
    public IsoPeriod ReviewDeadline { get; init; } = IsoPeriod.FromDays(14);
}

public sealed record RetentionPolicy
{
    /// <summary>Keep-until = project end + this period, when the DMP gives no <c>available_until</c>.</summary>
    public required PerClassification<IsoPeriod> DefaultPeriod { get; init; }

    public required PerClassification<DisposalAction> Disposal { get; init; }

    /// <summary>Days before keep-until at which the PI is notified, e.g. 90, 30, 7.</summary>
    public IReadOnlyList<int> NoticeDays { get; init; } = [90, 30, 7];

    /// <summary>Between the two phases of a deletion (soft then hard), the data can still be restored.</summary>
    public IsoPeriod DeletionGrace { get; init; } = IsoPeriod.FromDays(30);
}

public sealed record NotificationPolicy
{
    /// <summary>The language of every message Gardien sends ("en" or "fr"): subjects, bodies, adapters' button labels.</summary>
    public string Language { get; init; } = NotificationLanguages.English;
}

/// <summary>The languages the message catalogue speaks.</summary>
public static class NotificationLanguages
{
    public const string English = "en";
    public const string French = "fr";
}

/// <summary>One value per classification.</summary>
public sealed record PerClassification<T>(T Public, T Internal, T Confidential, T Restricted)
{
    public T For(DataClassification classification) => classification switch
    {
        DataClassification.Public => Public,
        DataClassification.Internal => Internal,
        DataClassification.Confidential => Confidential,
        _ => Restricted,
    };
}
