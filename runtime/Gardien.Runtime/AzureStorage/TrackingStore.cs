using Azure;
using Azure.Data.Tables;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// The History and Instances tables: an instance's partition read for a step (or taken from the
/// <see cref="InstanceCache"/>), a step committed as one conditional entity-group transaction, the query copy written
/// after it, instance rows created, read, queried and purged. DurableTask.AzureStorage's
/// <c>AzureTableTrackingStore</c> is the model.
/// </summary>
internal sealed class TrackingStore(AzureStorageClients clients, LargePayloadStore payloads, ILogger logger)
{
    private readonly InstanceCache _cache = new();
    private readonly QueryRowWriter _queryRows = new(clients.Instances, logger);

    /// <summary>What a step starts from: the instance's partition, state and history (all empty for an instance without rows).</summary>
    public async Task<InstanceSnapshot> ReadForStepAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (_cache.Get(instanceId) is { } cached)
        {
            return new InstanceSnapshot(cached.Partition, cached.Instance, cached.History);
        }

        var partition = await HistoryTableReader.ReadAsync(clients.History, TableKeys.Encode(instanceId), cancellationToken)
            .ConfigureAwait(false);
        if (partition is null)
        {
            return new InstanceSnapshot(null, null, []);
        }

        var instance = await InstanceRows.ReadAsync(partition.Sentinel, payloads, cancellationToken).ConfigureAwait(false);
        var history = await ReadEventsAsync(partition, cancellationToken).ConfigureAwait(false);
        return new InstanceSnapshot(partition, instance, history);
    }

    /// <summary>Commits a step's history rows and state, conditional on the sentinel's ETag read at lock time.</summary>
    /// <returns>The committed sentinel row (with its new ETag).</returns>
    /// <exception cref="WorkItemLockLostException">Another store object committed the instance since it was read.</exception>
    public async Task<TableEntity> CommitAsync(
        WorkflowWorkItem workItem,
        HistoryPartition? partition,
        WorkflowInstanceState? instance,
        WorkflowStepResult result,
        CancellationToken cancellationToken)
    {
        var key = TableKeys.Encode(workItem.InstanceId);
        var generation = partition?.Generation ?? 0;
        var count = partition?.HistoryCount ?? 0;
        var toDelete = new List<TableEntity>(partition?.StaleRows ?? []);
        if (result.ReplaceHistory && partition is not null)
        {
            toDelete.AddRange(partition.Rows);
            generation++;
            count = 0;
        }

        var rows = await HistoryRows.BuildAsync(key, workItem.InstanceId, generation, count, result.NewHistory, payloads, cancellationToken)
            .ConfigureAwait(false);
        count += rows.Count;

        var sentinel = new TableEntity(key, TableKeys.SentinelRowKey)
        {
            [SentinelColumns.Generation] = generation,
            [SentinelColumns.HistoryCount] = count,
        };
        var previous = instance is not null && partition is not null
            ? (instance, partition.Sentinel)
            : ((WorkflowInstanceState, TableEntity)?)null;
        await InstanceRows.WriteAsync(sentinel, result.State!, payloads, previous, cancellationToken).ConfigureAwait(false);

        ETag newETag;
        try
        {
            newETag = await HistoryTableWriter.CommitAsync(
                clients.History, workItem.InstanceId, partition?.ETag, sentinel, rows, toDelete, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (HistoryTableWriter.ConcurrencyConflictException ex)
        {
            _cache.Forget(workItem.InstanceId);
            throw new WorkItemLockLostException(ex.Message, ex);
        }

        sentinel.ETag = newETag;
        var keptRows = result.ReplaceHistory || partition is null ? rows : [.. partition.Rows, .. rows];
        IReadOnlyList<HistoryEvent> history = result.ReplaceHistory ? [.. result.NewHistory] : [.. workItem.History, .. result.NewHistory];
        _cache.Set(workItem.InstanceId, new CachedInstance(new HistoryPartition(sentinel, keptRows, []), result.State!, history));
        return sentinel;
    }

    /// <summary>
    /// Writes the query copy of a committed sentinel: awaited when a column a query filters or shows changed since
    /// <paramref name="previous"/>, coalesced in the background otherwise (see <see cref="QueryRowWriter"/>).
    /// </summary>
    public Task WriteQueryCopyAsync(TableEntity? previous, TableEntity committed)
    {
        var quiet = previous is not null && InstanceRows.SameQueryColumns(previous, committed);
        return _queryRows.WriteAsync(InstanceRows.QueryCopy(committed), VersionOf(committed), urgent: !quiet);
    }

    /// <summary>Writes query copies still waiting to be coalesced.</summary>
    public Task FlushQueryCopiesAsync() => _queryRows.FlushAsync();

    /// <summary>Inserts a new instance's sentinel (and its query copy); false when the instance exists already.</summary>
    public async Task<bool> TryCreateRowsAsync(WorkflowInstanceState instance, CancellationToken cancellationToken)
    {
        var sentinel = new TableEntity(TableKeys.Encode(instance.InstanceId), TableKeys.SentinelRowKey)
        {
            [SentinelColumns.Generation] = 0,
            [SentinelColumns.HistoryCount] = 0L,
        };
        await InstanceRows.WriteAsync(sentinel, instance, payloads, null, cancellationToken).ConfigureAwait(false);
        try
        {
            await clients.History.AddEntityAsync(sentinel, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }

        await _queryRows.WriteAsync(InstanceRows.QueryCopy(sentinel), VersionOf(sentinel), urgent: true).WaitAsync(cancellationToken)
            .ConfigureAwait(false);
        return true;
    }

    /// <summary>Drops the cached state of an instance whose step did not commit (or that is purged).</summary>
    public void Forget(string instanceId) => _cache.Forget(instanceId);

    public async Task<WorkflowInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        var row = await clients.History.GetEntityIfExistsAsync<TableEntity>(
            TableKeys.Encode(instanceId), TableKeys.SentinelRowKey, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return row.HasValue && row.Value is { } sentinel
            ? await InstanceRows.ReadAsync(sentinel, payloads, cancellationToken).ConfigureAwait(false)
            : null;
    }

    public async Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken)
    {
        var partition = await HistoryTableReader.ReadAsync(clients.History, TableKeys.Encode(instanceId), cancellationToken)
            .ConfigureAwait(false);
        return partition is null ? [] : await ReadEventsAsync(partition, cancellationToken).ConfigureAwait(false);
    }

    public async Task<WorkflowInstancePage> QueryInstancesAsync(WorkflowQuery filter, CancellationToken cancellationToken)
    {
        // Ordered by (encoded) instance id; the continuation token is the last id returned, as in the in-memory store.
        var clauses = new List<string> { TableClient.CreateQueryFilter($"RowKey eq {InstanceRows.InstanceRowKey}") };
        if (filter.ContinuationToken is { } after)
        {
            clauses.Add(TableClient.CreateQueryFilter($"PartitionKey gt {TableKeys.Encode(after)}"));
        }

        if (filter.InstanceIdPrefix is { Length: > 0 } prefix)
        {
            var encoded = TableKeys.Encode(prefix);
            clauses.Add(TableClient.CreateQueryFilter($"PartitionKey ge {encoded} and PartitionKey lt {encoded + char.MaxValue}"));
        }

        if (filter.Statuses is { Count: > 0 } statuses)
        {
            clauses.Add("(" + string.Join(" or ", statuses.Select(s => TableClient.CreateQueryFilter($"Status eq {s.ToString()}"))) + ")");
        }

        if (filter.CreatedFrom is { } from)
        {
            clauses.Add(TableClient.CreateQueryFilter($"CreatedAt ge {from.ToUniversalTime()}"));
        }

        if (filter.CreatedTo is { } to)
        {
            clauses.Add(TableClient.CreateQueryFilter($"CreatedAt lt {to.ToUniversalTime()}"));
        }

        var query = string.Join(" and ", clauses);
        var page = new List<WorkflowInstanceState>(filter.PageSize);
        var hasMore = false;
        await foreach (var row in clients.Instances.QueryAsync<TableEntity>(
            query, maxPerPage: Math.Min(1000, filter.PageSize + 1), cancellationToken: cancellationToken)
                           .ConfigureAwait(false))
        {
            if (page.Count == filter.PageSize)
            {
                hasMore = true;
                break;
            }

            page.Add(await InstanceRows.ReadAsync(row, payloads, cancellationToken).ConfigureAwait(false));
        }

        return new WorkflowInstancePage(page, hasMore ? page[^1].InstanceId : null);
    }

    /// <summary>Deletes a terminal instance's rows, result rows and blobs; false when it does not exist or has not ended.</summary>
    public async Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        _cache.Forget(instanceId);
        var key = TableKeys.Encode(instanceId);
        var sentinel = await clients.History.GetEntityIfExistsAsync<TableEntity>(
            key, TableKeys.SentinelRowKey, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (!sentinel.HasValue || sentinel.Value is null
            || !Enum.TryParse<WorkflowStatus>(sentinel.Value.GetString("Status"), out var status) || !status.IsTerminal())
        {
            return false;
        }

        try
        {
            // Conditional: an instance that changed since the read (it cannot leave a terminal status, but be strict) is not purged.
            await clients.History.DeleteEntityAsync(key, TableKeys.SentinelRowKey, sentinel.Value.ETag, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }

        await DeletePartitionAsync(clients.History, key, cancellationToken).ConfigureAwait(false);
        await DeletePartitionAsync(clients.Instances, key, cancellationToken).ConfigureAwait(false);
        await payloads.DeleteForInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static (long Generation, long HistoryCount) VersionOf(TableEntity sentinel) =>
        (sentinel.GetInt32(SentinelColumns.Generation) ?? 0, sentinel.GetInt64(SentinelColumns.HistoryCount) ?? 0);

    private async Task<IReadOnlyList<HistoryEvent>> ReadEventsAsync(HistoryPartition partition, CancellationToken cancellationToken)
    {
        var events = new List<HistoryEvent>(partition.Rows.Count);
        foreach (var row in partition.Rows)
        {
            await HistoryRows.ReadAsync(row, events, payloads, cancellationToken).ConfigureAwait(false);
        }

        return events;
    }

    private static async Task DeletePartitionAsync(TableClient table, string partitionKey, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}"),
                           select: ["PartitionKey", "RowKey"],
                           cancellationToken: cancellationToken)
                           .ConfigureAwait(false))
        {
            rows.Add(row);
        }

        foreach (var chunk in rows.Chunk(HistoryTableWriter.MaxOperationsPerBatch))
        {
            try
            {
                await table.SubmitTransactionAsync(
                    chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (TableTransactionFailedException)
            {
                // A row vanished concurrently; delete the rest one by one.
                foreach (var row in chunk)
                {
                    await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}

/// <summary>What a step of an instance starts from (see <see cref="TrackingStore.ReadForStepAsync"/>).</summary>
internal sealed record InstanceSnapshot(HistoryPartition? Partition, WorkflowInstanceState? Instance, IReadOnlyList<HistoryEvent> History);
