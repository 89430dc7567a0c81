using System.Collections.Concurrent;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.Tests.Fakes;

/// <summary>
/// The registry's processed-event set in memory (the only part of <see cref="IGovernanceRegistry"/> the notifier uses), and single-use
/// tokens.
/// </summary>
public sealed class MemoryLedger : IGovernanceRegistry
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _events = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Processed => [.. _events.Keys];

    public bool FailMarks { get; set; }

    public Task<bool> TryMarkEventProcessedAsync(
        string eventId,
        DateTimeOffset processedAt,
        CancellationToken cancellationToken = default) =>
        FailMarks ? throw new PortException("registry down", isTransient: true) : Task.FromResult(_events.TryAdd(eventId, processedAt));

    public Task<bool> IsEventProcessedAsync(string eventId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_events.ContainsKey(eventId));

    public Task<TokenConsumption> TryConsumeTokenAsync(
        string tokenId,
        string useFingerprint,
        DateTimeOffset usedAt,
        DateTimeOffset expiresAt,
        CancellationToken cancellationToken = default) =>
        Task.FromResult(_tokens.TryAdd(tokenId, useFingerprint) ? TokenConsumption.Consumed
            : _tokens[tokenId] == useFingerprint ? TokenConsumption.AlreadyConsumedBySameUse : TokenConsumption.AlreadyUsed);

    public Task<DmpRecord?> GetDmpAsync(string dmpId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<DmpRecord> UpsertDmpAsync(DmpRecord record, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<IReadOnlyList<DmpRecord>> ListDmpsAsync(DmpState? state = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<DatasetRecord?> GetDatasetAsync(string dmpId, string datasetId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<DatasetRecord> UpsertDatasetAsync(DatasetRecord record, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string dmpId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<DatasetRecord?> FindDatasetByContainerAsync(string container, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<IReadOnlyList<DatasetRecord>> ListDatasetsDueAsync(
        DateOnly keepUntilOnOrBefore,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<GrantRecord?> GetGrantAsync(
        string dmpId,
        string datasetId,
        string principalId,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<GrantRecord> UpsertGrantAsync(GrantRecord record, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<IReadOnlyList<GrantRecord>> ListGrantsAsync(
        string dmpId,
        string? datasetId = null,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ApprovalRecord?> GetApprovalAsync(string dmpId, string approvalId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<ApprovalRecord> UpsertApprovalAsync(ApprovalRecord record, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<IReadOnlyList<ApprovalRecord>> ListApprovalsAsync(
        string dmpId,
        string? instanceId = null,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
