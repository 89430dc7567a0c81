using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Gardien.Runtime.Storage;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Sends the store object's queue messages: single messages (their events in blobs when large), activity packs, and
/// the messages a client sends to one instance at once, grouped into packs (see <see cref="MessagePack"/>). Messages
/// due now can be delivered locally: sent already leased to this store object and returned as if received. Every
/// envelope is stamped by the <see cref="SendClock"/>. DurableTask.AzureStorage's <c>MessageManager</c> is the model.
/// </summary>
internal sealed class MessageSender
{
    // Azure queues hide a message for at most 7 days; longer delays re-hide on early delivery ("bounce").
    private static readonly TimeSpan MaxQueueVisibility = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    // With a fake clock the queue cannot know when "now" jumps, so delayed messages are re-checked this often.
    private static readonly TimeSpan FakeClockRecheck = TimeSpan.FromMilliseconds(200);

    // Activity packs stay well under the 64 KB queue message limit (JSON escapes non-ASCII, so characters are bytes);
    // a larger activity travels alone (its payload in a blob when over the large-payload threshold).
    private const int MaxPackChars = 40 * 1024;
    private const int MaxPackMemberChars = 4 * 1024;

    private readonly AzureStorageClients _clients;
    private readonly AzureStorageStoreOptions _options;
    private readonly LargePayloadStore _payloads;
    private readonly TimeProvider _time;
    private readonly QueuePollers _pollers;
    private readonly SendClock _clock;

    // Messages to an instance that wait for the send in flight to it and then go together (see SendGroupedAsync).
    private readonly GroupCommitter<PendingSend> _groupedSends;

    // The lease the engine asks for (its LockDuration), learnt from its lock calls; messages delivered locally are
    // sent invisible for this long, so that a crash hands them to another process after the same delay as a received one.
    private long _leaseTicks;

    public MessageSender(
        AzureStorageClients clients,
        AzureStorageStoreOptions options,
        LargePayloadStore payloads,
        TimeProvider time,
        QueuePollers pollers)
    {
        _clients = clients;
        _options = options;
        _payloads = payloads;
        _time = time;
        _pollers = pollers;
        _clock = new SendClock(time);
        _groupedSends = new GroupCommitter<PendingSend>(SelectPack, SendGroupAsync);
    }

    /// <summary>True on the real clock: a fake clock's jumps are invisible to the queues.</summary>
    public bool UsesSystemClock => ReferenceEquals(_time, TimeProvider.System);

    /// <summary>Records the lease the engine asks for (see <see cref="SendAsync"/>).</summary>
    public void LearnLease(TimeSpan lockDuration) => Interlocked.Exchange(ref _leaseTicks, lockDuration.Ticks);

    /// <summary>The envelope of a message about to be sent, stamped with the send order.</summary>
    public QueueEnvelope EnvelopeOf(WorkflowMessage message) => QueueEnvelope.Of(message, _clock);

    /// <summary>
    /// Sends a message to an instance. Messages sent to one instance while a send to it is in flight go together in
    /// the next one, as a pack: many events raised at once cost a few sends, receives and deletes instead of one each.
    /// The first message goes at once; the task completes once this message is sent.
    /// </summary>
    public Task SendGroupedAsync(WorkflowMessage message, CancellationToken cancellationToken)
    {
        if (_options.MessagePackSize == 1 || message.VisibleAt is not null)
        {
            return SendWorkflowMessageAsync(message, wake: true, cancellationToken);
        }

        var envelope = EnvelopeOf(message);
        var text = QueueEnvelopeSerializer.Serialize(envelope);
        if (text.Length > MaxPackMemberChars)
        {
            return SendWorkflowMessageAsync(message, wake: true, cancellationToken);
        }

        return _groupedSends.EnqueueAsync(message.InstanceId, new PendingSend(message, envelope, text)).WaitAsync(cancellationToken);
    }

    /// <summary>Sends a message to its instance's control queue, waking this process's control poller when asked.</summary>
    public async Task SendWorkflowMessageAsync(WorkflowMessage message, bool wake, CancellationToken cancellationToken)
    {
        var queue = _clients.ControlQueueFor(message.InstanceId);
        await SendAsync(queue, message, cancellationToken).ConfigureAwait(false);
        if (wake)
        {
            _pollers.Control.Wake(queue);
        }
    }

