using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Gardien.Runtime.Storage;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// The text of a queue message: the <see cref="WorkflowMessage"/> plus delivery data the queue cannot keep itself.
/// <see cref="Bounces"/> counts deliveries that were only "not yet due" re-hides (timers longer than the 7-day
/// queue limit, or a fake clock), which the poison count must not include.
/// </summary>
internal sealed record QueueEnvelope
{
    [JsonPropertyName("id")]
    public required string MessageId { get; init; }

    [JsonPropertyName("i")]
    public required string InstanceId { get; init; }

    [JsonPropertyName("x")]
    public string? ExecutionId { get; init; }

    [JsonPropertyName("v")]
    public DateTimeOffset? VisibleAt { get; init; }

    /// <summary>Send order (UTC ticks of the sender), used to keep an instance's messages in order within a work item.</summary>
    [JsonPropertyName("s")]
    public long SentAt { get; init; }

    [JsonPropertyName("e")]
    public HistoryEvent? Event { get; init; }

    /// <summary>Set instead of <see cref="Event"/> when the event is larger than the inline threshold.</summary>
    [JsonPropertyName("eb")]
    public string? EventBlobName { get; init; }

    [JsonPropertyName("b")]
    public int Bounces { get; init; }

    [JsonPropertyName("err")]
    public string? LastError { get; init; }

    /// <summary>
    /// Deliveries this message's content had before it was sent on its own: an activity split out of a pack, an
    /// outcome re-sent after its step was abandoned. Keeps poison counting going across the move.
    /// </summary>
    [JsonPropertyName("pd")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int PriorDeliveries { get; init; }

    /// <summary>An activity pack: the envelopes of the activities one step scheduled together (see <see cref="MessagePack"/>).</summary>
    [JsonPropertyName("p")]
    public IReadOnlyList<QueueEnvelope>? Pack { get; init; }

    /// <summary>The envelope of a message about to be sent, stamped with the send order.</summary>
    public static QueueEnvelope Of(WorkflowMessage message, SendClock clock) => new()
    {
        MessageId = message.MessageId,
        InstanceId = message.InstanceId,
        ExecutionId = message.ExecutionId,
        VisibleAt = message.VisibleAt,
        SentAt = clock.Next(),
        Event = message.Event,
    };

    /// <summary>The message this envelope carries, with its event (inline, or read from its blob).</summary>
    public WorkflowMessage ToWorkflowMessage(HistoryEvent historyEvent) =>
        new(InstanceId, historyEvent)
        {
            MessageId = MessageId,
            ExecutionId = ExecutionId,
            VisibleAt = VisibleAt,
        };
}

/// <summary>
/// The lease on one queue message: its current pop receipt (each visibility update issues a new one) and when it ends.
/// Shared by the members of an activity pack, whose updates it serialises (an update made with a stale pop receipt fails).
/// </summary>
internal sealed class QueueLease(QueueClient queue, string queueMessageId, string popReceipt, DateTimeOffset expiresAt)
{
    /// <summary>A buffered message whose lease ends sooner than this is dropped (the queue redelivers it) rather than handed out.</summary>
    public static readonly TimeSpan MinUsable = TimeSpan.FromSeconds(2);

    public QueueClient Queue { get; } = queue;

    public string QueueMessageId { get; } = queueMessageId;

    public string PopReceipt { get; set; } = popReceipt;

    /// <summary>Real (wall-clock) time the queue lease ends: Azure measures visibility with its own clock, not the engine's.</summary>
    public DateTimeOffset ExpiresAt { get; set; } = expiresAt;

    /// <summary>Held around every request that uses or replaces <see cref="PopReceipt"/>.</summary>
    public SemaphoreSlim Updates { get; } = new(1, 1);
}

/// <summary>
/// A message received from a queue, or one member of a received activity pack (see <see cref="MessagePack"/>): the
/// decoded <see cref="WorkflowMessage"/>, its envelope and the lease of the queue message that carries it.
/// </summary>
internal sealed class ReceivedQueueMessage
{
    public ReceivedQueueMessage(
        QueueClient queue,
        QueueMessage message,
        QueueEnvelope envelope,
        WorkflowMessage decoded,
        DateTimeOffset leaseExpiresAt)
        : this(
            new QueueLease(queue, message.MessageId, message.PopReceipt, leaseExpiresAt),
            envelope,
            decoded,
            EffectiveCount(message.DequeueCount, envelope))
    {
    }

