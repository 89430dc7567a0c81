using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Storage.Audit;

/// <summary>Settings of <see cref="AppendBlobAuditLog"/>.</summary>
public sealed record AppendBlobAuditLogOptions
{
    /// <summary>Blob-name prefix of the segments.</summary>
    public string SegmentPrefix { get; init; } = "chain/";

    /// <summary>Entries per segment before a new append blob starts (an append blob holds at most 50,000 blocks).</summary>
    public int SegmentMaxEntries { get; init; } = 10_000;

    /// <summary>Attempts when other writers keep winning the append race.</summary>
    public int MaxAppendAttempts { get; init; } = 50;
}

/// <summary>
/// <see cref="IAuditLog"/> on append blobs (plain Azure.Storage.Blobs: the same code runs on Azurite and in Azure, where
/// the container gets a time-based immutability policy). Entries are chained by <see cref="AuditChain"/>, one line per
/// entry, in numbered segments <c>{prefix}{00000001}.jsonl</c>; the first entry of a segment links to the last of
/// the previous one. Segments are numbered rather than dated so that chain order never depends on clocks.
/// <para>
/// Concurrency: each append is conditional on the append position the writer last saw
/// (<c>If-Append-Position-Equal</c>); a writer that loses the race re-reads the tail and tries again, so any number of
/// processes keep one valid chain. Idempotency: an entry whose <see cref="AuditEntry.IdempotencyKey"/> already appears
/// in the current (or, right after a rollover, the previous) segment is not appended again.
/// </para>
/// </summary>
public sealed class AppendBlobAuditLog : IAuditLog
{
    private const int MaxLineBytes = 4 * 1024 * 1024 - 1;
    private readonly BlobContainerClient _container;
    private readonly AppendBlobAuditLogOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Tail? _tail;
    private bool _containerReady;

