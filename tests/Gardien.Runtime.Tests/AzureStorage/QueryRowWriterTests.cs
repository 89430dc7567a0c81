using Azure.Data.Tables;
using Gardien.Runtime.AzureStorage;
using Gardien.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>
/// The Instances table's query copies: few writes during a fan-in, never stale once a status changed, never out of order.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class QueryRowWriterTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task QuietCopies_AreCoalesced_AndTheNewestIsWritten()
    {
        var (table, counter) = await NewTableAsync();
        var writer = new QueryRowWriter(table, NullLogger.Instance);

        for (var i = 1; i <= 20; i++)
        {
            await writer.WriteAsync(Copy("i1", "Running", i), (0, i), urgent: false);
        }

        await writer.FlushAsync();

        Assert.Equal(20, (await table.GetEntityAsync<TableEntity>("i1", InstanceRows.InstanceRowKey)).Value.GetInt32("Step"));
        Assert.InRange(counter.TableRequests, 1, 3);
    }

    [Fact]
    public async Task UrgentCopy_IsWrittenWhenTheCallCompletes_EvenRightAfterAQuietOne()
    {
        var (table, _) = await NewTableAsync();
        var writer = new QueryRowWriter(table, NullLogger.Instance);
        await writer.WriteAsync(Copy("i1", "Running", 1), (0, 1), urgent: false);
        await writer.WriteAsync(Copy("i1", "Running", 2), (0, 2), urgent: false);

        await writer.WriteAsync(Copy("i1", "Completed", 3), (0, 3), urgent: true);

        var row = (await table.GetEntityAsync<TableEntity>("i1", InstanceRows.InstanceRowKey)).Value;
        Assert.Equal("Completed", row.GetString("Status"));
        Assert.Equal(3, row.GetInt32("Step"));
    }

    [Fact]
    public async Task OlderCopy_ArrivingAfterANewerOne_IsDropped()
    {
        var (table, _) = await NewTableAsync();
        var writer = new QueryRowWriter(table, NullLogger.Instance);

        // The instance's first step committed (Running) before its creator wrote the Pending copy.
        await writer.WriteAsync(Copy("i1", "Running", 2), (0, 2), urgent: true);
        await writer.WriteAsync(Copy("i1", "Pending", 0), (0, 0), urgent: true);
        await writer.FlushAsync();

        Assert.Equal("Running", (await table.GetEntityAsync<TableEntity>("i1", InstanceRows.InstanceRowKey)).Value.GetString("Status"));
    }

    [Fact]
    public void SameQueryColumns_IgnoresLastUpdatedAtOnly()
    {
        var before = Sentinel("Running", "\"a\"");
        var later = Sentinel("Running", "\"a\"");
        later["LastUpdatedAt"] = DateTimeOffset.UtcNow.AddMinutes(1);

        Assert.True(InstanceRows.SameQueryColumns(before, later));
        Assert.False(InstanceRows.SameQueryColumns(before, Sentinel("Completed", "\"a\"")));
        Assert.False(InstanceRows.SameQueryColumns(before, Sentinel("Running", "\"b\"")));
    }

    private static TableEntity Sentinel(string status, string customStatus) => new("i1", TableKeys.SentinelRowKey)
    {
        ["Status"] = status,
        ["CustomStatus"] = System.Text.Encoding.UTF8.GetBytes(customStatus),
        ["LastUpdatedAt"] = new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero),
        [SentinelColumns.HistoryCount] = 3L,
    };

    private static TableEntity Copy(string id, string status, int step) =>
        new(id, InstanceRows.InstanceRowKey) { ["Status"] = status, ["Step"] = step };

    private async Task<(TableClient Table, StorageRequestCounter Counter)> NewTableAsync()
    {
        var counter = new StorageRequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, Azure.Core.HttpPipelinePosition.PerRetry);
        var table = new TableClient(fixture.ConnectionString, "rows" + Guid.NewGuid().ToString("N")[..12], options);
        await table.CreateIfNotExistsAsync();
        counter.Reset();
        return (table, counter);
    }
}
