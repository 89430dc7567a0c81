namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Group commit: items for one key (a table partition, an instance) that arrive while a write for that key is in
/// flight go together in the next write, so that many concurrent callers cost a few requests. A lone item is written
/// at once, without waiting. Each caller's task completes once the write carrying its item succeeded, or fails with
/// that write's error.
/// </summary>
/// <param name="selectBatch">Picks the pending items (by index, ascending) that one write can carry; never empty for a non-empty
/// list.</param>
/// <param name="write">Writes one batch for a key.</param>
internal sealed class GroupCommitter<TItem>(
    Func<IReadOnlyList<TItem>, IReadOnlyList<int>> selectBatch,
    Func<string, IReadOnlyList<TItem>, Task> write)
{
    private readonly object _sync = new();
    private readonly Dictionary<string, List<(TItem Item, TaskCompletionSource Written)>> _pending = new(StringComparer.Ordinal);

    public Task EnqueueAsync(string key, TItem item)
    {
        ArgumentNullException.ThrowIfNull(key);
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool startWriter;
        lock (_sync)
        {
            startWriter = !_pending.TryGetValue(key, out var queue);
            if (startWriter)
            {
                queue = [];
                _pending[key] = queue;
            }

            queue!.Add((item, written));
        }

        if (startWriter)
        {
            _ = Task.Run(() => WriteAllAsync(key));
        }

        return written.Task;
    }

    private async Task WriteAllAsync(string key)
    {
        while (true)
        {
            var batch = new List<(TItem Item, TaskCompletionSource Written)>();
            lock (_sync)
            {
                var queue = _pending[key];
                if (queue.Count == 0)
                {
                    _pending.Remove(key);
                    return;
                }

                var chosen = selectBatch(queue.ConvertAll(p => p.Item));
                batch.AddRange(chosen.Select(i => queue[i]));
                for (var i = chosen.Count - 1; i >= 0; i--)
                {
                    queue.RemoveAt(chosen[i]);
                }
            }

            try
            {
                await write(key, batch.ConvertAll(b => b.Item)).ConfigureAwait(false);
                foreach (var (_, written) in batch)
                {
                    written.TrySetResult();
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, written) in batch)
                {
                    written.TrySetException(ex);
                }
            }
        }
    }
}
