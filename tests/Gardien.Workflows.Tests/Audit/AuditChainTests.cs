using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FsCheck.Xunit;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Tests.Audit;

public sealed class AuditChainTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    internal static List<string> BuildChain(int count, Func<int, AuditEntry>? entry = null)
    {
        entry ??= i => new AuditEntry("system:test", "test.action", "instance-" + i, "dmp:d1", T0.AddMinutes(i),
            After: JsonSerializer.SerializeToElement(new { step = i, note = "é ü \"quoted\"" }), IdempotencyKey: "k" + i);
        var lines = new List<string>();
        var previous = AuditChain.GenesisHash;
        for (var i = 0; i < count; i++)
        {
            var sealedLine = AuditChain.Seal(entry(i), i + 1, previous);
            lines.Add(sealedLine.Line);
            previous = sealedLine.Hash;
        }

        return lines;
    }

    private static IEnumerable<AuditLine> AsLines(IEnumerable<string> lines, string location = "chain/00000001.jsonl") =>
        lines.Select((text, i) => new AuditLine(location, i + 1, text));

    [Fact]
    public void Verify_UntouchedChain_IsIntactAndCountsEveryEntry()
    {
        var lines = BuildChain(5);

        var result = AuditChain.Verify(AsLines(lines));

        Assert.True(result.Intact);
        Assert.Equal(5, result.EntriesChecked);
        Assert.Null(result.FirstBrokenLink);
    }

    [Fact]
    public void Seal_Hash_IsSha256OfTheLineWithoutItsHashMember()
    {
        var line = BuildChain(1)[0];
        var stored = JsonDocument.Parse(line).RootElement.GetProperty("hash").GetString();

        var recomputed = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(line[..^75] + "}")));

        Assert.Equal(stored, recomputed);
        Assert.EndsWith("\"hash\":\"" + stored + "\"}", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Seal_BeforeAfterWithMembersInAnyOrder_ProduceTheSameLine()
    {
        var a = JsonDocument.Parse("""{"b":1,"a":{"y":[1,2],"x":"v"}}""").RootElement;
        var b = JsonDocument.Parse("""{ "a": { "x": "v", "y": [1, 2] }, "b": 1 }""").RootElement;
        var entryA = new AuditEntry("u", "x.y", "i", "s", T0, Before: a);
        var entryB = new AuditEntry("u", "x.y", "i", "s", T0, Before: b);

        Assert.Equal(AuditChain.Seal(entryA, 1, AuditChain.GenesisHash).Line, AuditChain.Seal(entryB, 1, AuditChain.GenesisHash).Line);
    }

    [Fact]
    public void Parse_SealedLine_RoundTripsTheEntry()
    {
        var entry = new AuditEntry("user:dpo@x.example", "approval.decided", "inst-1", "dmp:1", T0,
            Before: JsonSerializer.SerializeToElement(new { decision = "Pending" }),
            After: JsonSerializer.SerializeToElement(new { decision = "Approved" }),
                CorrelationId: "corr",
                IdempotencyKey: "inst-1:decided");
        var sealedLine = AuditChain.Seal(entry, 7, new string('a', 64));

        var record = AuditChain.Parse(sealedLine.Line, "seg", 3);

        Assert.Equal(7, record.Sequence);
        Assert.Equal(new string('a', 64), record.PreviousHash);
        Assert.Equal(sealedLine.Hash, record.Hash);
        Assert.Equal(entry.Actor, record.Entry.Actor);
        Assert.Equal(entry.Timestamp, record.Entry.Timestamp);
        Assert.Equal("Approved", record.Entry.After!.Value.GetProperty("decision").GetString());
        Assert.Equal("inst-1:decided", record.Entry.IdempotencyKey);
    }

    [Fact]
    public void Verify_ChangedValueInOneEntry_BreaksAtThatEntry()
    {
        var lines = BuildChain(6);
        lines[3] = lines[3].Replace("test.action", "test.actioN", StringComparison.Ordinal);

        var result = AuditChain.Verify(AsLines(lines));

        Assert.False(result.Intact);
        Assert.Equal(4, result.FirstBrokenLink!.Sequence);
        Assert.Equal(4, result.FirstBrokenLink.LineNumber);
        Assert.Equal(3, result.EntriesChecked);
        Assert.Contains("modified", result.FirstBrokenLink.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RemovedEntry_BreaksAtTheGap()
    {
        var lines = BuildChain(5);
        lines.RemoveAt(2);

        var result = AuditChain.Verify(AsLines(lines));

        Assert.False(result.Intact);
        Assert.Equal(3, result.FirstBrokenLink!.Sequence);
        Assert.Contains("sequence", result.FirstBrokenLink.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_EntryResealedWithAWrongPrevious_ReportsTheBrokenLink()
    {
        var lines = BuildChain(3);
        // A forger re-seals entry 2 with a consistent hash but cannot know to link it correctly.
        var forged = AuditChain.Seal(AuditChain.Parse(lines[1], "s", 2).Entry with { Actor = "user:mallory" }, 2, new string('f', 64));
        lines[1] = forged.Line;

        var result = AuditChain.Verify(AsLines(lines));

        Assert.Equal(2, result.FirstBrokenLink!.Sequence);
        Assert.Contains("previous-hash", result.FirstBrokenLink.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ChainAcrossSegments_IsIntact()
    {
        var lines = BuildChain(5);
        var segmented = AsLines(lines.Take(2), "chain/00000001.jsonl").Concat(AsLines(lines.Skip(2), "chain/00000002.jsonl"));

        Assert.True(AuditChain.Verify(segmented).Intact);
    }

    [Fact]
    public void SplitLines_TrailingNewline_DoesNotAddAnEmptyLine()
    {
        var lines = AuditChain.SplitLines("a\nb\n"u8);

        Assert.Equal(["a", "b"], lines);
    }

    /// <summary>Any single-byte change anywhere in any entry of a stored chain is detected at that very entry.</summary>
    [Property(MaxTest = 300)]
    public bool AnySingleByteChange_IsDetectedAtThatEntry(int seed, int entryPick, int bytePick, byte replacement)
    {
        var random = new Random(seed);
        var count = random.Next(1, 8);
        var lines = BuildChain(count, i => new AuditEntry(
            "user:" + RandomText(random), "a." + RandomText(random), "inst-" + i, "dmp:" + RandomText(random), T0.AddSeconds(random.Next()),
            After: random.Next(2) == 0 ? null : JsonSerializer.SerializeToElement(new { text = RandomText(random), n = random.Next() })));
        var target = Math.Abs(entryPick % count);
        var lineBytes = Encoding.UTF8.GetBytes(lines[target]);
        var position = Math.Abs(bytePick % lineBytes.Length);
        if (lineBytes[position] == replacement)
        {
            return true; // Not a change.
        }

        lineBytes[position] = replacement;
        var stored = new List<byte>();
        for (var i = 0; i < count; i++)
        {
            stored.AddRange(i == target ? lineBytes : Encoding.UTF8.GetBytes(lines[i]));
            stored.Add((byte)'\n');
        }

        var split = AuditChain.SplitLines(stored.ToArray());
        var result = AuditChain.Verify(split.Select((text, i) => new AuditLine("seg", i + 1, text)));

        return !result.Intact && result.FirstBrokenLink!.Sequence == target + 1 && result.FirstBrokenLink.LineNumber == target + 1;
    }

    private static string RandomText(Random random)
    {
        const string alphabet = "abcXYZ019 -_:/\"\\éü€\u0001";
        var length = random.Next(0, 12);
        return string.Concat(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]));
    }
}
