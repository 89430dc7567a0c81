using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Gardien.Runtime.AzureStorage;
using Gardien.Testing;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>History events share rows, so that a step recording hundreds of outcomes commits a few table operations.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HistoryRowsTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task ManySmallEvents_ShareAFewRows_AndReadBackInOrder()
    {
        var payloads = await NewPayloadStoreAsync();
        var events = Enumerable.Range(0, 300).Select(Completed).ToList();

        var rows = await HistoryRows.BuildAsync("i1", "i1", 0, 10, events, payloads, default);

        Assert.InRange(rows.Count, 1, 5);
        Assert.Equal(Enumerable.Range(10, rows.Count).Select(s => TableKeys.HistoryRowKey(0, s)), rows.Select(r => r.RowKey));
        Assert.All(rows, r => Assert.True(((byte[])r["Events"]).Length <= HistoryRows.MaxRowPayloadBytes));
        Assert.Equal(events.Select(Describe), (await ReadAllAsync(rows, payloads)).Select(Describe));
    }

    [Fact]
    public async Task EventOverTheLargePayloadThreshold_GetsARowOfItsOwnWithItsEventInABlob()
    {
        var payloads = await NewPayloadStoreAsync();
        var large = Completed(1) with { Result = "\"" + new string('x', 60 * 1024) + "\"" };
        var events = new List<HistoryEvent> { Completed(0), large, Completed(2) };

        var rows = await HistoryRows.BuildAsync("i1", "i1", 0, 0, events, payloads, default);

        Assert.Equal(3, rows.Count);
        Assert.True(rows[1].ContainsKey("EventBlobName"));
        Assert.Equal(events.Select(Describe), (await ReadAllAsync(rows, payloads)).Select(Describe));
    }

    [Fact]
    public async Task RowsWrittenOneEventPerRow_AreStillRead()
    {
        var payloads = await NewPayloadStoreAsync();
        var legacy = new TableEntity("i1", TableKeys.HistoryRowKey(0, 0))
        {
            ["Event"] = Encoding.UTF8.GetBytes(QueueEnvelopeSerializer.SerializeEvent(Completed(7))),
        };

        var read = await ReadAllAsync([legacy], payloads);

        Assert.Equal(Describe(Completed(7)), Describe(Assert.Single(read)));
    }

    private static async Task<List<HistoryEvent>> ReadAllAsync(IEnumerable<TableEntity> rows, LargePayloadStore payloads)
    {
        var events = new List<HistoryEvent>();
        foreach (var row in rows)
        {
            await HistoryRows.ReadAsync(row, events, payloads, default);
        }

        return events;
    }

    private static HistoryEvent Completed(int taskId) =>
        new(HistoryEventType.TaskCompleted, new DateTime(2026, 11, 23, 8, 0, 0, DateTimeKind.Utc).AddSeconds(taskId))
        {
            TaskScheduledId = taskId,
            Result = taskId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

    private static string Describe(HistoryEvent e) => $"{e.EventType}/{e.EventId}/{e.TaskScheduledId}/{e.Timestamp:O}/{e.Result}";

    private async Task<LargePayloadStore> NewPayloadStoreAsync()
    {
        var container = new BlobContainerClient(fixture.ConnectionString, "payloads" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateIfNotExistsAsync();
        return new LargePayloadStore(container, AzureStorageStoreOptions.DefaultLargePayloadThresholdBytes);
    }
}
