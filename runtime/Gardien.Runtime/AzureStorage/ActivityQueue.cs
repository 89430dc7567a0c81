using System.Collections.Concurrent;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// The work-item side of the store object: activity messages received from the work-item queue, or delivered locally
/// by the step that scheduled them, wait here for a worker. Before one is handed out, its persisted outcome (if any)
/// is replayed instead (see <see cref="ActivityResultRows"/>). One receive is in flight at a time.
/// DurableTask.AzureStorage's <c>WorkItemQueue</c> is the model.
/// </summary>
internal sealed class ActivityQueue(
    AzureStorageStoreOptions options,
    TimeProvider time,
    QueueLeases leases,
    ActivityResultRows results,
    InstanceSessions sessions,
    QueuePollers pollers,
    HandOverCounter handOvers,
    ILogger logger)
{
    private readonly ConcurrentQueue<ReceivedQueueMessage> _buffered = new();
    private readonly SemaphoreSlim _receive = new(1, 1);
    private TaskCompletionSource _changed = NewSignal();

    public bool IsEmpty => _buffered.IsEmpty;

    public async Task<ActivityWorkItem?> LockNextAsync(TimeSpan lockDuration, TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + receiveTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var changed = Volatile.Read(ref _changed).Task;
            if (await TakeBufferedAsync(lockDuration, cancellationToken).ConfigureAwait(false) is { } item)
            {
                return item;
            }

            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }

            if (!await _receive.WaitAsync(0, cancellationToken).ConfigureAwait(false))
            {
                await Task.WhenAny(changed, Task.Delay(remaining, cancellationToken)).ConfigureAwait(false);
                continue;
            }

            try
            {
                var batch = await pollers.Activities.ReceiveAsync(
                    options.ActivityBatchSize, lockDuration, remaining, cancellationToken, () => !_buffered.IsEmpty).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    try
                    {
                        foreach (var message in await leases.DecodeAsync(batch, lockDuration, CancellationToken.None).ConfigureAwait(false))
                        {
                            _buffered.Enqueue(message);
                        }
                    }
                    finally
                    {
                        handOvers.End();
                    }
                }
            }
            finally
            {
                _receive.Release();
                SignalChanged();
            }
        }
    }

    /// <summary>
    /// Activities a step scheduled: those delivered locally join the buffer; the poller is woken for the others, or
    /// only interrupted (to hand out the local ones) when nothing went to the queue alone.
    /// </summary>
    public void Deliver(IReadOnlyList<ReceivedQueueMessage> local, bool sentToQueue)
    {
        foreach (var sent in local)
        {
            _buffered.Enqueue(sent);
        }

        SignalChanged();
        if (sentToQueue)
        {
            pollers.WakeActivities();
        }
        else
        {
            pollers.Activities.Interrupt();
        }
    }

    /// <summary>Empties the buffer, for the caller to release the messages.</summary>
    public List<ReceivedQueueMessage> TakeAll()
    {
        var taken = new List<ReceivedQueueMessage>();
        while (_buffered.TryDequeue(out var activity))
        {
            taken.Add(activity);
        }

        return taken;
    }

    /// <summary>The next buffered activity a worker may run, or null when the buffer has none.</summary>
    private async Task<ActivityWorkItem?> TakeBufferedAsync(TimeSpan lockDuration, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Counted from before it leaves the buffer until the engine has it (the engine counts it from then on).
            handOvers.Begin();
            try
            {
                if (!_buffered.TryDequeue(out var received))
                {
                    return null;
                }

                received.Pack?.Touch();

                if (received.LeaseExpiresAt - DateTimeOffset.UtcNow < QueueLease.MinUsable)
                {
                    continue;
                }

                bool replayed;
                try
                {
                    replayed = options.DeduplicateActivityExecutions
                        && await TryReplayPersistedResultAsync(received, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // Still leased to us: keep it where a stopping engine releases it (or the next locker retries it).
                    _buffered.Enqueue(received);
                    throw;
                }

                if (replayed)
                {
                    continue;
                }

                if (received.Pack is not null && !await leases.KeepPackLeasedAsync(received, lockDuration).ConfigureAwait(false))
                {
                    // The pack was delivered elsewhere meanwhile: this copy of the member is not ours to run.
                    continue;
                }

                return new ActivityWorkItem(
                    received.Message, received.EffectiveDequeueCount, Guid.NewGuid().ToString("N"), time.GetUtcNow() + lockDuration)
                {
                    LastError = received.Envelope.LastError,
                    StoreState = received,
                };
            }
            finally
            {
                handOvers.End();
            }
        }
    }

    /// <summary>
    /// When this activity's outcome was persisted already (a redelivery after a crash, or a duplicate schedule from a
    /// re-run step), sends the same response again (same message id: the engine discards the duplicate) and consumes
    /// the message without running the activity.
    /// </summary>
    private async Task<bool> TryReplayPersistedResultAsync(ReceivedQueueMessage received, CancellationToken cancellationToken)
    {
        if (await results.FindResponseAsync(received, cancellationToken).ConfigureAwait(false) is not { } response)
        {
            return false;
        }

        logger.LogInformation(
            "Activity {Activity} #{TaskId} of instance {InstanceId} already completed; "
            + "replaying its persisted result instead of running it again",
            received.Message.Event.Name, received.Message.Event.EventId, received.Message.InstanceId);
        await sessions.SendResponseAsync(response, cancellationToken).ConfigureAwait(false);
        await leases.DeleteAsync(received, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private void SignalChanged() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