    /// <summary>
    /// Sends a message. With <paramref name="deliverLocally"/> (and <see cref="AzureStorageStoreOptions.DeliverLocally"/>)
    /// a message due now is sent already leased to this store object (invisible for the engine's lock duration) and
    /// returned as if received, saving the receive round trip; the local delivery counts as the first attempt
    /// (<c>Bounces = -1</c>). If this process dies, the lease expires and another process receives it as usual.
    /// </summary>
    public async Task<ReceivedQueueMessage?> SendAsync(
        QueueClient queue,
        WorkflowMessage message,
        CancellationToken cancellationToken,
        bool deliverLocally = false,
        TimeSpan? delay = null,
        int priorDeliveries = 0, string? lastError = null)
    {
        var visibilityDelay = delay ?? InitialDelay(message.VisibleAt);
        var lease = TimeSpan.FromTicks(Interlocked.Read(ref _leaseTicks));
        var local = deliverLocally && _options.DeliverLocally && visibilityDelay == TimeSpan.Zero && lease > QueueLease.MinUsable;
        var envelope = EnvelopeOf(message) with
        {
            Bounces = local ? -1 : 0,
            PriorDeliveries = priorDeliveries,
            LastError = lastError,
        };
        var text = QueueEnvelopeSerializer.Serialize(envelope);
        if (_payloads.IsLarge(text))
        {
            var blob = await _payloads.UploadAsync(
                message.InstanceId, QueueEnvelopeSerializer.SerializeEvent(message.Event), cancellationToken)
                .ConfigureAwait(false);
            envelope = envelope with { Event = null, EventBlobName = blob };
            text = QueueEnvelopeSerializer.Serialize(envelope);
        }

        var leaseEnd = DateTimeOffset.UtcNow + lease;
        var receipt = (await queue.SendMessageAsync(text, local ? lease : visibilityDelay, TimeSpan.FromSeconds(-1), cancellationToken)
            .ConfigureAwait(false)).Value;
        if (!local)
        {
            return null;
        }

        var sent = QueuesModelFactory.QueueMessage(
            receipt.MessageId, receipt.PopReceipt, text, 0, receipt.TimeNextVisible, receipt.InsertionTime, receipt.ExpirationTime);
        return new ReceivedQueueMessage(queue, sent, envelope, message, leaseEnd);
    }

    /// <summary>
    /// Sends the activities of one step: those due now in packs (up to <see cref="AzureStorageStoreOptions.MessagePackSize"/>
    /// per instance execution, see <see cref="MessagePack"/>), the others (delayed, large, or alone) in messages of their own.
    /// Returns the activities delivered locally (leased to this store object) and whether anything went to the queue only.
    /// </summary>
    public async Task<(List<ReceivedQueueMessage> Local, bool SentToQueue)> SendActivitiesAsync(
        IReadOnlyList<WorkflowMessage> activities, CancellationToken cancellationToken)
    {
        var (singles, packs) = PackActivities(activities);
        var singleSends = singles.Select(m => SendAsync(_clients.WorkItems, m, cancellationToken, deliverLocally: true)).ToList();
        var packSends = packs.Select(p => SendPackAsync(_clients.WorkItems, p, deliverLocally: true, cancellationToken)).ToList();
        await Task.WhenAll(singleSends.Cast<Task>().Concat(packSends)).ConfigureAwait(false);

        var local = new List<ReceivedQueueMessage>(activities.Count);
        var sentToQueue = false;
        foreach (var sent in singleSends.Select(t => t.Result))
        {
            if (sent is null)
            {
                sentToQueue = true;
            }
            else
            {
                local.Add(sent);
            }
        }

        foreach (var members in packSends.Select(t => t.Result))
        {
            if (members is null)
            {
                sentToQueue = true;
            }
            else
            {
                local.AddRange(members);
            }
        }

        return (local, sentToQueue);
    }

