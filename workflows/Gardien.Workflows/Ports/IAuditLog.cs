using System.Text.Json;

namespace Gardien.Workflows.Ports;

/// <summary>
/// The append-only, hash-chained audit trail (format: docs/audit.md). Appends are idempotent by
/// <see cref="AuditEntry.IdempotencyKey"/> when one is given (an activity retry does not write the entry twice).
/// </summary>
public interface IAuditLog
{
    /// <summary>Appends the entry at the end of the chain and returns its sequence number and hash.</summary>
    Task<AuditReceipt> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Entries from sequence <paramref name="fromSequence"/> (1-based) in chain order.</summary>
    IAsyncEnumerable<AuditRecord> ReadAsync(long fromSequence = 1, CancellationToken cancellationToken = default);

    /// <summary>Recomputes the whole chain; reports the first broken link, if any.</summary>
    Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken = default);
}

/// <summary>One decision or action.</summary>
/// <param name="Actor">Who: "user:alice@uni.example", "system:IntakeDmpWorkflow".</param>
/// <param name="Action">What, dotted: "approval.decided", "container.provisioned", "grant.revoked", "dataset.disposed".</param>
/// <param name="InstanceId">Workflow instance id (empty string outside a workflow).</param>
/// <param name="Subject">On what: "dmp:{id}", "dataset:{dmpId}/{datasetId}", "container:{name}".</param>
/// <param name="Timestamp">When it happened (replay-safe workflow time).</param>
/// <param name="Before">State before (any JSON), or null.</param>
/// <param name="After">State after (any JSON: e.g. a deletion certificate), or null.</param>
/// <param name="CorrelationId">Trace / parent instance id, or null.</param>
/// <param name="IdempotencyKey">Stable per logical entry; a second append with the same key returns the first receipt.</param>
public sealed record AuditEntry(
    string Actor,
    string Action,
    string InstanceId,
    string Subject,
    DateTimeOffset Timestamp,
    JsonElement? Before = null,
    JsonElement? After = null,
    string? CorrelationId = null,
    string? IdempotencyKey = null);

/// <param name="Location">Where the entry is stored (blob name).</param>
/// <param name="Duplicate">True when an entry with the same idempotency key already existed and nothing was appended.</param>
public sealed record AuditReceipt(long Sequence, string Hash, string Location, bool Duplicate);

/// <summary>A stored entry with its chain fields.</summary>
public sealed record AuditRecord(long Sequence, string PreviousHash, string Hash, AuditEntry Entry, string Location, int LineNumber);

/// <param name="EntriesChecked">Entries whose links were verified before stopping.</param>
/// <param name="FirstBrokenLink">Null when the chain is intact.</param>
public sealed record AuditVerification(bool Intact, long EntriesChecked, string? LastHash, BrokenLink? FirstBrokenLink);

/// <param name="Location">Blob (or file) holding the entry.</param>
/// <param name="LineNumber">1-based line within it.</param>
/// <param name="Sequence">The sequence expected at that position.</param>
/// <param name="Problem">Human-readable: what is wrong.</param>
/// <param name="Expected">Expected hash (or value), when meaningful.</param>
/// <param name="Actual">Actual hash (or value), when meaningful.</param>
public sealed record BrokenLink(string Location, int LineNumber, long Sequence, string Problem, string? Expected, string? Actual);
