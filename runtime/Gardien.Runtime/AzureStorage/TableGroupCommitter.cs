using Azure.Data.Tables;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Upserts rows with group commit (see <see cref="GroupCommitter{TItem}"/>): rows for one partition that arrive while
/// a write to that partition is in flight are written together in the next entity-group transaction (one request for
/// up to <see cref="MaxRowsPerBatch"/> rows under the 4 MB cap). Nothing of a failed batch is written:
/// entity-group transactions are atomic.
/// </summary>
internal sealed class TableGroupCommitter
{
    /// <summary>The 100-operation limit of an entity-group transaction; the 4 MB limit is kept by estimating row sizes.</summary>
    public const int MaxRowsPerBatch = HistoryTableWriter.MaxOperationsPerBatch;

    private readonly GroupCommitter<TableEntity> _committer;

    public TableGroupCommitter(TableClient table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _committer = new GroupCommitter<TableEntity>(SelectRows, (_, rows) =>
            table.SubmitTransactionAsync(
                rows.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)), CancellationToken.None));
    }

    /// <summary>Completes once the row is durable.</summary>
    public Task UpsertAsync(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return _committer.EnqueueAsync(row.PartitionKey, row);
    }

    private static List<int> SelectRows(IReadOnlyList<TableEntity> pending)
    {
        // A transaction may not touch one row twice: a second write of a row waits for the next batch.
        var chosen = new List<int>();
        var rowKeys = new HashSet<string>(StringComparer.Ordinal);
        long bytes = 0;
        for (var i = 0; i < pending.Count && chosen.Count < MaxRowsPerBatch; i++)
        {
            var size = HistoryTableWriter.EstimateSize(pending[i]);
            if (chosen.Count > 0 && bytes + size > HistoryTableWriter.MaxBytesPerBatch)
            {
                break;
            }

            if (rowKeys.Add(pending[i].RowKey))
            {
                chosen.Add(i);
                bytes += size;
            }
        }

        return chosen;
    }
}
