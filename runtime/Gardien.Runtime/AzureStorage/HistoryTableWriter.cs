using Azure;
using Azure.Data.Tables;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Commits new history rows and the instance's sentinel row to the History table partition of the instance.
/// Azure allows one transaction per partition with at most 100 operations and 4 MB, so a large step is split:
/// the leading chunks are upserted first and are invisible to readers (they only read sequences below the
/// sentinel's committed count), and the last chunk carries the sentinel with its ETag condition, so the step
/// becomes visible atomically or not at all. A stale worker's last chunk fails with 412 and it abandons.
/// </summary>
internal static class HistoryTableWriter
{
    internal const int MaxOperationsPerBatch = 100;

    // Set on the sentinel by the leading chunks of a large step (see CommitAsync); the final replace drops it.
    private const string WriteTokenColumn = "WriteToken";

    // Below the service's 4 MB per batch, leaving room for the multipart envelope and property names.
    internal const long MaxBytesPerBatch = 3_500_000;

    /// <summary>Thrown when another worker committed to the instance first (ETag mismatch or concurrent creation).</summary>
    internal sealed class ConcurrencyConflictException(string instanceId, Exception inner)
        : Exception($"Another worker updated workflow instance '{instanceId}' first; this work item is abandoned and retried.", inner)
    {
        public string InstanceId { get; } = instanceId;
    }

    /// <param name="expectedETag">The sentinel ETag read with the history; <c>null</c> to create the instance (fails if it exists).</param>
    /// <returns>The new ETag of the sentinel row.</returns>
    public static async Task<ETag> CommitAsync(
        TableClient table, string instanceId, ETag? expectedETag, TableEntity sentinel, IReadOnlyList<TableEntity> newRows,
        IReadOnlyList<TableEntity> rowsToDelete, CancellationToken cancellationToken)
    {
        var chunks = Chunk(newRows);
        for (var i = 0; i < chunks.Count - 1; i++)
        {
            var leading = chunks[i].Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)).ToList();
            if (expectedETag is { } current)
            {
                // Each leading chunk is conditional on the sentinel too (touched, not changed: readers keep ignoring
                // the new rows), so that a stale worker fails before it can overwrite rows another worker committed
                // at the same sequence numbers; the next chunk is conditional on the touched sentinel's new ETag.
                var touch = new TableEntity(sentinel.PartitionKey, sentinel.RowKey) { [WriteTokenColumn] = Guid.NewGuid().ToString("N") };
                leading.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, touch, current));
            }

            Response<IReadOnlyList<Response>> written;
            try
            {
                written = await table.SubmitTransactionAsync(leading, cancellationToken).ConfigureAwait(false);
            }
            catch (TableTransactionFailedException ex) when (expectedETag is not null && ex.Status is 404 or 412)
            {
                throw new ConcurrencyConflictException(instanceId, ex);
            }
            catch (RequestFailedException ex) when (expectedETag is not null && ex.Status == 412)
            {
                throw new ConcurrencyConflictException(instanceId, ex);
            }

            if (expectedETag is not null)
            {
                expectedETag = written.Value[^1].Headers.ETag
                    ?? throw new InvalidOperationException("The table service returned no ETag for the sentinel row.");
            }
        }

        var last = chunks.Count > 0 ? chunks[^1] : [];
        var actions = last.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)).ToList();
        var deletes = rowsToDelete.Take(MaxOperationsPerBatch - 1 - actions.Count).ToList();
        actions.AddRange(deletes.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)));
        actions.Add(expectedETag is { } etag
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, sentinel, etag)
            : new TableTransactionAction(TableTransactionActionType.Add, sentinel));

        Response<IReadOnlyList<Response>> result;
        try
        {
            result = await table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 || (ex.Status == 404 && expectedETag is not null))
        {
            throw new ConcurrencyConflictException(instanceId, ex);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new ConcurrencyConflictException(instanceId, ex);
        }

        var newETag = result.Value[^1].Headers.ETag
            ?? throw new InvalidOperationException("The table service returned no ETag for the sentinel row.");

        // Rows of a truncated execution that did not fit in the last batch: garbage readers ignore; best effort.
        foreach (var extra in rowsToDelete.Skip(deletes.Count).Chunk(MaxOperationsPerBatch))
        {
            try
            {
                await table.SubmitTransactionAsync(
                    extra.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (RequestFailedException)
            {
                // Left for a later purge; they belong to an execution that is no longer read.
            }
        }

        return newETag;
    }

    /// <summary>Chunks rows so that the last chunk leaves room for the sentinel and every chunk stays under the size cap.</summary>
    internal static List<List<TableEntity>> Chunk(IReadOnlyList<TableEntity> rows)
    {
        var chunks = new List<List<TableEntity>>();
        var current = new List<TableEntity>();
        long bytes = 0;
        foreach (var row in rows)
        {
            var size = EstimateSize(row);
            if (current.Count > 0 && (current.Count >= MaxOperationsPerBatch - 1 || bytes + size > MaxBytesPerBatch))
            {
                chunks.Add(current);
                current = [];
                bytes = 0;
            }

            current.Add(row);
            bytes += size;
        }

        if (current.Count > 0)
        {
            chunks.Add(current);
        }

        return chunks;
    }

    internal static long EstimateSize(TableEntity row)
    {
        long size = 512;
        foreach (var (key, value) in row)
        {
            size += (key.Length * 2) + 64 + value switch
            {
                string s => s.Length * 2L,
                byte[] b => (b.Length * 4L / 3) + 4,
                BinaryData d => (d.ToMemory().Length * 4L / 3) + 4,
                _ => 16,
            };
        }

        return size;
    }
}
