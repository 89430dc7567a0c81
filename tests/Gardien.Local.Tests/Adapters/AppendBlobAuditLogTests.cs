using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Gardien.Storage.Audit;
using Gardien.Testing;
using Gardien.Workflows.Ports;

namespace Gardien.Local.Tests.Adapters;

[Collection(AzuriteCollection.Name)]
public sealed class AppendBlobAuditLogTests(AzuriteFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private readonly BlobContainerClient _container = new BlobServiceClient(fixture.ConnectionString).GetBlobContainerClient(
        "audit-" + Guid.NewGuid().ToString("N")[..12]);

    internal static AuditEntry Entry(int i, string? key = null) => new(
        "system:test", "container.provisioned", "intake-" + i, "container:ds-" + i, T0.AddSeconds(i),
        Before: null, After: JsonSerializer.SerializeToElement(new { index = i }), IdempotencyKey: key);

    [Fact]
    public async Task Append_ThenVerify_ChainIsIntactAndReadable()
    {
        var log = new AppendBlobAuditLog(_container);

        var receipts = new List<AuditReceipt>();
        for (var i = 1; i <= 5; i++)
        {
            receipts.Add(await log.AppendAsync(Entry(i)));
        }

        Assert.Equal([1L, 2, 3, 4, 5], receipts.Select(r => r.Sequence));
        var verification = await log.VerifyAsync();
        Assert.True(verification.Intact);
        Assert.Equal(5, verification.EntriesChecked);
        Assert.Equal(receipts[^1].Hash, verification.LastHash);
        var read = await log.ReadAsync(fromSequence: 4).ToListAsync();
        Assert.Equal([4L, 5], read.Select(r => r.Sequence));
        Assert.Equal("intake-4", read[0].Entry.InstanceId);
    }

    [Fact]
    public async Task Append_SameIdempotencyKeyTwice_WritesOnce()
    {
        var log = new AppendBlobAuditLog(_container);

        var first = await log.AppendAsync(Entry(1, "intake-1:provisioned"));
        var retry = await log.AppendAsync(Entry(1, "intake-1:provisioned"));
        // A second process (fresh writer) finds the key in the stored tail.
        var otherProcess = await new AppendBlobAuditLog(_container).AppendAsync(Entry(1, "intake-1:provisioned"));

        Assert.False(first.Duplicate);
        Assert.True(retry.Duplicate);
        Assert.True(otherProcess.Duplicate);
        Assert.Equal(first.Sequence, otherProcess.Sequence);
        Assert.Single(await log.ReadAsync().ToListAsync());
    }

    [Fact]
    public async Task Append_ConcurrentWritersInSeveralProcesses_KeepOneValidChain()
    {
        var writers = Enumerable.Range(0, 3)
            .Select(_ => new AppendBlobAuditLog(_container, new AppendBlobAuditLogOptions { SegmentMaxEntries = 7 }))
            .ToList();

        var receipts = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => writers[i % writers.Count].AppendAsync(Entry(i))));

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), receipts.Select(r => r.Sequence).Order());
        var verification = await writers[0].VerifyAsync();
        Assert.True(verification.Intact, verification.FirstBrokenLink?.Problem);
        Assert.Equal(30, verification.EntriesChecked);
        var segments = await _container.GetBlobsAsync().Select(b => b.Name).ToListAsync();
        Assert.True(segments.Count >= 5, "30 entries at 7 per segment span at least 5 segments");
    }

    [Fact]
    public async Task Verify_OneEntryModifiedInStorage_BreaksAtThatEntry()
    {
        var log = new AppendBlobAuditLog(_container);
        for (var i = 1; i <= 4; i++)
        {
            await log.AppendAsync(Entry(i));
        }

        var segment = await TamperAsync(_container, line: 3, "container:ds-3", "container:ds-X");
        var verification = await new AppendBlobAuditLog(_container).VerifyAsync();

        Assert.False(verification.Intact);
        Assert.Equal(3, verification.FirstBrokenLink!.Sequence);
        Assert.Equal(3, verification.FirstBrokenLink.LineNumber);
        Assert.Equal(segment, verification.FirstBrokenLink.Location);
        Assert.Equal(2, verification.EntriesChecked);
    }

    [Fact]
    public async Task Append_AfterTheTailWasDamaged_IsRefusedSayingWhereAndHowToRepair()
    {
        var log = new AppendBlobAuditLog(_container);
        await log.AppendAsync(Entry(1));
        await _container.GetAppendBlobClient("chain/00000001.jsonl").AppendBlockAsync(new MemoryStream("garbage\n"u8.ToArray()));

        var ex = await Assert.ThrowsAsync<AuditTrailDamagedException>(() => new AppendBlobAuditLog(_container).AppendAsync(Entry(2)));

        Assert.False(ex.IsTransient);
        Assert.Contains("damaged at " + _container.Name + "/chain/00000001.jsonl line 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("It is the last line", ex.Message, StringComparison.Ordinal);
        Assert.Contains("restore the segment", ex.Message, StringComparison.Ordinal);
        Assert.Contains("gardien audit verify", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Rewrites the first segment with one line changed (as an attacker with write access could), returns the blob name.</summary>
    internal static async Task<string> TamperAsync(BlobContainerClient container, int line, string find, string replace)
    {
        const string segment = "chain/00000001.jsonl";
        var blob = container.GetBlobClient(segment);
        var lines = (await blob.DownloadContentAsync()).Value.Content.ToString().Split('\n');
        lines[line - 1] = lines[line - 1].Replace(find, replace, StringComparison.Ordinal);
        await container.GetBlobClient(segment).DeleteAsync();
        var append = container.GetAppendBlobClient(segment);
        await append.CreateAsync();
        await append.AppendBlockAsync(new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', lines))));
        return segment;
    }
}
