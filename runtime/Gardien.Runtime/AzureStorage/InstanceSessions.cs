using System.Collections.Concurrent;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Gardien.Runtime.Storage;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// The control-queue side of the store object: messages received (or delivered locally) wait here, by instance, until
/// their instance is locked; an instance is locked by one worker at a time and its messages go to that worker together,
/// oldest instance first. One receive is in flight at a time; the other lockers wait for what it brings or for a released
/// instance. DurableTask.AzureStorage's <c>OrchestrationSessionManager</c> and <c>ControlQueue</c> are the model.
/// </summary>
internal sealed class InstanceSessions(
    AzureStorageClients clients,
    AzureStorageStoreOptions options,
    MessageSender sender,
    QueueLeases leases,
    QueuePollers pollers,
    HandOverCounter handOvers)
{
    private readonly object _gate = new();

    // Messages received from control queues, waiting for their instance to be locked (by instance id).
    private readonly Dictionary<string, List<ReceivedQueueMessage>> _buffered = new(StringComparer.Ordinal);
    private readonly HashSet<string> _lockedInstances = new(StringComparer.Ordinal);
    private TaskCompletionSource _bufferChanged = NewSignal();

    // One receive in flight: the other lockers wait for what it brings (or for a released instance).
    private readonly SemaphoreSlim _receive = new(1, 1);
    private int _localDeliveries;

    // Start messages put back for a moment because their instance row was not there yet (queue message id -> due time):
    // hidden in the queue, yet work that is about to be ready.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _heldBackUntil = new(StringComparer.Ordinal);

    /// <summary>Whether messages wait in the buffer (locked instances included).</summary>
    public bool HasBuffered
    {
        get
        {
            lock (_gate)
            {
                return _buffered.Values.Any(list => list.Count > 0);
            }
        }
    }

    /// <summary>
    /// Locks the instance whose oldest waiting message is the oldest, receiving from the control queues while none is
    /// ready, until <paramref name="deadline"/> (null then). The instance's messages come in sending order, with one
    /// hand-over begun on the counter: the caller ends it once the work item is built (or given up).
    /// </summary>
    public async Task<(string InstanceId, List<ReceivedQueueMessage> Messages)?> LockNextAsync(
        TimeSpan lockDuration, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (taken, changed) = TakeReadyInstance();
            if (taken is not null)
            {
                return taken;
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
                var localBefore = Volatile.Read(ref _localDeliveries);
                var received = await pollers.Control.ReceiveAsync(
                    options.MessageBatchSize,
                    lockDuration,
                    remaining,
                    cancellationToken,
                    () => Volatile.Read(ref _localDeliveries) != localBefore)
                    .ConfigureAwait(false);
                if (received.Count > 0)
                {
                    try
                    {
                        // Not cancellable: leased messages must reach the buffer, from which a stopping engine releases them.
                        await IngestAsync(received, lockDuration, CancellationToken.None).ConfigureAwait(false);
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

    /// <summary>Sends an activity outcome to its instance, delivered to this buffer when possible.</summary>
    public async Task SendResponseAsync(WorkflowMessage response, CancellationToken cancellationToken)
    {
        var queue = clients.ControlQueueFor(response.InstanceId);
        if (await sender.SendAsync(queue, response, cancellationToken, deliverLocally: true).ConfigureAwait(false) is { } local)
        {
            Deliver(local);
        }
        else
        {
            pollers.Control.Wake(queue);
        }
    }

    /// <summary>Adds a locally delivered orchestration message to the buffer the workflow locker takes instances from.</summary>
    public void Deliver(ReceivedQueueMessage message)
    {
        lock (_gate)
        {
            ListOf(message.Message.InstanceId).Add(message);
        }

        Interlocked.Increment(ref _localDeliveries);
        SignalChanged();
        pollers.Control.Interrupt();
    }

    /// <summary>Puts a locked instance's messages (still leased) back in the buffer, without duplicates.</summary>
    public void PutBack(string instanceId, List<ReceivedQueueMessage> messages)
    {
        lock (_gate)
        {
            var list = ListOf(instanceId);
            list.AddRange(messages.Where(m => list.All(b => b.Key != m.Key)));
        }
    }

    /// <summary>
    /// Records start messages put back until <paramref name="until"/>: work about to be ready, though hidden in the queue.
    /// </summary>
    public void HoldBack(IEnumerable<ReceivedQueueMessage> messages, DateTimeOffset until)
    {
        foreach (var message in messages)
        {
            _heldBackUntil[message.Key] = until;
        }
    }

    /// <summary>Whether a start message put back by <see cref="HoldBack"/> is still due to come back.</summary>
    public bool HasHeldBack()
    {
        foreach (var (messageId, until) in _heldBackUntil)
        {
            if (until > DateTimeOffset.UtcNow)
            {
                return true;
            }

            _heldBackUntil.TryRemove(messageId, out _);
        }

        return false;
    }

    /// <summary>Unlocks the instance; lockers waiting are woken when it has more messages.</summary>
    public void Release(string instanceId)
    {
        bool more;
        lock (_gate)
        {
            _lockedInstances.Remove(instanceId);
            more = _buffered.ContainsKey(instanceId);
        }

        if (more)
        {
            SignalChanged();
        }
    }

    /// <summary>Empties the buffer: the messages of instances not locked, for the caller to release.</summary>
    public List<ReceivedQueueMessage> TakeUnclaimed()
    {
        lock (_gate)
        {
            var pending = _buffered.Where(b => !_lockedInstances.Contains(b.Key)).SelectMany(b => b.Value).ToList();
            _buffered.Clear();
            return pending;
        }
    }

    private ((string InstanceId, List<ReceivedQueueMessage> Messages)? Taken, Task Changed) TakeReadyInstance()
    {
        lock (_gate)
        {
            var changed = _bufferChanged.Task;
            var now = DateTimeOffset.UtcNow;
            string? best = null;
            long bestSentAt = long.MaxValue;
            List<string>? empty = null;
            foreach (var (instanceId, messages) in _buffered)
            {
                messages.RemoveAll(m => m.LeaseExpiresAt - now < QueueLease.MinUsable);
                if (messages.Count == 0)
                {
                    (empty ??= []).Add(instanceId);
                    continue;
                }

                if (_lockedInstances.Contains(instanceId))
                {
                    continue;
                }

                var oldest = messages.Min(m => m.Envelope.SentAt);
                if (oldest < bestSentAt)
                {
                    best = instanceId;
                    bestSentAt = oldest;
                }
            }

            foreach (var id in empty ?? [])
            {
                _buffered.Remove(id);
            }

            if (best is null)
            {
                return (null, changed);
            }

            var taken = _buffered[best];
            handOvers.Begin();
            _buffered.Remove(best);
            _lockedInstances.Add(best);
            taken.Sort((a, b) => a.Envelope.SentAt.CompareTo(b.Envelope.SentAt));
            foreach (var message in taken)
            {
                message.Pack?.Touch();
            }

            return ((best, taken), changed);
        }
    }

    private async Task IngestAsync(
        IReadOnlyList<(QueueClient Queue, QueueMessage Message)> batch,
        TimeSpan lockDuration,
        CancellationToken cancellationToken)
    {
        var decoded = await leases.DecodeAsync(batch, lockDuration, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var message in decoded)
            {
                // The same message can come back while buffered (its lease expired): keep the newest pop receipt only.
                var list = ListOf(message.Message.InstanceId);
                list.RemoveAll(m => m.Key == message.Key);
                list.Add(message);
            }
        }
    }

    // Called under the gate.
    private List<ReceivedQueueMessage> ListOf(string instanceId)
    {
        if (!_buffered.TryGetValue(instanceId, out var list))
        {
            list = [];
            _buffered[instanceId] = list;
        }

        return list;
    }

    private void SignalChanged()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _bufferChanged;
            _bufferChanged = NewSignal();
        }

        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
