using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Receives from a set of queues with an exponential backoff while they are idle. A process that enqueues a
/// message calls <see cref="Wake"/> with the queue it used, so that its own consumers poll that queue at once
/// instead of sleeping through the backoff or sweeping every partition.
/// </summary>
internal sealed class QueuePoller(IReadOnlyList<QueueClient> queues, AzureStorageStoreOptions options, HandOverCounter handOvers)
{
    private readonly object _sync = new();
    private readonly ConcurrentDictionary<string, QueueClient> _hints = new(StringComparer.Ordinal);
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TimeSpan _delay = options.MinPollingInterval;
    private long _lastSweep;
    private int _next;

    /// <summary>
    /// Makes a waiting <see cref="ReceiveAsync"/> re-check its stop condition without polling sooner: for work that
    /// arrived in memory (local delivery), which says nothing about the queues.
    /// </summary>
    public void Interrupt()
    {
        TaskCompletionSource wake;
        lock (_sync)
        {
            wake = _wake;
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        wake.TrySetResult();
    }

    public void Wake(QueueClient? queue = null)
    {
        if (queue is not null)
        {
            _hints[queue.Name] = queue;
        }

        TaskCompletionSource wake;
        lock (_sync)
        {
            wake = _wake;
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _delay = options.MinPollingInterval;
        }

        wake.TrySetResult();
    }

    /// <summary>
    /// Returns the next non-empty batch, visiting hinted queues first and otherwise all queues round-robin so that
    /// no partition starves, or an empty list once <paramref name="maxWait"/> has passed without messages, or as soon
    /// as <paramref name="stopWaiting"/> holds when the loop is (re)woken (never in the middle of a receive request).
    /// A non-empty batch leaves one hand-over begun on the counter: the caller ends it once the batch is buffered.
    /// </summary>
    public async Task<IReadOnlyList<(QueueClient Queue, QueueMessage Message)>> ReceiveAsync(
        int maxMessages, TimeSpan visibilityTimeout, TimeSpan maxWait, CancellationToken cancellationToken, Func<bool>? stopWaiting = null)
    {
        var deadline = DateTime.UtcNow + maxWait;
        while (true)
        {
            if (stopWaiting?.Invoke() == true)
            {
                return [];
            }

            Task wake;
            lock (_sync)
            {
                wake = _wake.Task;
            }

            var hinted = TakeHints();
            if (hinted.Count == 0)
            {
                // Keep the idle backoff across calls: sweep every queue only once the current polling delay has passed.
                TimeSpan sinceSweep;
                TimeSpan currentDelay;
                lock (_sync)
                {
                    sinceSweep = Stopwatch.GetElapsedTime(_lastSweep);
                    currentDelay = _delay;
                }

                if (_lastSweep != 0 && sinceSweep < currentDelay)
                {
                    var untilSweep = currentDelay - sinceSweep;
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero)
                    {
                        return [];
                    }

                    await Task.WhenAny(wake, Task.Delay(untilSweep < left ? untilSweep : left, cancellationToken)).ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                    continue;
                }

                Interlocked.Exchange(ref _lastSweep, Stopwatch.GetTimestamp());
            }

            var order = hinted.Count > 0
                ? hinted
                : Enumerable.Range(0, queues.Count).Select(_ => queues[(int)((uint)Interlocked.Increment(ref _next) % (uint)queues.Count)])
                    .ToList();
            foreach (var queue in order)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // Counted before the request: the queue leases what it returns as soon as it serves the request, and
                // from then until the caller has buffered it the message is visible nowhere but in this count.
                // Never cancelled mid-request, so that a stopping engine does not drop messages leased to it.
                handOvers.Begin();
                QueueMessage[] received;
                try
                {
                    received = (await queue.ReceiveMessagesAsync(Math.Clamp(maxMessages, 1, 32), visibilityTimeout, CancellationToken.None)
                        .ConfigureAwait(false)).Value;
                }
                catch
                {
                    handOvers.End();
                    throw;
                }

                if (received.Length == 0)
                {
                    handOvers.End();
                }
                else
                {
                    lock (_sync)
                    {
                        _delay = options.MinPollingInterval;
                    }

                    if (received.Length == Math.Clamp(maxMessages, 1, 32))
                    {
                        // A full batch: there may be more right behind it.
                        _hints[queue.Name] = queue;
                    }

                    // The caller ends the hand-over (HandOverCounter.End) once the batch is buffered.
                    return received.Select(m => (queue, m)).ToArray();
                }
            }

            if (hinted.Count > 0)
            {
                continue;
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return [];
            }

            // Nothing anywhere: back off; the next sweep waits for the doubled delay (or a wake) at the top.
            lock (_sync)
            {
                _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, options.MaxPollingInterval.Ticks));
            }
        }
    }

    private List<QueueClient> TakeHints()
    {
        var taken = new List<QueueClient>();
        foreach (var name in _hints.Keys)
        {
            if (_hints.TryRemove(name, out var queue))
            {
                taken.Add(queue);
            }
        }

        return taken;
    }
}

/// <summary>
/// The store object's two pollers, one over the control queues and one over the work-item queue, and the wake-up a
/// sender gives the one that reads the queue it used.
/// </summary>
internal sealed class QueuePollers(AzureStorageClients clients, AzureStorageStoreOptions options, HandOverCounter handOvers)
{
    public QueuePoller Control { get; } = new(clients.ControlQueues, options, handOvers);

    public QueuePoller Activities { get; } = new([clients.WorkItems], options, handOvers);

    /// <summary>Wakes the work-item poller with the work-item queue as its hint.</summary>
    public void WakeActivities() => Activities.Wake(clients.WorkItems);

    /// <summary>Wakes the poller that reads <paramref name="queue"/>.</summary>
    public void Wake(QueueClient queue)
    {
        if (ReferenceEquals(queue, clients.WorkItems))
        {
            Activities.Wake(queue);
        }
        else
        {
            Control.Wake(queue);
        }
    }
}

/// <summary>
/// Messages this store object holds under a lease but has not yet put where <c>HasReadyWorkAsync</c> looks (a receive
/// request in flight, a batch being decoded, an instance whose work item is being read): each counts as ready work.
/// </summary>
internal sealed class HandOverCounter
{
    private int _count;

    public bool Any => Volatile.Read(ref _count) > 0;

    public void Begin() => Interlocked.Increment(ref _count);

    public void End() => Interlocked.Decrement(ref _count);
}
