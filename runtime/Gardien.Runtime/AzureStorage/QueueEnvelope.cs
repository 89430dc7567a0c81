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
}

/// <summary>A message received from a queue, with its current pop receipt (each visibility update issues a new one).</summary>
internal sealed class ReceivedQueueMessage(QueueClient queue, QueueMessage message, QueueEnvelope envelope, WorkflowMessage decoded, DateTimeOffset leaseExpiresAt)
{
    public QueueClient Queue { get; } = queue;

    public string QueueMessageId { get; } = message.MessageId;

    public string PopReceipt { get; set; } = message.PopReceipt;

    public QueueEnvelope Envelope { get; set; } = envelope;

    public WorkflowMessage Message { get; } = decoded;

    /// <summary>Real (wall-clock) time the queue lease ends: Azure measures visibility with its own clock, not the engine's.</summary>
    public DateTimeOffset LeaseExpiresAt { get; set; } = leaseExpiresAt;

    /// <summary>Deliveries that were real attempts: the queue's count minus "not yet due" re-hides.</summary>
    public int EffectiveDequeueCount { get; } = (int)Math.Max(1, message.DequeueCount - envelope.Bounces);

    /// <summary>
    /// An activity outcome held in memory only, whose queue message is the activity's own message (still leased):
    /// consuming the outcome deletes the activity message; releasing it makes the activity message visible again,
    /// and its redelivery replays the persisted outcome. Its queue content must never be rewritten.
    /// </summary>
    public bool BackedByActivityMessage { get; init; }

    /// <summary>The outcome of this activity message, held in memory and backed by this message (see <see cref="BackedByActivityMessage"/>).</summary>
    public ReceivedQueueMessage WithOutcome(QueueEnvelope outcomeEnvelope, WorkflowMessage outcome)
    {
        // A fresh message as far as poison counting goes: the activity's own deliveries are not the outcome's.
        var backing = QueuesModelFactory.QueueMessage(QueueMessageId, PopReceipt, string.Empty, 1);
        return new ReceivedQueueMessage(Queue, backing, outcomeEnvelope with { Bounces = 0 }, outcome, LeaseExpiresAt) { BackedByActivityMessage = true };
    }
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