    public AppendBlobAuditLog(BlobContainerClient container, AppendBlobAuditLogOptions? options = null)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        _options = options ?? new AppendBlobAuditLogOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.SegmentMaxEntries, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.SegmentMaxEntries, 50_000);
    }

    public BlobContainerClient Container => _container;

    public async Task<AuditReceipt> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            for (var attempt = 1; ; attempt++)
            {
                var tail = _tail ??= await LoadTailAsync(cancellationToken).ConfigureAwait(false);
                if (entry.IdempotencyKey is { } key && tail.TryFindKey(key, out var existing))
                {
                    return existing with { Duplicate = true };
                }

                if (tail.SegmentIndex == 0 || tail.SegmentEntries >= _options.SegmentMaxEntries)
                {
                    if (!await TryCreateSegmentAsync(tail.SegmentIndex + 1, cancellationToken).ConfigureAwait(false))
                    {
                        // Another writer rolled over first: its segment is the new tail.
                        _tail = null;
                        continue;
                    }

                    tail = _tail = tail.NextSegment(SegmentName(tail.SegmentIndex + 1));
                }

                var sealedLine = AuditChain.Seal(entry, tail.LastSequence + 1, tail.LastHash);
                var bytes = Encoding.UTF8.GetBytes(sealedLine.Line + "\n");
                if (bytes.Length > MaxLineBytes)
                {
                    throw new PortRefusedException(
                        $"Audit entry '{entry.Action}' on '{entry.Subject}' is {bytes.Length} bytes; the limit is 4 MiB. "
                        + "Store large documents elsewhere and audit their hash.");
                }

                try
                {
                    using var stream = new MemoryStream(bytes);
                    await _container.GetAppendBlobClient(tail.SegmentName).AppendBlockAsync(stream, new AppendBlobAppendBlockOptions
                    {
                        Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = tail.Length },
                    }, cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException ex) when (IsLostRace(ex) && attempt < _options.MaxAppendAttempts)
                {
                    _tail = null;
                    // Spread competing writers out a little before they read the tail again.
                    await Task.Delay(Random.Shared.Next(5, 20 * Math.Min(attempt, 10)), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                catch
                {
                    // The outcome is unknown (the append may have landed): re-read the tail before the next append.
                    _tail = null;
                    throw;
                }

                var receipt = new AuditReceipt(sealedLine.Sequence, sealedLine.Hash, tail.SegmentName, Duplicate: false);
                _tail = tail.After(receipt, bytes.Length, entry.IdempotencyKey);
                return receipt;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async IAsyncEnumerable<AuditRecord> ReadAsync(
        long fromSequence = 1,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var line in ReadLinesAsync(cancellationToken).ConfigureAwait(false))
        {
            AuditRecord record;
            try
            {
                record = AuditChain.Parse(line.Text, line.Location, line.LineNumber);
            }
            catch (FormatException ex)
            {
                throw new PortRefusedException(
                    $"The audit trail is unreadable at {line.Location} line {line.LineNumber}: {ex.Message} Run 'gardien audit verify'.",
                    ex);
            }

            if (record.Sequence >= fromSequence)
            {
                yield return record;
            }
        }
    }

    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        var verifier = new AuditChainVerifier();
        await foreach (var line in ReadLinesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!verifier.Accept(line))
            {
                break;
            }
        }

        return verifier.Result;
    }

    /// <summary>True when the audit container exists.</summary>
    public async Task<bool> ExistsAsync(CancellationToken cancellationToken = default) =>
        (await _container.ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>All stored lines in chain order.</summary>
    public async IAsyncEnumerable<AuditLine> ReadLinesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!await ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            yield break;
        }

        foreach (var segment in await ListSegmentsAsync(cancellationToken).ConfigureAwait(false))
        {
            var content = await _container.GetBlobClient(segment).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            var lines = AuditChain.SplitLines(content.Value.Content.ToMemory().Span);
            for (var i = 0; i < lines.Count; i++)
            {
                yield return new AuditLine(segment, i + 1, lines[i]);
            }
        }
    }

    private static bool IsLostRace(RequestFailedException ex) =>
        ex.Status == 412 || ex.ErrorCode == BlobErrorCode.AppendPositionConditionNotMet || ex.ErrorCode == BlobErrorCode.ConditionNotMet;

    private string SegmentName(long index) => _options.SegmentPrefix + index.ToString("D8", CultureInfo.InvariantCulture) + ".jsonl";

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (!_containerReady)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            _containerReady = true;
        }
    }

    private async Task<bool> TryCreateSegmentAsync(long index, CancellationToken cancellationToken)
    {
        try
        {
            await _container.GetAppendBlobClient(SegmentName(index)).CreateAsync(new AppendBlobCreateOptions
            {
                Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/x-ndjson" },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    private async Task<List<string>> ListSegmentsAsync(CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = _options.SegmentPrefix }, cancellationToken)
            .ConfigureAwait(false))
        {
            if (item.Name.EndsWith(".jsonl", StringComparison.Ordinal))
            {
                names.Add(item.Name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    private async Task<Tail> LoadTailAsync(CancellationToken cancellationToken)
    {
        var segments = await ListSegmentsAsync(cancellationToken).ConfigureAwait(false);
        if (segments.Count == 0)
        {
            return Tail.Empty();
        }

        var current = segments[^1];
        var currentIndex = long.Parse(current[_options.SegmentPrefix.Length..^".jsonl".Length], CultureInfo.InvariantCulture);
        var (currentRecords, length) = await ReadSegmentAsync(current, cancellationToken).ConfigureAwait(false);
        var keys = new Dictionary<string, AuditReceipt>(StringComparer.Ordinal);
        var previousKeys = new Dictionary<string, AuditReceipt>(StringComparer.Ordinal);
        var last = currentRecords.LastOrDefault();
        // A freshly created (empty) segment links to the previous one: its last entry is the chain's tail,
        // and its idempotency keys still count.
        for (var i = segments.Count - 2; last is null && i >= 0; i--)
        {
            var (previousRecords, _) = await ReadSegmentAsync(segments[i], cancellationToken).ConfigureAwait(false);
            AddKeys(previousKeys, previousRecords);
            last = previousRecords.LastOrDefault();
        }

        AddKeys(keys, currentRecords);
        return new Tail(
            currentIndex,
            current,
            length,
            currentRecords.Count,
            last?.Sequence ?? 0,
            last?.Hash ?? AuditChain.GenesisHash,
            keys,
            previousKeys);

        static void AddKeys(Dictionary<string, AuditReceipt> keys, IEnumerable<AuditRecord> records)
        {
            foreach (var record in records)
            {
                if (record.Entry.IdempotencyKey is { } key)
                {
                    keys.TryAdd(key, new AuditReceipt(record.Sequence, record.Hash, record.Location, Duplicate: false));
                }
            }
        }
    }

    private async Task<(List<AuditRecord> Records, long Length)> ReadSegmentAsync(string segment, CancellationToken cancellationToken)
    {
        var content = await _container.GetBlobClient(segment).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
        var bytes = content.Value.Content.ToMemory();
        var lines = AuditChain.SplitLines(bytes.Span);
        var records = new List<AuditRecord>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            try
            {
                records.Add(AuditChain.Parse(lines[i], segment, i + 1));
            }
            catch (FormatException ex)
            {
                // Appending after a damaged tail would hide the damage behind a valid-looking link: refuse, and say how to repair.
                throw new AuditTrailDamagedException(
                    $"The audit trail is damaged at {_container.Name}/{segment} line {i + 1} ({ex.Message.TrimEnd('.')}); "
                    + "nothing more is appended until it is repaired. "
                    + (i == lines.Count - 1
                        ? "It is the last line, typically an append torn by a crash: restore the segment from its backup or immutable "
                            + "copy, or, if the line is only a partial write (not a whole entry), "
                            + "rewrite the segment without it and keep the damaged original as evidence. "
                        : "Restore the segment from its backup or immutable copy, keeping the damaged one as evidence. ")
                    + "Then verify it ('gardien audit verify'): the workflows waiting for it resume once it verifies again.",
                    ex);
            }
        }

        return (records, bytes.Length);
    }

    /// <summary>What a writer knows about the end of the chain; idempotency keys of the current and previous segment.</summary>
    private sealed record Tail(
        long SegmentIndex,
        string SegmentName,
        long Length,
        int SegmentEntries,
        long LastSequence,
        string LastHash,
        Dictionary<string, AuditReceipt> Keys,
        Dictionary<string, AuditReceipt> PreviousKeys)
    {
        public static Tail Empty() =>
            new(0, string.Empty, 0, 0, 0, AuditChain.GenesisHash, new(StringComparer.Ordinal), new(StringComparer.Ordinal));

        public bool TryFindKey(string key, out AuditReceipt receipt) =>
            Keys.TryGetValue(key, out receipt!) || PreviousKeys.TryGetValue(key, out receipt!);

        public Tail NextSegment(string name) => this with
        {
            SegmentIndex = SegmentIndex + 1,
            SegmentName = name,
            Length = 0,
            SegmentEntries = 0,
            Keys = new(StringComparer.Ordinal),
            PreviousKeys = Keys,
        };

        public Tail After(AuditReceipt receipt, int appendedBytes, string? idempotencyKey)
        {
            if (idempotencyKey is not null)
            {
                Keys[idempotencyKey] = receipt;
            }

            return this with
            {
                Length = Length + appendedBytes,
                SegmentEntries = SegmentEntries + 1,
                LastSequence = receipt.Sequence,
                LastHash = receipt.Hash,
            };
        }
    }
}
