using Azure.Data.Tables;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Upserts rows with group commit: rows for one partition that arrive while a write to that partition is in flight
/// are written together in the next entity-group transaction (one request for up to <see cref="MaxRowsPerBatch"/>
/// rows). A caller's task completes only once its own row is durable, or fails with the batch's error (nothing of a
/// failed batch is written: entity-group transactions are atomic). A lone row is written at once, without waiting.
/// </summary>
internal sealed class TableGroupCommitter(TableClient table)
{
    /// <summary>The 100-operation limit of an entity-group transaction; the 4 MB limit is kept by estimating row sizes.</summary>
    public const int MaxRowsPerBatch = HistoryTableWriter.MaxOperationsPerBatch;

    private readonly object _sync = new();
    private readonly Dictionary<string, List<(TableEntity Row, TaskCompletionSource Durable)>> _pending = new(StringComparer.Ordinal);

    public Task UpsertAsync(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var durable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool startWriter;
        lock (_sync)
        {
            startWriter = !_pending.TryGetValue(row.PartitionKey, out var queue);
            if (startWriter)
            {
                queue = [];
                _pending[row.PartitionKey] = queue;
            }

            queue!.Add((row, durable));
        }

        if (startWriter)
        {
            _ = Task.Run(() => WriteAllAsync(row.PartitionKey));
        }

        return durable.Task;
    }

    private async Task WriteAllAsync(string partitionKey)
    {
        while (true)
        {
            var batch = new List<(TableEntity Row, TaskCompletionSource Durable)>();
            lock (_sync)
            {
                var queue = _pending[partitionKey];
                if (queue.Count == 0)
                {
                    _pending.Remove(partitionKey);
                    return;
                }

                // A transaction may not touch one row twice: a second write of a row waits for the next batch.
                var rowKeys = new HashSet<string>(StringComparer.Ordinal);
                long bytes = 0;
                for (var i = 0; i < queue.Count && batch.Count < MaxRowsPerBatch; i++)
                {
                    var size = HistoryTableWriter.EstimateSize(queue[i].Row);
                    if (batch.Count > 0 && bytes + size > HistoryTableWriter.MaxBytesPerBatch)
                    {
                        break;
                    }

                    if (rowKeys.Add(queue[i].Row.RowKey))
                    {
                        batch.Add(queue[i]);
                        bytes += size;
                        queue.RemoveAt(i--);
                    }
                }
            }

            try
            {
                await table.SubmitTransactionAsync(batch.Select(b => new TableTransactionAction(TableTransactionActionType.UpsertReplace, b.Row)), CancellationToken.None)
                    .ConfigureAwait(false);
                foreach (var (_, durable) in batch)
                {
                    durable.TrySetResult();
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, durable) in batch)
                {
                    durable.TrySetException(ex);
                }
            }
        }
    }
}
