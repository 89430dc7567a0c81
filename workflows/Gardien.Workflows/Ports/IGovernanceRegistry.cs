namespace Gardien.Workflows.Ports;

/// <summary>
/// The governance registry: what Gardien believes is true (DMPs, datasets, grants, approvals, the retention
/// schedule), plus the single-use sets (approval tokens, processed events).
/// <para>
/// Writes are idempotent upserts with optional optimistic concurrency: a record whose <c>ETag</c> is null is written
/// unconditionally (insert or replace); a record carrying the <c>ETag</c> it was read with is written only if nobody
/// changed it since, otherwise <see cref="ConcurrencyConflictException"/> is thrown (re-read, re-decide, retry).
/// Every upsert returns the stored record with its new ETag.
/// </para>
/// </summary>
public interface IGovernanceRegistry
{
    // DMPs
    Task<DmpRecord?> GetDmpAsync(string dmpId, CancellationToken cancellationToken = default);

    Task<DmpRecord> UpsertDmpAsync(DmpRecord record, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DmpRecord>> ListDmpsAsync(DmpState? state = null, CancellationToken cancellationToken = default);

    // Datasets
    Task<DatasetRecord?> GetDatasetAsync(string dmpId, string datasetId, CancellationToken cancellationToken = default);

    Task<DatasetRecord> UpsertDatasetAsync(DatasetRecord record, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string dmpId, CancellationToken cancellationToken = default);

    /// <summary>The dataset governing this container (blob events), or null when no plan knows the container.</summary>
    Task<DatasetRecord?> FindDatasetByContainerAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>
    /// The retention schedule: datasets not yet disposed (state neither <see cref="DatasetState.Disposed"/> nor
    /// <see cref="DatasetState.Archived"/> nor <see cref="DatasetState.Published"/>) whose keep-until is on or before the date.
    /// </summary>
    Task<IReadOnlyList<DatasetRecord>> ListDatasetsDueAsync(DateOnly keepUntilOnOrBefore, CancellationToken cancellationToken = default);

    // Grants
    Task<GrantRecord?> GetGrantAsync(string dmpId, string datasetId, string principalId, CancellationToken cancellationToken = default);

    Task<GrantRecord> UpsertGrantAsync(GrantRecord record, CancellationToken cancellationToken = default);

    /// <summary>Grants of the DMP, of one dataset when <paramref name="datasetId"/> is given; revoked grants included (filter on <see cref="GrantRecord.State"/>).</summary>
    Task<IReadOnlyList<GrantRecord>> ListGrantsAsync(string dmpId, string? datasetId = null, CancellationToken cancellationToken = default);

    // Approvals
    Task<ApprovalRecord?> GetApprovalAsync(string dmpId, string approvalId, CancellationToken cancellationToken = default);

    Task<ApprovalRecord> UpsertApprovalAsync(ApprovalRecord record, CancellationToken cancellationToken = default);

    /// <summary>Approvals of the DMP, of one workflow instance when <paramref name="instanceId"/> is given.</summary>
    Task<IReadOnlyList<ApprovalRecord>> ListApprovalsAsync(string dmpId, string? instanceId = null, CancellationToken cancellationToken = default);

    // Single-use sets
    /// <summary>
    /// Marks an approval token as used. <paramref name="useFingerprint"/> identifies the use (e.g. "decision|approver"):
    /// the first call returns <see cref="TokenConsumption.Consumed"/>; a retry of the same use returns
    /// <see cref="TokenConsumption.AlreadyConsumedBySameUse"/> (treat as success); any other later use returns
    /// <see cref="TokenConsumption.AlreadyUsed"/> (reject).
    /// </summary>
    Task<TokenConsumption> TryConsumeTokenAsync(string tokenId, string useFingerprint, DateTimeOffset usedAt, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Records an event id (Event Grid id, blob event) as processed. True the first time, false for a duplicate.</summary>
    Task<bool> TryMarkEventProcessedAsync(string eventId, DateTimeOffset processedAt, CancellationToken cancellationToken = default);

    Task<bool> IsEventProcessedAsync(string eventId, CancellationToken cancellationToken = default);
}

public enum TokenConsumption
{
    Consumed,
    AlreadyConsumedBySameUse,
    AlreadyUsed,
}
