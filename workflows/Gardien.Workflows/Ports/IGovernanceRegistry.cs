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
    /// <summary>The DMP, or null when the registry does not know it.</summary>
    Task<DmpRecord?> GetDmpAsync(string dmpId, CancellationToken cancellationToken = default);

    /// <summary>Writes the DMP record (see the class remarks on ETags); returns it as stored.</summary>
    Task<DmpRecord> UpsertDmpAsync(DmpRecord record, CancellationToken cancellationToken = default);

    /// <summary>Every DMP, or those in <paramref name="state"/>.</summary>
    Task<IReadOnlyList<DmpRecord>> ListDmpsAsync(DmpState? state = null, CancellationToken cancellationToken = default);

    // Datasets
    /// <summary>The dataset, or null.</summary>
    Task<DatasetRecord?> GetDatasetAsync(string dmpId, string datasetId, CancellationToken cancellationToken = default);

    /// <summary>Writes the dataset record (see the class remarks on ETags); returns it as stored.</summary>
    Task<DatasetRecord> UpsertDatasetAsync(DatasetRecord record, CancellationToken cancellationToken = default);

    /// <summary>The datasets of the DMP.</summary>
    Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string dmpId, CancellationToken cancellationToken = default);

    /// <summary>The dataset governing this container (blob events), or null when no plan knows the container.</summary>
    Task<DatasetRecord?> FindDatasetByContainerAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>
    /// The retention schedule: datasets not yet disposed (state neither <see cref="DatasetState.Disposed"/> nor
    /// <see cref="DatasetState.Archived"/> nor <see cref="DatasetState.Published"/>) whose keep-until is on or before the date.
    /// </summary>
    Task<IReadOnlyList<DatasetRecord>> ListDatasetsDueAsync(DateOnly keepUntilOnOrBefore, CancellationToken cancellationToken = default);

    // Grants
    /// <summary>The grant of the principal on the dataset, or null.</summary>
    Task<GrantRecord?> GetGrantAsync(string dmpId, string datasetId, string principalId, CancellationToken cancellationToken = default);

    /// <summary>Writes the grant record (see the class remarks on ETags); returns it as stored.</summary>
    Task<GrantRecord> UpsertGrantAsync(GrantRecord record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Grants of the DMP, of one dataset when <paramref name="datasetId"/> is given; revoked grants included (filter on
    /// <see cref="GrantRecord.State"/>).
    /// </summary>
    Task<IReadOnlyList<GrantRecord>> ListGrantsAsync(string dmpId, string? datasetId = null, CancellationToken cancellationToken = default);

    // Approvals
    /// <summary>The approval, or null.</summary>
    Task<ApprovalRecord?> GetApprovalAsync(string dmpId, string approvalId, CancellationToken cancellationToken = default);

    /// <summary>Writes the approval record (see the class remarks on ETags); returns it as stored.</summary>
    Task<ApprovalRecord> UpsertApprovalAsync(ApprovalRecord record, CancellationToken cancellationToken = default);

    /// <summary>Approvals of the DMP, of one workflow instance when <paramref name="instanceId"/> is given.</summary>
    Task<IReadOnlyList<ApprovalRecord>> ListApprovalsAsync(
        string dmpId,
        string? instanceId = null,
        CancellationToken cancellationToken = default);

    // Single-use sets
    /// <summary>
    /// Marks an approval token as used. <paramref name="useFingerprint"/> identifies the use (e.g. "decision|approver"):
    /// the first call returns <see cref="TokenConsumption.Consumed"/>; a retry of the same use returns
    /// <see cref="TokenConsumption.AlreadyConsumedBySameUse"/> (treat as success); any other later use returns
    /// <see cref="TokenConsumption.AlreadyUsed"/> (reject).
    /// </summary>
    Task<TokenConsumption> TryConsumeTokenAsync(
        string tokenId,
        string useFingerprint,
        DateTimeOffset usedAt,
        DateTimeOffset expiresAt,
        CancellationToken cancellationToken = default);

    /// <summary>Records an event id (Event Grid id, blob event) as processed. True the first time, false for a duplicate.</summary>
    Task<bool> TryMarkEventProcessedAsync(string eventId, DateTimeOffset processedAt, CancellationToken cancellationToken = default);

    /// <summary>Whether the event id was recorded as processed.</summary>
    Task<bool> IsEventProcessedAsync(string eventId, CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="IGovernanceRegistry.TryConsumeTokenAsync"/> found.</summary>
public enum TokenConsumption
{
    /// <summary>The token was unused: this use consumed it.</summary>
    Consumed,
    /// <summary>The token was consumed by this very use before (a redelivered call): go on as if consumed now.</summary>
    AlreadyConsumedBySameUse,
    /// <summary>The token was consumed by another use: refuse.</summary>
    AlreadyUsed,
}
