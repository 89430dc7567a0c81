namespace Gardien.Workflows.Ports;

/// <summary>Where a governed DMP stands.</summary>
public enum DmpState
{
    /// <summary>An intake is running: the plan is not in force yet.</summary>
    Pending,
    /// <summary>The plan is in force: storage provisioned, access granted.</summary>
    Active,
    /// <summary>An approver rejected the plan, or it was invalid.</summary>
    Rejected,
    /// <summary>Provisioning or granting failed; what was done was undone.</summary>
    Failed,
    /// <summary>Every dataset of the DMP has been disposed of.</summary>
    Disposed,
}

/// <summary>A governed DMP. <see cref="ActivePlanJson"/> is the serialised plan in force (opaque to the registry).</summary>
public sealed record DmpRecord
{
    /// <summary>The DMP's identifier (<c>dmp_id</c>).</summary>
    public required string DmpId { get; init; }
    /// <summary>Where the DMP stands.</summary>
    public required DmpState State { get; init; }
    /// <summary>The DMP's <c>modified</c> of the version in force: an older version arriving later is ignored.</summary>
    public DateTimeOffset? Modified { get; init; }
    /// <summary>The DMP's title, for messages.</summary>
    public string? Title { get; init; }
    /// <summary>E-mail of the contact (PI).</summary>
    public string? ContactEmail { get; init; }
    /// <summary>The governance plan in force, serialised.</summary>
    public string? ActivePlanJson { get; init; }
    /// <summary>Instance id of the workflow that last changed the record.</summary>
    public string? InstanceId { get; init; }
    /// <summary>Why the state is what it is (rejection reason, failure reason).</summary>
    public string? StateReason { get; init; }
    /// <summary>When the record was last written.</summary>
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

/// <summary>Where a governed dataset stands.</summary>
public enum DatasetState
{
    /// <summary>In the plan, storage not provisioned yet.</summary>
    Planned,
    /// <summary>Its container exists, with the plan's controls.</summary>
    Provisioned,
    /// <summary>Disposal phase 1 done: marked, waiting for the grace period.</summary>
    MarkedForDeletion,
    /// <summary>Deleted (phase 2 done), with a deletion certificate.</summary>
    Disposed,
    /// <summary>Moved to the archive tier at the end of its retention.</summary>
    Archived,
    /// <summary>Handed off for publication at the end of its retention.</summary>
    Published,
    /// <summary>Provisioning failed.</summary>
    Failed,
}

/// <summary>What happens to a dataset once its retention ends.</summary>
public enum DisposalAction
{
    /// <summary>Deleted in two phases (mark, then purge after a grace period).</summary>
    Delete,
    /// <summary>Moved to the archive tier and kept.</summary>
    Archive,
    /// <summary>Handed off to a repository for publication.</summary>
    Publish,
}

/// <summary>A governed dataset: its container, retention, classification and disposal.</summary>
public sealed record DatasetRecord
{
    /// <summary>The DMP the dataset belongs to.</summary>
    public required string DmpId { get; init; }
    /// <summary>The dataset's key within the DMP.</summary>
    public required string DatasetId { get; init; }
    /// <summary>The storage container holding the dataset.</summary>
    public required string Container { get; init; }
    /// <summary>Where the dataset stands.</summary>
    public required DatasetState State { get; init; }
    /// <summary>The dataset's title, for messages.</summary>
    public string? Title { get; init; }
    /// <summary>Null means "keep": no disposal is ever scheduled.</summary>
    public DateOnly? KeepUntil { get; init; }
    /// <summary>What happens once the retention ends.</summary>
    public DisposalAction Disposal { get; init; } = DisposalAction.Delete;
    /// <summary>A legal hold recorded in the registry: blocks disposal.</summary>
    public bool LegalHold { get; init; }
    /// <summary>An open case (complaint, audit, investigation) blocks disposal like a hold.</summary>
    public string? OpenCaseId { get; init; }
    /// <summary>Holds personal data: disposal needs the DPO too.</summary>
    public bool PersonalData { get; init; }
    /// <summary>Holds sensitive data.</summary>
    public bool SensitiveData { get; init; }
    /// <summary>Instance id that created the container (compensation deletes only its own).</summary>
    public string? CreatedByInstanceId { get; init; }
    /// <summary>No access beyond the team before this date.</summary>
    public DateOnly? EmbargoUntil { get; init; }
    /// <summary>Storage quota; null: none.</summary>
    public long? QuotaBytes { get; init; }
    /// <summary>When the dataset was disposed of.</summary>
    public DateTimeOffset? DisposedAt { get; init; }
    /// <summary>Audit sequence of the deletion certificate, once written.</summary>
    public long? DeletionCertificateSequence { get; init; }
    /// <summary>When the record was last written.</summary>
    public DateTimeOffset? UpdatedAt { get; init; }
    /// <summary>Controls of the plan recorded but not enforced by the platform.</summary>
    public IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally { get; init; } = [];