    /// <summary>The visibility delay a message due at <paramref name="visibleAt"/> is sent (or re-hidden) with.</summary>
    public TimeSpan InitialDelay(DateTimeOffset? visibleAt)
    {
        if (visibleAt is not { } at)
        {
            return TimeSpan.Zero;
        }

        var delay = at - _time.GetUtcNow();
        if (delay <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var cap = UsesSystemClock ? MaxQueueVisibility : FakeClockRecheck;
        return delay < cap ? delay : cap;
    }

    /// <summary>Splits a step's activities into packs (per instance execution, due now, small) and single messages.</summary>
    private (List<WorkflowMessage> Singles, List<List<(WorkflowMessage Message, QueueEnvelope Envelope)>> Packs) PackActivities(
        IReadOnlyList<WorkflowMessage> activities)
    {
        var singles = new List<WorkflowMessage>();
        var packs = new List<List<(WorkflowMessage Message, QueueEnvelope Envelope)>>();
        if (_options.MessagePackSize <= 1 || activities.Count <= 1)
        {
            singles.AddRange(activities);
            return (singles, packs);
        }

        foreach (var execution in activities.GroupBy(a => (a.InstanceId, a.ExecutionId)))
        {
            List<(WorkflowMessage Message, QueueEnvelope Envelope)>? current = null;
            var size = 0;
            foreach (var activity in execution)
            {
                var member = EnvelopeOf(activity);
                var length = activity.VisibleAt is null ? QueueEnvelopeSerializer.Serialize(member).Length : int.MaxValue;
                if (length > MaxPackMemberChars)
                {
                    singles.Add(activity);
                    continue;
                }

                if (current is null || current.Count >= _options.MessagePackSize || size + length > MaxPackChars)
                {
                    current = [];
                    size = 0;
                    packs.Add(current);
                }

                current.Add((activity, member));
                size += length;
            }
        }

        singles.AddRange(packs.Where(p => p.Count == 1).Select(p => p[0].Message));
        packs.RemoveAll(p => p.Count == 1);
        return (singles, packs);
    }

    /// <summary>Sends one pack; its members when delivered locally (see <see cref="SendAsync"/>), else null.</summary>
    private async Task<List<ReceivedQueueMessage>?> SendPackAsync(
        QueueClient queue,
        List<(WorkflowMessage Message, QueueEnvelope Envelope)> members,
        bool deliverLocally,
        CancellationToken cancellationToken)
    {
        var lease = TimeSpan.FromTicks(Interlocked.Read(ref _leaseTicks));
        var local = deliverLocally && _options.DeliverLocally && lease > QueueLease.MinUsable;
        var first = members[0].Message;
        var envelope = new QueueEnvelope
        {
            MessageId = Guid.NewGuid().ToString("N"),
            InstanceId = first.InstanceId,
            ExecutionId = first.ExecutionId,
            SentAt = _clock.Next(),
            Bounces = local ? -1 : 0,
            Pack = members.ConvertAll(m => m.Envelope),
        };
        var leaseEnd = DateTimeOffset.UtcNow + lease;
        var receipt = (await queue.SendMessageAsync(
                QueueEnvelopeSerializer.Serialize(envelope), local ? lease : TimeSpan.Zero, TimeSpan.FromSeconds(-1), cancellationToken)
            .ConfigureAwait(false)).Value;
        return local ? MessagePack.Members(new QueueLease(queue, receipt.MessageId, receipt.PopReceipt, leaseEnd), envelope, 1) : null;
    }

    /// <summary>Messages waiting for one instance: as many as one pack carries, in sending order.</summary>
    private List<int> SelectPack(IReadOnlyList<PendingSend> pending)
    {
        var chosen = new List<int>();
        var size = 0;
        while (chosen.Count < pending.Count && chosen.Count < _options.MessagePackSize
               && (chosen.Count == 0 || size + pending[chosen.Count].Text.Length <= MaxPackChars))
        {
            size += pending[chosen.Count].Text.Length;
            chosen.Add(chosen.Count);
        }

        return chosen;
    }

    /// <summary>Sends messages for one instance: alone, or as a pack.</summary>
    private async Task SendGroupAsync(string instanceId, IReadOnlyList<PendingSend> group)
    {
        var queue = _clients.ControlQueueFor(instanceId);
        if (group.Count == 1)
        {
            await queue.SendMessageAsync(group[0].Text, TimeSpan.Zero, TimeSpan.FromSeconds(-1), CancellationToken.None)
                .ConfigureAwait(false);
        }
        else
        {
            await SendPackAsync(queue, [.. group.Select(g => (g.Message, g.Envelope))], deliverLocally: false, CancellationToken.None)
                .ConfigureAwait(false);
        }

        _pollers.Control.Wake(queue);
    }

    private sealed record PendingSend(WorkflowMessage Message, QueueEnvelope Envelope, string Text);
}
