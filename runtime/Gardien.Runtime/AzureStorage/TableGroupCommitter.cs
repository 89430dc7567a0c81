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
    /// <summary>
    /// Below the 100-operation limit so that a batch of rows carrying inline payloads (at most 64 KB each, larger ones
    /// go to blobs) stays under the 4 MB transaction limit.
    /// </summary>
    public const int MaxRowsPerBatch = 50;

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
                for (var i = 0; i < queue.Count && batch.Count < MaxRowsPerBatch; i++)
                {
                    if (rowKeys.Add(queue[i].Row.RowKey))
                    {
                        batch.Add(queue[i]);
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
