using System.Text.Json.Serialization;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Governance;

[JsonConverter(typeof(JsonStringEnumConverter<ApprovalRole>))]
public enum ApprovalRole
{
    PrincipalInvestigator,
    DataSteward,
    DataProtectionOfficer,
}

[JsonConverter(typeof(JsonStringEnumConverter<FindingSeverity>))]
public enum FindingSeverity
{
    Info,
    Warning,
    Error,
}

/// <summary>Where a keep-until date came from, strongest source first.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RetentionSource>))]
public enum RetentionSource
{
    AvailableUntil,
    PreservationUntil,
    ProjectEndPlusPolicy,
    EvaluationDatePlusPolicy,
}

/// <summary>
/// The governance a DMP needs under a policy, computed by <see cref="GovernanceEvaluator.Evaluate"/>.
/// Records without cycles, round-trippable with System.Text.Json (it travels through workflow inputs and the registry).
/// </summary>
public sealed record GovernancePlan
{
    public int PlanVersion { get; init; } = 1;

    public required Identifier DmpId { get; init; }

    public required string Title { get; init; }

    public DateTimeOffset? Modified { get; init; }

    /// <summary>The date the plan was evaluated for (embargo and "no project end" fallbacks depend on it).</summary>
    public required DateOnly EvaluatedOn { get; init; }

    public required string PolicyInstitution { get; init; }

    public required int PolicyVersion { get; init; }

    /// <summary>The DMP's contact, who is the PI: always an owner and always an approver.</summary>
    public required Principal PrincipalInvestigator { get; init; }

    /// <summary>The latest end date across the DMP's projects; null when no project has one.</summary>
    public DateOnly? ProjectEnd { get; init; }

    /// <summary>When every grant ends: project end + the policy's grace; null when the project end is unknown.</summary>
    public DateOnly? AccessEndsOn { get; init; }

    /// <summary>
    /// The policy's allowed host countries per classification (once per plan, not per dataset: plans of 10,000 datasets travel through
    /// workflows).
    /// </summary>
    public required RegionPolicy AllowedRegions { get; init; }

    /// <summary>The union over datasets, one entry per role, with every reason.</summary>
    public IReadOnlyList<ApprovalRequirement> RequiredApprovals { get; init; } = [];

    /// <summary>Who is asked for each required approval and who takes over on escalation (<see cref="ApproverAssignment"/>).</summary>
    public IReadOnlyList<AssignedApprover> Approvers { get; init; } = [];

    public IReadOnlyList<DatasetPlan> Datasets { get; init; } = [];

    /// <summary>DMP-level findings (dataset findings are on each <see cref="DatasetPlan"/>).</summary>
    public IReadOnlyList<Finding> Findings { get; init; } = [];

    /// <summary>All findings, DMP-level first then per dataset in order.</summary>
    public IEnumerable<Finding> AllFindings() => Findings.Concat(Datasets.SelectMany(d => d.Findings));

    public bool HasErrors => AllFindings().Any(f => f.Severity == FindingSeverity.Error);
}

/// <summary>A person known by e-mail and/or ORCID. <see cref="Key"/> identifies them across plan versions.</summary>
public sealed record Principal
{
    public required string Name { get; init; }

    public string? Email { get; init; }

    /// <summary>Bare ORCID iD (0000-0000-0000-0000), without the https://orcid.org/ prefix.</summary>
    public string? Orcid { get; init; }

    /// <summary>"orcid:&lt;id&gt;" when known (stable across e-mail changes), else "mailto:&lt;lower-case e-mail&gt;".</summary>
    public required string Key { get; init; }
}

public sealed record ApprovalRequirement(ApprovalRole Role, IReadOnlyList<string> Reasons);

public sealed record Finding(FindingSeverity Severity, string Code, string Message, string Path);

public sealed record DatasetPlan
{
    /// <summary>
    /// Identity of the dataset inside its DMP: the dataset_id value exactly as written, so it stays the same whatever
    /// else the DMP gains, loses or reorders. A repeated or blank id is refused (see <see cref="DatasetKeys"/>).
    /// </summary>
    public required string Key { get; init; }

    public required Identifier DatasetId { get; init; }

    public required string Title { get; init; }

    /// <summary>JSON Pointer of the dataset in the DMP it was evaluated from.</summary>
    public required string Path { get; init; }

    public required ClassificationResult Classification { get; init; }

    public IReadOnlyList<ApprovalRequirement> RequiredApprovals { get; init; } = [];

    public required StoragePlan Storage { get; init; }

    public IReadOnlyList<AccessGrant> Access { get; init; } = [];

    public required RetentionPlan Retention { get; init; }

    public IReadOnlyList<Finding> Findings { get; init; } = [];
}

/// <summary>
/// The class and the facts it was derived from: the booleans count "unknown" as "yes" (what governance acts on),
/// the *Answer properties keep what the DMP said, for audit and messages.
/// </summary>
public sealed record ClassificationResult(
    DataClassification Classification,
    DataAccess EffectiveAccess,
    bool PersonalData,
    bool SensitiveData,
    bool EthicalIssues)
{
    public YesNoUnknown PersonalDataAnswer { get; init; } = PersonalData ? YesNoUnknown.Yes : YesNoUnknown.No;

    public YesNoUnknown SensitiveDataAnswer { get; init; } = SensitiveData ? YesNoUnknown.Yes : YesNoUnknown.No;

    public YesNoUnknown EthicalIssuesAnswer { get; init; } = EthicalIssues ? YesNoUnknown.Yes : YesNoUnknown.No;
}

public sealed record StoragePlan
{
    public required string ContainerName { get; init; }

    public required StorageTier Tier { get; init; }

    /// <summary>Encryption scope to create the container with; null for the account's default encryption.</summary>
    public string? EncryptionScope { get; init; }

    /// <summary>Days of time-based immutability for raw data; null when none applies.</summary>
    public int? ImmutabilityDays { get; init; }

    /// <summary>Why the data is write-once: the words of the DMP that say raw, or that its rawness was left open.</summary>
    public string? ImmutabilityReason { get; init; }

    /// <summary>Days after provisioning at which that immutability is locked; null: never (or no immutability).</summary>
    public int? LockImmutabilityAfterDays { get; init; }

    /// <summary>Sum of the distributions' byte_size; null when none states it.</summary>
    public long? QuotaBytes { get; init; }

    /// <summary>Each distribution's host country as declared (distinct, in order), for audit.</summary>
    public IReadOnlyList<string> HostRegions { get; init; } = [];
}

public sealed record AccessGrant
{
    public required Principal Principal { get; init; }

    public required AccessRole Role { get; init; }

    /// <summary>The DMP roles (or "contact") the grant derives from.</summary>
    public IReadOnlyList<string> Because { get; init; } = [];

    /// <summary>The last day of access; null when the project has no end date.</summary>
    public DateOnly? Until { get; init; }
}

public sealed record RetentionPlan
{
    public required DateOnly KeepUntil { get; init; }

    public required RetentionSource Source { get; init; }

    /// <summary>Set when a licence starts in the future: the data stays unpublished until then.</summary>
    public DateOnly? EmbargoUntil { get; init; }

    public required DisposalAction Disposal { get; init; }

    /// <summary>Days on which the PI is notified before disposal (policy notice windows), earliest first.</summary>
    public IReadOnlyList<DateOnly> NoticeDates { get; init; } = [];
}