    /// <summary>Days of time-based immutability the plan asks for the container; null: none.</summary>
    public int? ImmutabilityDays { get; init; }

    /// <summary>The day the container's immutability policy is to be locked (policy <c>lock_after_days</c>); null: never.</summary>
    public DateOnly? ImmutabilityLockDue { get; init; }

    /// <summary>The controls in force on the container, read back from the store after the last change (not the plan's wishes).</summary>
    public ContainerControls? Controls { get; init; }

    /// <summary>When <see cref="Controls"/> were read.</summary>
    public DateTimeOffset? ControlsReadAt { get; init; }

    /// <summary>Null for an unconditional write; the read ETag for optimistic concurrency.</summary>
    public string? ETag { get; init; }
}

/// <summary>Whether a grant gives access.</summary>
public enum GrantState
{
    /// <summary>The principal has access.</summary>
    Active,
    /// <summary>Access was removed (see the revocation reason).</summary>
    Revoked,
}

/// <summary>An access grant: one principal on one dataset, justified by approvals.</summary>
public sealed record GrantRecord
{
    /// <summary>The DMP the grant belongs to.</summary>
    public required string DmpId { get; init; }
    /// <summary>The dataset the grant is on.</summary>
    public required string DatasetId { get; init; }
    /// <summary>The directory id of the user or group granted.</summary>
    public required string PrincipalId { get; init; }
    /// <summary>User or group.</summary>
    public PrincipalKind PrincipalKind { get; init; } = PrincipalKind.User;
    /// <summary>Reader, contributor or owner.</summary>
    public required AccessLevel Level { get; init; }
    /// <summary>Whether the grant gives access.</summary>
    public required GrantState State { get; init; }
    /// <summary>Access ends on this date (project end + grace); null only for the data owner.</summary>
    public DateOnly? EndsOn { get; init; }
    /// <summary>Ids of the <see cref="ApprovalRecord"/>s that justify the grant; a grant without them must not exist.</summary>
    public IReadOnlyList<string> ApprovalIds { get; init; } = [];
    /// <summary>The workflow instance that granted it.</summary>
    public string? GrantedByInstanceId { get; init; }
    /// <summary>When it was granted.</summary>
    public DateTimeOffset? GrantedAt { get; init; }
    /// <summary>Last confirmation in an access review.</summary>
    public DateTimeOffset? ConfirmedAt { get; init; }
    /// <summary>When it was revoked.</summary>
    public DateTimeOffset? RevokedAt { get; init; }
    /// <summary>Why it was revoked.</summary>
    public string? RevokedReason { get; init; }
    /// <summary>Null for an unconditional write; the read ETag for optimistic concurrency.</summary>
    public string? ETag { get; init; }
}

/// <summary>The state of one approval.</summary>
public enum ApprovalDecision
{
    /// <summary>Asked, not decided yet.</summary>
    Pending,
    /// <summary>The approver (or their delegate) approved.</summary>
    Approved,
    /// <summary>The approver (or their delegate) rejected.</summary>
    Rejected,
    /// <summary>Nobody decided in time, or the request was withdrawn.</summary>
    Expired,
}

/// <summary>One approval asked of one role, and its decision.</summary>
public sealed record ApprovalRecord
{
    /// <summary>The DMP the approval is about.</summary>
    public required string DmpId { get; init; }
    /// <summary>Deterministic id, e.g. "{instanceId}:{role}".</summary>
    public required string ApprovalId { get; init; }
    /// <summary>The approval workflow's instance.</summary>
    public required string InstanceId { get; init; }
    /// <summary>Approver role: "pi", "steward", "dpo"...</summary>
    public required string Role { get; init; }
    /// <summary>The state of the approval.</summary>
    public required ApprovalDecision Decision { get; init; }
    /// <summary>What is approved: "intake", "update", "retention-extension:{datasetId}".</summary>
    public string? Subject { get; init; }
    /// <summary>The approver asked (e-mail or directory id).</summary>
    public string? Approver { get; init; }
    /// <summary>Who actually decided (the approver, an escalation delegate, or someone acting on the approver's behalf).</summary>
    public string? DecidedBy { get; init; }
    /// <summary>The approver <see cref="DecidedBy"/> acted for, when the policy let them decide on the approver's behalf.</summary>
    public string? OnBehalfOf { get; init; }
    /// <summary>When the approval was asked.</summary>
    public DateTimeOffset? RequestedAt { get; init; }
    /// <summary>When it was decided (or expired).</summary>
    public DateTimeOffset? DecidedAt { get; init; }
    /// <summary>The decider's comment, or why it expired.</summary>
    public string? Comment { get; init; }
    /// <summary>Id of the approval-link token used for the decision.</summary>
    public string? TokenId { get; init; }
    /// <summary>Whether the request was escalated to a delegate.</summary>
    public bool Escalated { get; init; }
    /// <summary>Null for an unconditional write; the read ETag for optimistic concurrency.</summary>
    public string? ETag { get; init; }
}
