using Azure.Data.Tables;
using Gardien.Runtime.AzureStorage;
using Gardien.Testing;

namespace Gardien.Runtime.Tests.AzureStorage;

[Collection(AzuriteCollection.Name)]
public sealed class HistoryTableWriterTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task Commit_StaleETag_ThrowsConflictAndLeavesTheWinnersCommit()
    {
        var table = await NewTableAsync();
        var first = await HistoryTableWriter.CommitAsync(table, "i1", null, Sentinel("i1", 0, 1), [Row("i1", 0, 0, "start")], [], default);
        var winner = await HistoryTableWriter.CommitAsync(
            table, "i1", first, Sentinel("i1", 0, 2), [Row("i1", 0, 1, "winner")], [], default);

        await Assert.ThrowsAsync<HistoryTableWriter.ConcurrencyConflictException>(() =>
            HistoryTableWriter.CommitAsync(table, "i1", first, Sentinel("i1", 0, 2), [Row("i1", 0, 1, "loser")], [], default));

        var partition = await HistoryTableReader.ReadAsync(table, "i1", default);
        Assert.NotNull(partition);
        Assert.Equal(winner, partition.ETag);
        Assert.Equal(["start", "winner"], partition.Rows.Select(r => r.GetString("Event")));
    }

    [Fact]
    public async Task Commit_StaleWorkerWithAStepLargerThanABatch_FailsBeforeOverwritingTheWinnersRows()
    {
        var table = await NewTableAsync();
        var read = await HistoryTableWriter.CommitAsync(table, "i1", null, Sentinel("i1", 0, 1), [Row("i1", 0, 0, "start")], [], default);

        // Another worker commits rows 1..5 first; the stale worker, still at ETag "read", then writes 250 rows from row 1.
        await HistoryTableWriter.CommitAsync(
            table,
            "i1",
            read,
            Sentinel("i1", 0, 6),
            Enumerable.Range(1, 5).Select(i => Row("i1", 0, i, "winner" + i)).ToList(),
            [],
            default);
        var stale = Enumerable.Range(1, 250).Select(i => Row("i1", 0, i, "stale" + i)).ToList();

        await Assert.ThrowsAsync<HistoryTableWriter.ConcurrencyConflictException>(() =>
            HistoryTableWriter.CommitAsync(table, "i1", read, Sentinel("i1", 0, 251), stale, [], default));

        var partition = await HistoryTableReader.ReadAsync(table, "i1", default);
        Assert.Equal(["start", "winner1", "winner2", "winner3", "winner4", "winner5"], partition!.Rows.Select(r => r.GetString("Event")));
    }

    [Fact]
    public async Task Commit_CreateTwice_SecondIsAConflict()
    {
        var table = await NewTableAsync();
        await HistoryTableWriter.CommitAsync(table, "i1", null, Sentinel("i1", 0, 1), [Row("i1", 0, 0, "a")], [], default);

        await Assert.ThrowsAsync<HistoryTableWriter.ConcurrencyConflictException>(() =>
            HistoryTableWriter.CommitAsync(table, "i1", null, Sentinel("i1", 0, 1), [Row("i1", 0, 0, "b")], [], default));
    }

    [Fact]
    public async Task Commit_MoreRowsThanOneBatch_AllBecomeVisibleInOrder()
    {
        var table = await NewTableAsync();
        var rows = Enumerable.Range(0, 250).Select(i => Row("big", 0, i, "e" + i)).ToList();

        await HistoryTableWriter.CommitAsync(table, "big", null, Sentinel("big", 0, 250), rows, [], default);

        var partition = await HistoryTableReader.ReadAsync(table, "big", default);
        Assert.NotNull(partition);
        Assert.Equal(Enumerable.Range(0, 250).Select(i => "e" + i), partition.Rows.Select(r => r.GetString("Event")));
    }

    [Fact]
    public async Task Read_RowsOfALostCommit_AreNotReplayed()
    {
        var table = await NewTableAsync();
        var etag = await HistoryTableWriter.CommitAsync(table, "i1", null, Sentinel("i1", 0, 1), [Row("i1", 0, 0, "a")], [], default);
        // A worker that upserted a leading chunk and died before its sentinel batch.
        await table.UpsertEntityAsync(Row("i1", 0, 1, "orphan"), TableUpdateMode.Replace);

        var partition = await HistoryTableReader.ReadAsync(table, "i1", default);

        Assert.NotNull(partition);
        Assert.Equal(["a"], partition.Rows.Select(r => r.GetString("Event")));
        await HistoryTableWriter.CommitAsync(table, "i1", etag, Sentinel("i1", 0, 2), [Row("i1", 0, 1, "b")], [], default);
        var after = await HistoryTableReader.ReadAsync(table, "i1", default);
        Assert.Equal(["a", "b"], after!.Rows.Select(r => r.GetString("Event")));
    }

    [Fact]
    public void Chunk_LargeRows_StaysUnderTheBatchSizeCap()
    {
        var rows = Enumerable.Range(0, 120).Select(i =>
        {
            var row = Row("p", 0, i, "e");
            row["Payload"] = new byte[45 * 1024];
            return row;
        }).ToList();

        var chunks = HistoryTableWriter.Chunk(rows);

        Assert.Equal(120, chunks.Sum(c => c.Count));
        Assert.All(chunks, c => Assert.True(c.Sum(HistoryTableWriter.EstimateSize) <= HistoryTableWriter.MaxBytesPerBatch));
        Assert.All(chunks, c => Assert.True(c.Count < HistoryTableWriter.MaxOperationsPerBatch));
    }

    private async Task<TableClient> NewTableAsync()
    {
        var table = new TableClient(fixture.ConnectionString, "writer" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateIfNotExistsAsync();
        return table;
    }

    private static TableEntity Sentinel(string pk, int generation, long count) => new(pk, TableKeys.SentinelRowKey)
    {
        [SentinelColumns.Generation] = generation,
        [SentinelColumns.HistoryCount] = count,
    };

    private static TableEntity Row(string pk, int generation, long seq, string value) =>
        new(pk, TableKeys.HistoryRowKey(generation, seq)) { ["Event"] = value };
}
