using System.Text;
using System.Text.Json;
using Azure.Data.Tables;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// How history events are laid out in the History table: consecutive events of one step share a row (column
/// <c>Events</c>, a UTF-8 JSON array of up to <see cref="MaxRowPayloadBytes"/>), so that a fan-in step recording
/// hundreds of outcomes commits a few rows instead of hundreds of table operations; an event larger than the
/// large-payload threshold has a row of its own with the event in a blob (column <c>EventBlobName</c>). Rows written
/// one event per row (column <c>Event</c>) are read as well. The sentinel's <c>HistoryCount</c> counts rows.
/// </summary>
internal static class HistoryRows
{
    /// <summary>Below the 64 KB limit of a binary property.</summary>
    public const int MaxRowPayloadBytes = 48 * 1024;

    private const string EventsColumn = "Events";
    private const string EventColumn = "Event";

    public static async Task<List<TableEntity>> BuildAsync(
        string partitionKey,
        string instanceId,
        int generation,
        long firstSequence,
        IReadOnlyList<HistoryEvent> events,
        LargePayloadStore payloads,
        CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        var sequence = firstSequence;
        var pending = new List<string>();
        var pendingBytes = 2;
        foreach (var historyEvent in events)
        {
            var json = QueueEnvelopeSerializer.SerializeEvent(historyEvent);
            if (payloads.IsLarge(json))
            {
                Flush();
                var row = new TableEntity(partitionKey, TableKeys.HistoryRowKey(generation, sequence++));
                await payloads.WriteAsync(row, EventColumn, instanceId, json, cancellationToken).ConfigureAwait(false);
                rows.Add(row);
                continue;
            }

            var bytes = Encoding.UTF8.GetByteCount(json) + 1;
            if (pendingBytes + bytes > MaxRowPayloadBytes)
            {
                Flush();
            }

            pending.Add(json);
            pendingBytes += bytes;
        }

        Flush();
        return rows;

        void Flush()
        {
            if (pending.Count == 0)
            {
                return;
            }

            rows.Add(new TableEntity(partitionKey, TableKeys.HistoryRowKey(generation, sequence++))
            {
                [EventsColumn] = Encoding.UTF8.GetBytes("[" + string.Join(',', pending) + "]"),
            });
            pending.Clear();
            pendingBytes = 2;
        }
    }

    /// <summary>Appends the events of <paramref name="row"/> to <paramref name="events"/>, in order.</summary>
    public static async Task ReadAsync(
        TableEntity row,
        List<HistoryEvent> events,
        LargePayloadStore payloads,
        CancellationToken cancellationToken)
    {
        if (row.TryGetValue(EventsColumn, out var value) && value is not null)
        {
            var json = value switch
            {
                byte[] bytes => bytes,
                BinaryData data => data.ToArray(),
                string text => Encoding.UTF8.GetBytes(text),
                _ => throw new InvalidOperationException($"History row {row.PartitionKey}/{row.RowKey} has an unreadable Events column."),
            };
            events.AddRange(JsonSerializer.Deserialize<List<HistoryEvent>>(json, QueueEnvelopeSerializer.Options)
                ?? throw new InvalidOperationException($"History row {row.PartitionKey}/{row.RowKey} holds no events."));
            return;
        }

        var single = await payloads.ReadAsync(row, EventColumn, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"History row {row.PartitionKey}/{row.RowKey} holds no event.");
        events.Add(QueueEnvelopeSerializer.DeserializeEvent(single));
    }
}
