using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Receives from a set of queues with an exponential backoff while they are idle. A process that enqueues a
/// message calls <see cref="Wake"/> so that its own consumers do not sleep through the backoff.
/// </summary>
internal sealed class QueuePoller(IReadOnlyList<QueueClient> queues, AzureStorageStoreOptions options)
{
    private readonly object _sync = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TimeSpan _delay = options.MinPollingInterval;
    private int _next;

    public void Wake()
    {
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
    /// Returns the next non-empty batch, visiting the queues round-robin so that no partition starves, or an
    /// empty list once <paramref name="maxWait"/> has passed without messages.
    /// </summary>
    public async Task<IReadOnlyList<(QueueClient Queue, QueueMessage Message)>> ReceiveAsync(
        int maxMessages, TimeSpan visibilityTimeout, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + maxWait;
        while (true)
        {
            Task wake;
            lock (_sync)
            {
                wake = _wake.Task;
            }

            for (var i = 0; i < queues.Count; i++)
            {
                var queue = queues[(int)((uint)Interlocked.Increment(ref _next) % (uint)queues.Count)];
                var received = await queue.ReceiveMessagesAsync(Math.Clamp(maxMessages, 1, 32), visibilityTimeout, cancellationToken).ConfigureAwait(false);
                if (received.Value.Length > 0)
                {
                    lock (_sync)
                    {
                        _delay = options.MinPollingInterval;
                    }

                    return received.Value.Select(m => (queue, m)).ToArray();
                }
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return [];
            }

            TimeSpan delay;
            lock (_sync)
            {
                delay = _delay < remaining ? _delay : remaining;
                _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, options.MaxPollingInterval.Ticks));
            }

            await Task.WhenAny(wake, Task.Delay(delay, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}
