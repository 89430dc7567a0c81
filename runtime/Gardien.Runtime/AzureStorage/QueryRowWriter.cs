using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Keeps the Instances table's query copies (what <c>QueryInstancesAsync</c> reads) in step with the sentinels, with
/// few writes. Per instance at most one write is in flight and a newer copy replaces one still waiting, so an older
/// copy never overwrites a newer one. A copy that changes what a query filters or shows (status, output, custom
/// status, failure...) is written at once and awaited by the committing step; one where only <c>LastUpdatedAt</c>
/// moved (a fan-in step recording more outcomes) is written in the background, at most once per
/// <see cref="CoalesceInterval"/> per instance. A failed write is logged: the sentinel is authoritative and the next
/// step writes the copy again.
/// </summary>
internal sealed class QueryRowWriter(TableClient table, ILogger logger)
{
    public static readonly TimeSpan CoalesceInterval = TimeSpan.FromMilliseconds(500);

    private readonly object _sync = new();
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    /// <summary>
    /// Queues <paramref name="copy"/> of the sentinel at <paramref name="version"/> (its generation and history count:
    /// a copy older than one already queued or written is dropped); with <paramref name="urgent"/> the task completes
    /// once it (or a newer copy) is written.
    /// </summary>
    public Task WriteAsync(TableEntity copy, (long Generation, long HistoryCount) version, bool urgent)
    {
        ArgumentNullException.ThrowIfNull(copy);
        var written = urgent ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : null;
        Slot? toRun = null;
        lock (_sync)
        {
            if (!_slots.TryGetValue(copy.PartitionKey, out var slot))
            {
                slot = new Slot();
                _slots[copy.PartitionKey] = slot;
            }

            if (slot.Version is { } known && version.CompareTo(known) < 0)
            {
                // The instance's creation racing with its first step: the step's copy is the newer one.
                return Task.CompletedTask;
            }

            slot.Version = version;
            slot.Pending = copy;
            if (written is not null)
            {
                slot.Waiters.Add(written);
                slot.Hurry();
            }

            if (!slot.Running)
            {
                slot.Running = true;
                toRun = slot;
            }
        }

        if (toRun is not null)
        {
            _ = Task.Run(() => RunAsync(copy.PartitionKey, toRun));
        }

        return written?.Task ?? Task.CompletedTask;
    }

    /// <summary>Writes every waiting copy now and completes once all are written.</summary>
    public Task FlushAsync()
    {
        var idle = new List<Task>();
        lock (_sync)
        {
            foreach (var slot in _slots.Values)
            {
                slot.Flushing = true;
                slot.Hurry();
                idle.Add(slot.Idle.Task);
            }
        }

        return Task.WhenAll(idle);
    }

    private async Task RunAsync(string partitionKey, Slot slot)
    {
        while (true)
        {
            TableEntity? copy = null;
            List<TaskCompletionSource> waiters = [];
            Task hurried;
            TimeSpan wait;
            lock (_sync)
            {
                var sinceLastWrite = slot.LastWrite == 0 ? TimeSpan.MaxValue : Stopwatch.GetElapsedTime(slot.LastWrite);
                var due = slot.Flushing || slot.Waiters.Count > 0 || sinceLastWrite >= CoalesceInterval;
                if (slot.Pending is null && (slot.Flushing || sinceLastWrite >= CoalesceInterval))
                {
                    // Kept until the interval has passed, so that the next quiet copy is still coalesced.
                    slot.Running = false;
                    _slots.Remove(partitionKey);
                    slot.Idle.TrySetResult();
                    return;
                }

                if (slot.Pending is not null && due)
                {
                    copy = slot.Pending;
                    slot.Pending = null;
                    waiters.AddRange(slot.Waiters);
                    slot.Waiters.Clear();
                }

                wait = sinceLastWrite >= CoalesceInterval ? TimeSpan.Zero : CoalesceInterval - sinceLastWrite;
                hurried = slot.Hurried;
            }

            if (copy is null)
            {
                await Task.WhenAny(hurried, Task.Delay(wait)).ConfigureAwait(false);
                continue;
            }

            try
            {
                await table.UpsertEntityAsync(copy, TableUpdateMode.Replace).ConfigureAwait(false);
            }
            catch (RequestFailedException ex)
            {
                logger.LogWarning(ex, "Could not update the query row of workflow instance {InstanceId}", TableKeys.Decode(partitionKey));
            }

            lock (_sync)
            {
                slot.LastWrite = Stopwatch.GetTimestamp();
            }

            foreach (var waiter in waiters)
            {
                waiter.TrySetResult();
            }
        }
    }

    private sealed class Slot
    {
        private TaskCompletionSource _hurry = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TableEntity? Pending { get; set; }

        public List<TaskCompletionSource> Waiters { get; } = [];

        public bool Running { get; set; }

        public bool Flushing { get; set; }

        public long LastWrite { get; set; }

        public (long Generation, long HistoryCount)? Version { get; set; }

        public TaskCompletionSource Idle { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Hurried => _hurry.Task;

        /// <summary>Wakes the writer loop (an urgent copy or a flush arrived); the next wait uses a fresh signal.</summary>
        public void Hurry()
        {
            var hurry = _hurry;
            _hurry = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            hurry.TrySetResult();
        }
    }
}
