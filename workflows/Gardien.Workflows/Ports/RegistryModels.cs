namespace Gardien.Workflows.Ports;

public enum DmpState
{
    Pending,
    Active,
    Rejected,
    Failed,
    Disposed,
}

/// <summary>A governed DMP. <see cref="ActivePlanJson"/> is the serialised plan in force (opaque to the registry).</summary>
public sealed record DmpRecord
{
    public required string DmpId { get; init; }
    public required DmpState State { get; init; }
    /// <summary>The DMP's <c>modified</c> of the version in force: an older version arriving later is ignored.</summary>
    public DateTimeOffset? Modified { get; init; }
    public string? Title { get; init; }
    /// <summary>E-mail of the contact (PI).</summary>
    public string? ContactEmail { get; init; }
    public string? ActivePlanJson { get; init; }
    /// <summary>Instance id of the workflow that last changed the record.</summary>
    public string? InstanceId { get; init; }
    /// <summary>Why the state is what it is (rejection reason, failure reason).</summary>
    public string? StateReason { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    /// <summary>Features of the plan in force that are recorded but not enforced by the platform.</summary>
    public IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally { get; init; } = [];
    /// <summary>
    /// Newer versions waiting for the intake that holds the record (<see cref="InstanceId"/>, state Pending) to end; that
    /// intake wakes each of them when it ends, and the newest takes its turn. Written under the record's ETag, so a version
    /// either joins the queue while the intake runs or finds the intake already ended: none is lost.
    /// </summary>
    public IReadOnlyList<QueuedDmpVersion> Queue { get; init; } = [];
    /// <summary>Null for an unconditional write; the read ETag for optimistic concurrency.</summary>
    public string? ETag { get; init; }
}

/// <summary>A version of a DMP waiting for its turn: the instance that will take it in, and the version's <c>modified</c>.</summary>
public sealed record QueuedDmpVersion(string InstanceId, DateTimeOffset? Modified, DateTimeOffset QueuedAt);

public enum DatasetState
{
    Planned,
    Provisioned,
    /// <summary>Disposal phase 1 done: marked, waiting for the grace period.</summary>
    MarkedForDeletion,
    Disposed,
    Archived,
    Published,
    Failed,
}

public enum DisposalAction
{
    Delete,
    Archive,
    Publish,
}

public sealed record DatasetRecord
{
    public required string DmpId { get; init; }
    public required string DatasetId { get; init; }
    public required string Container { get; init; }
    public required DatasetState State { get; init; }
    public string? Title { get; init; }
    /// <summary>Null means "keep": no disposal is ever scheduled.</summary>
    public DateOnly? KeepUntil { get; init; }
    public DisposalAction Disposal { get; init; } = DisposalAction.Delete;
    public bool LegalHold { get; init; }
    /// <summary>An open case (complaint, audit, investigation) blocks disposal like a hold.</summary>
    public string? OpenCaseId { get; init; }
    public bool PersonalData { get; init; }
    public bool SensitiveData { get; init; }
    /// <summary>Instance id that created the container (compensation deletes only its own).</summary>
    public string? CreatedByInstanceId { get; init; }
    public DateOnly? EmbargoUntil { get; init; }
    public long? QuotaBytes { get; init; }
    public DateTimeOffset? DisposedAt { get; init; }
    /// <summary>Audit sequence of the deletion certificate, once written.</summary>
    public long? DeletionCertificateSequence { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally { get; init; } = [];

    /// <summary>Days of time-based immutability the plan asks for the container; null: none.</summary>
    public int? ImmutabilityDays { get; init; }

    /// <summary>The day the container's immutability policy is to be locked (policy <c>lock_after_days</c>); null: never.</summary>
    public DateOnly? ImmutabilityLockDue { get; init; }

    /// <summary>The controls in force on the container, read back from the store after the last change (not the plan's wishes).</summary>
    public ContainerControls? Controls { get; init; }

    /// <summary>When <see cref="Controls"/> were read.</summary>
    public DateTimeOffset? ControlsReadAt { get; init; }
    public string? ETag { get; init; }
}

public enum GrantState
{
    Active,
    Revoked,
}

/// <summary>An access grant: one principal on one dataset, justified by approvals.</summary>
public sealed record GrantRecord
{
    public required string DmpId { get; init; }
    public required string DatasetId { get; init; }
    public required string PrincipalId { get; init; }
    public PrincipalKind PrincipalKind { get; init; } = PrincipalKind.User;
    public required AccessLevel Level { get; init; }
    public required GrantState State { get; init; }
    /// <summary>Access ends on this date (project end + grace); null only for the data owner.</summary>
    public DateOnly? EndsOn { get; init; }
    /// <summary>Ids of the <see cref="ApprovalRecord"/>s that justify the grant; a grant without them must not exist.</summary>
    public IReadOnlyList<string> ApprovalIds { get; init; } = [];
    public string? GrantedByInstanceId { get; init; }
    public DateTimeOffset? GrantedAt { get; init; }
    /// <summary>Last confirmation in an access review.</summary>
    public DateTimeOffset? ConfirmedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string? RevokedReason { get; init; }
    public string? ETag { get; init; }
}

public enum ApprovalDecision
{
    Pending,
    Approved,
    Rejected,
    Expired,
}

public sealed record ApprovalRecord
{
    public required string DmpId { get; init; }
    /// <summary>Deterministic id, e.g. "{instanceId}:{role}".</summary>
    public required string ApprovalId { get; init; }
    public required string InstanceId { get; init; }
    /// <summary>Approver role: "pi", "steward", "dpo"...</summary>
    public required string Role { get; init; }
    public required ApprovalDecision Decision { get; init; }
    /// <summary>What is approved: "intake", "update", "retention-extension:{datasetId}".</summary>
    public string? Subject { get; init; }
    /// <summary>The approver asked (e-mail or directory id).</summary>
    public string? Approver { get; init; }
    /// <summary>Who actually decided (the approver, an escalation delegate, or someone acting on the approver's behalf).</summary>
    public string? DecidedBy { get; init; }
    /// <summary>The approver <see cref="DecidedBy"/> acted for, when the policy let them decide on the approver's behalf.</summary>
    public string? OnBehalfOf { get; init; }
    public DateTimeOffset? RequestedAt { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public string? Comment { get; init; }
    /// <summary>Id of the approval-link token used for the decision.</summary>
    public string? TokenId { get; init; }
    public bool Escalated { get; init; }
    public string? ETag { get; init; }
}
