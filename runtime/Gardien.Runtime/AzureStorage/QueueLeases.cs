using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// What the store object does with the messages leased to it: decoding a received batch (re-hiding messages not due
/// yet, dropping unreadable and already settled ones, splitting packs delivered twice), renewing, abandoning,
/// bouncing, releasing and deleting leases, and moving a pack member out of its pack when it needs a message of its
/// own (see <see cref="MessagePack"/>).
/// </summary>
internal sealed class QueueLeases(
    AzureStorageClients clients, MessageSender sender, QueuePollers pollers, LargePayloadStore payloads, TimeProvider time, ILogger logger)
{
    private readonly RecentIds _settledMessageIds = new(4096);

    // Fake clock only: messages re-hidden because they were not due yet, by queue message id, with their due time.
    // A jump of the fake clock makes them due while the queue still hides them; HasReadyWorkAsync must know.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _bouncedUntil = new(StringComparer.Ordinal);

    /// <summary>Whether a message re-hidden as not due yet is due by now (on a fake clock, see the field).</summary>
    public bool AnyBouncedDue() => _bouncedUntil.Values.Any(due => due <= time.GetUtcNow());

    /// <summary>Decodes a received batch, re-hiding messages that are not due yet and deleting ones already settled here.</summary>
    public async Task<List<ReceivedQueueMessage>> DecodeAsync(
        IReadOnlyList<(QueueClient Queue, QueueMessage Message)> batch, TimeSpan lockDuration, CancellationToken cancellationToken)
    {
        var leaseEnd = DateTimeOffset.UtcNow + lockDuration;
        var result = new List<ReceivedQueueMessage>(batch.Count);
        var followUps = new List<Task>();
        foreach (var (queue, message) in batch)
        {
            QueueEnvelope envelope;
            WorkflowMessage? decoded = null;
            try
            {
                envelope = QueueEnvelopeSerializer.Deserialize(message.MessageText);
                if (envelope.Pack is { } members)
                {
                    if (members.Count == 0 || members.Any(m => m.Event is null))
                    {
                        throw new FormatException("The activity pack has no members, or a member without its event.");
                    }
                }
                else
                {
                    var historyEvent = envelope.Event ?? QueueEnvelopeSerializer.DeserializeEvent(
                        await payloads.DownloadAsync(
                                envelope.EventBlobName
                                    ?? throw new FormatException("The message has neither an event nor a blob reference."),
                                cancellationToken)
                            .ConfigureAwait(false));
                    decoded = envelope.ToWorkflowMessage(historyEvent);
                }
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException
                or FormatException
                or InvalidOperationException
                or NotSupportedException)
            {
                // Not ours, corrupt, or its payload blob was purged: no engine can ever process it.
                logger.LogError(ex, "Discarding unreadable message {MessageId} from queue {Queue}", message.MessageId, queue.Name);
                followUps.Add(DeleteQuietlyAsync(queue, message.MessageId, message.PopReceipt, cancellationToken));
                continue;
            }

            if (_settledMessageIds.Contains(message.MessageId))
            {
                // Consumed here already; this copy is a redelivery whose delete raced with its lease expiry.
                followUps.Add(DeleteQuietlyAsync(queue, message.MessageId, message.PopReceipt, cancellationToken));
                continue;
            }

            if (envelope.Pack is not null)
            {
                var deliveries = ReceivedQueueMessage.EffectiveCount(message.DequeueCount, envelope);
                if (deliveries > 1)
                {
                    followUps.Add(SplitPackAsync(queue, message, envelope, deliveries, cancellationToken));
                }
                else
                {
                    result.AddRange(
                        MessagePack.Members(new QueueLease(queue, message.MessageId, message.PopReceipt, leaseEnd), envelope, deliveries));
                }

                continue;
            }

            var received = new ReceivedQueueMessage(queue, message, envelope, decoded!, leaseEnd);
            if (envelope.VisibleAt is { } visibleAt && visibleAt > time.GetUtcNow())
            {
                if (!sender.UsesSystemClock)
                {
                    _bouncedUntil[message.MessageId] = visibleAt;
                }

                followUps.Add(BounceAsync(received, cancellationToken));
                continue;
            }

            _bouncedUntil.TryRemove(message.MessageId, out _);

            result.Add(received);
        }

        await Task.WhenAll(followUps).ConfigureAwait(false);
        return result;
    }

    /// <summary>Hides a message that was delivered before its time again, without counting the delivery as an attempt.</summary>
    public async Task BounceAsync(ReceivedQueueMessage message, CancellationToken cancellationToken)
    {
        if (message.BackedByActivityMessage)
        {
            // Its redelivery replays the persisted outcome (a real response message from then on).
            await AbandonAsync(message, null, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (message.Pack is not null)
        {
            // The pack's content is its siblings' too: this member goes on alone, the bounce not counted.
            await MoveOutOfPackAsync(message, null, TimeSpan.Zero, cancellationToken, countDelivery: false).ConfigureAwait(false);
            return;
        }

        var envelope = message.Envelope with { Bounces = message.Envelope.Bounces + 1 };
        try
        {
            await message.Queue.UpdateMessageAsync(message.QueueMessageId, message.PopReceipt, QueueEnvelopeSerializer.Serialize(envelope),
                sender.InitialDelay(envelope.VisibleAt), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            // Lease lost: it is visible again and will be bounced by whoever receives it.
        }
    }

    /// <summary>
    /// A pack's lease is shared: members that each run shorter than half the lease never renew it, so handing out a
    /// member renews it once half of it has passed (otherwise the pack could come back while its last members run).
    /// False when the lease was lost.
    /// </summary>
    public async Task<bool> KeepPackLeasedAsync(ReceivedQueueMessage member, TimeSpan lockDuration)
    {
        if (member.LeaseExpiresAt - DateTimeOffset.UtcNow > lockDuration / 2)
        {
            return true;
        }

        try
        {
            await RenewAsync(member, lockDuration, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (WorkItemLockLostException)
        {
            return false;
        }
    }

    public async Task RenewAsync(ReceivedQueueMessage message, TimeSpan lockDuration, CancellationToken cancellationToken)
    {
        var lease = message.Lease;
        await lease.Updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (message.Pack is not null && lease.ExpiresAt - DateTimeOffset.UtcNow > lockDuration * 0.9)
            {
                // A sibling renewed the shared lease moments ago.
                return;
            }

            var receipt = await lease.Queue.UpdateMessageAsync(
                    lease.QueueMessageId, lease.PopReceipt, visibilityTimeout: lockDuration, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            lease.PopReceipt = receipt.Value.PopReceipt;
            lease.ExpiresAt = DateTimeOffset.UtcNow + lockDuration;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            throw new WorkItemLockLostException(
                $"The lease on message {message.Message.MessageId} of instance '{message.Message.InstanceId}' was lost.", ex);
        }
        finally
        {
            lease.Updates.Release();
        }
    }

    public async Task AbandonAsync(ReceivedQueueMessage message, string? reason, TimeSpan retryDelay, CancellationToken cancellationToken)
    {
        if (message.Pack is not null)
        {
            await MoveOutOfPackAsync(message, reason, retryDelay, cancellationToken).ConfigureAwait(false);
            return;
        }

        // An outcome backed by its activity message: the activity message's content must stay the activity.
        var text = reason is null || message.BackedByActivityMessage
            ? null
            : QueueEnvelopeSerializer.Serialize(message.Envelope with { LastError = QueueEnvelopeSerializer.TrimError(reason) });
        await ReleaseLeaseAsync(message.Lease, text, retryDelay, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Hands back messages received but never given to a worker, visible again at once: a pack none of whose members
    /// was handed out goes back whole, uncounted; any other message (or untaken member of a touched pack) on its own.
    /// Best effort: a lease that cannot be released in time expires on its own.
    /// </summary>
    public async Task ReleaseUnclaimedAsync(IReadOnlyList<ReceivedQueueMessage> unclaimed, CancellationToken cancellationToken)
    {
        var wholePacks = new List<MessagePack>();
        var pending = new List<ReceivedQueueMessage>();
        foreach (var members in unclaimed.GroupBy(a => a.Pack))
        {
            if (members.Key is { IsPristine: true } pack && members.Count() == pack.MemberCount)
            {
                // No member was handed out: the pack message goes back whole.
                wholePacks.Add(pack);
            }
            else
            {
                // Single messages, or members of a pack whose siblings run or ran here: each released on its own.
                pending.AddRange(members);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await Task.WhenAll(pending.Select(m => AbandonAsync(m, null, TimeSpan.Zero, timeout.Token))
                .Concat(wholePacks.Select(pack => ReleaseLeaseAsync(pack.Lease, UntriedText(pack.Envelope), TimeSpan.Zero, timeout.Token))))
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RequestFailedException)
        {
            // Their leases expire on their own.
        }
    }

    /// <summary>
    /// Consumes a message: deletes it, or for a pack member settles it and deletes the pack message once every member is settled.
    /// </summary>
    /// <returns>False when the lease was lost (the message was redelivered, or already deleted).</returns>
    public async Task<bool> DeleteAsync(ReceivedQueueMessage message, CancellationToken cancellationToken)
    {
        if (message.Pack is { } pack && !pack.Settle(message.PackIndex))
        {
            return true;
        }

        var lease = message.Lease;
        _settledMessageIds.Add(lease.QueueMessageId);
        await lease.Updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await lease.Queue.DeleteMessageAsync(lease.QueueMessageId, lease.PopReceipt, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            return false;
        }
        finally
        {
            lease.Updates.Release();
        }
    }

    /// <summary>
    /// The content of a pack released before any member was tried: this delivery does not count (a local hand-off
    /// counts as one, see <see cref="MessageSender.SendAsync"/>), so that a stop and restart does not split it.
    /// </summary>
    private static string UntriedText(QueueEnvelope pack) => QueueEnvelopeSerializer.Serialize(pack with { Bounces = pack.Bounces + 1 });

    /// <summary>Makes a leased message visible after <paramref name="delay"/>, with new content when given. Ignores a lost lease.</summary>
    private static async Task ReleaseLeaseAsync(QueueLease lease, string? newText, TimeSpan delay, CancellationToken cancellationToken)
    {
        await lease.Updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (newText is null)
            {
                await lease.Queue.UpdateMessageAsync(
                    lease.QueueMessageId, lease.PopReceipt, visibilityTimeout: delay, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
            }
            else
            {
                await lease.Queue.UpdateMessageAsync(lease.QueueMessageId, lease.PopReceipt, newText, delay, cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            // Lease already lost: the message is visible again anyway.
        }
        finally
        {
            lease.Updates.Release();
        }
    }

    /// <summary>
    /// A pack delivered a second time (its process died or its lease ended): its activities continue as messages of
    /// their own, each carrying the deliveries so far, so that poison is counted per activity from here on. Members
    /// whose outcome was persisted replay it when their own message is delivered.
    /// </summary>
    private async Task SplitPackAsync(
        QueueClient queue,
        QueueMessage message,
        QueueEnvelope pack,
        int deliveries,
        CancellationToken cancellationToken)
    {
        logger.LogInformation(
            "Pack {MessageId} of instance {InstanceId} was delivered {Deliveries} times; its {Count} messages continue as single messages",
            message.MessageId, pack.InstanceId, deliveries, pack.Pack!.Count);
        await Task.WhenAll(pack.Pack.Select(member => sender.SendAsync(queue, member.ToWorkflowMessage(member.Event!), cancellationToken,
            priorDeliveries: deliveries - 1 + member.PriorDeliveries))).ConfigureAwait(false);
        await DeleteQuietlyAsync(queue, message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
        pollers.Wake(queue);
    }

    /// <summary>
    /// Abandons one member of a pack without touching its siblings (which may be running): the activity, or the
    /// outcome whose step was abandoned, is sent again as a message of its own (visible after
    /// <paramref name="retryDelay"/>, carrying its deliveries so far), then the member is settled in the pack.
    /// A crash in between leaves both copies: the activity's result row and the engine's duplicate checks absorb that.
    /// </summary>
    private async Task MoveOutOfPackAsync(
        ReceivedQueueMessage member, string? reason, TimeSpan retryDelay, CancellationToken cancellationToken, bool countDelivery = true)
    {
        var deliveries = countDelivery ? member.EffectiveDequeueCount : member.EffectiveDequeueCount - 1;

        // An activity outcome goes to its instance; any other member to the queue its pack came from.
        var queue = member.BackedByActivityMessage ? clients.ControlQueueFor(member.Message.InstanceId) : member.Queue;
        await sender.SendAsync(queue, member.Message, cancellationToken, delay: retryDelay, priorDeliveries: deliveries,
            lastError: member.BackedByActivityMessage ? null : QueueEnvelopeSerializer.TrimError(reason)).ConfigureAwait(false);
        pollers.Wake(queue);
        await DeleteAsync(member, cancellationToken).ConfigureAwait(false);
    }

    private static async Task DeleteQuietlyAsync(
        QueueClient queue,
        string messageId,
        string popReceipt,
        CancellationToken cancellationToken)
    {
        try
        {
            await queue.DeleteMessageAsync(messageId, popReceipt, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException)
        {
            // Someone else has it or it is gone: nothing to do.
        }
    }
}