    public ReceivedQueueMessage(
        QueueLease lease,
        QueueEnvelope envelope,
        WorkflowMessage decoded,
        int effectiveDequeueCount,
        MessagePack? pack = null,
        int packIndex = 0)
    {
        Lease = lease;
        Envelope = envelope;
        Message = decoded;
        EffectiveDequeueCount = effectiveDequeueCount;
        Pack = pack;
        PackIndex = packIndex;
    }

    public QueueLease Lease { get; }

    public QueueClient Queue => Lease.Queue;

    public string QueueMessageId => Lease.QueueMessageId;

    public string PopReceipt => Lease.PopReceipt;

    public DateTimeOffset LeaseExpiresAt => Lease.ExpiresAt;

    /// <summary>Identity within this store object's buffers: pack members share their queue message id.</summary>
    public string Key =>
        Pack is null ? QueueMessageId : QueueMessageId + "/" + PackIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public QueueEnvelope Envelope { get; }

    public WorkflowMessage Message { get; }

    /// <summary>
    /// Deliveries that were real attempts: the queue's count minus "not yet due" re-hides, plus the deliveries of the
    /// pack this message was split out of.
    /// </summary>
    public int EffectiveDequeueCount { get; }

    /// <summary>The pack whose queue message carries this activity (or this outcome's activity); null for a message of its own.</summary>
    public MessagePack? Pack { get; }

    public int PackIndex { get; }

    /// <summary>
    /// An activity outcome held in memory only, whose queue message is the activity's own message (still leased):
    /// consuming the outcome deletes the activity message; releasing it makes the activity message visible again,
    /// and its redelivery replays the persisted outcome. Its queue content must never be rewritten.
    /// </summary>
    public bool BackedByActivityMessage { get; init; }

    /// <summary>
    /// The outcome of this activity message, held in memory and backed by this message (see <see cref="BackedByActivityMessage"/>).
    /// </summary>
    public ReceivedQueueMessage WithOutcome(QueueEnvelope outcomeEnvelope, WorkflowMessage outcome) =>
        // A fresh message as far as poison counting goes: the activity's own deliveries are not the outcome's.
        new(Lease, outcomeEnvelope with { Bounces = 0, PriorDeliveries = 0 }, outcome, 1, Pack, PackIndex)
        {
            BackedByActivityMessage = true,
        };

    public static int EffectiveCount(long queueDequeueCount, QueueEnvelope envelope) =>
        (int)Math.Max(1, queueDequeueCount - envelope.Bounces) + envelope.PriorDeliveries;
}

internal static class QueueEnvelopeSerializer
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        // Only nulls are skipped: HistoryEvent's -1 defaults must survive a round trip.
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private const int MaxErrorLength = 2048;

    public static string Serialize(QueueEnvelope envelope) => JsonSerializer.Serialize(envelope, Options);

    public static QueueEnvelope Deserialize(string text) =>
        JsonSerializer.Deserialize<QueueEnvelope>(text, Options) ?? throw new JsonException("The queue message is empty.");

    public static string SerializeEvent(HistoryEvent historyEvent) => JsonSerializer.Serialize(historyEvent, Options);

    public static HistoryEvent DeserializeEvent(string json) =>
        JsonSerializer.Deserialize<HistoryEvent>(json, Options) ?? throw new JsonException("The history event is empty.");

    /// <summary>Keeps abandon reasons short enough that the message stays under the queue's 64 KB.</summary>
    public static string? TrimError(string? error) =>
        error is null || error.Length <= MaxErrorLength ? error : error[..MaxErrorLength] + "…";
}
