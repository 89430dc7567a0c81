using Azure;
using Azure.Data.Tables;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// The committed state of one instance partition: the sentinel (with its ETag) and the current generation's rows in order.
/// </summary>
internal sealed record HistoryPartition(TableEntity Sentinel, IReadOnlyList<TableEntity> Rows, IReadOnlyList<TableEntity> StaleRows)
{
    public ETag ETag => Sentinel.ETag;

    public int Generation => Sentinel.GetInt32(SentinelColumns.Generation) ?? 0;

    public long HistoryCount => Sentinel.GetInt64(SentinelColumns.HistoryCount) ?? 0;
}

internal static class SentinelColumns
{
    public const string Generation = "Generation";
    public const string HistoryCount = "HistoryCount";
}

internal static class HistoryTableReader
{
    /// <summary>
    /// Reads the partition in one query (plus continuation pages). Rows beyond the committed count, or of an older
    /// generation, were written by a step that lost its commit or by a truncated execution: they are returned as
    /// stale so that the next commit can delete them, and never replayed.
    /// </summary>
    public static async Task<HistoryPartition?> ReadAsync(TableClient table, string partitionKey, CancellationToken cancellationToken)
    {
        TableEntity? sentinel = null;
        var all = new List<TableEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.RowKey == TableKeys.SentinelRowKey)
            {
                sentinel = row;
            }
            else
            {
                all.Add(row);
            }
        }

        if (sentinel is null)
        {
            return null;
        }

        var generation = sentinel.GetInt32(SentinelColumns.Generation) ?? 0;
        var count = sentinel.GetInt64(SentinelColumns.HistoryCount) ?? 0;
        var current = new List<TableEntity>();
        var stale = new List<TableEntity>();
        foreach (var row in all)
        {
            if (TableKeys.TryParseHistoryRowKey(row.RowKey, out var g, out var seq) && g == generation && seq < count)
            {
                current.Add(row);
            }
            else if (TableKeys.TryParseHistoryRowKey(row.RowKey, out g, out _) && g < generation)
            {
                // Rows beyond the committed count of the current generation are not stale: the next commit overwrites them.
                stale.Add(row);
            }
        }

        // The service returns rows sorted by RowKey, which is (generation, zero-padded sequence): already in order.
        return new HistoryPartition(sentinel, current, stale);
    }
}
