using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Audit;

/// <summary>
/// The hash chain of the audit trail, independent of storage (format in docs/audit.md).
/// <para>
/// A stored line is the canonical JSON of the entry (members sorted: action, actor, after, before, correlationId,
/// idempotencyKey, instanceId, prev, seq, subject, timestamp; nulls omitted) with one more member appended last:
/// <c>,"hash":"&lt;sha256 hex&gt;"}</c>. The hash is SHA-256 over the UTF-8 bytes of the line with that member removed,
/// so any change to any byte of the entry, including <c>prev</c> and <c>seq</c>, changes the hash; <c>prev</c> is the
/// previous line's hash (64 zeros for the first), which chains the entries.
/// </para>
/// </summary>
public static class AuditChain
{
    /// <summary>The <c>prev</c> of the first entry.</summary>
    public static readonly string GenesisHash = new('0', 64);

    private const string HashMemberPrefix = ",\"hash\":\"";
    private const string HashMemberSuffix = "\"}";
    private static readonly int HashMemberLength = HashMemberPrefix.Length + 64 + HashMemberSuffix.Length;

    /// <summary>Builds the stored line for an entry at <paramref name="sequence"/> after <paramref name="previousHash"/>.</summary>
    public static SealedAuditLine Seal(AuditEntry entry, long sequence, string previousHash)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        if (!IsHash(previousHash))
        {
            throw new ArgumentException("The previous hash must be 64 lower-case hex digits.", nameof(previousHash));
        }

        var body = BuildBody(entry, sequence, previousHash);
        var hash = HashOf(body);
        var line = body[..^1] + HashMemberPrefix + hash + HashMemberSuffix;
        return new SealedAuditLine(sequence, previousHash, hash, line);
    }

    /// <summary>SHA-256 (lower-case hex) of a body's UTF-8 bytes.</summary>
    public static string HashOf(string body) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));

    /// <summary>
    /// Splits a stored line into the hashed body and the stored hash. False when the line does not end with a well-formed
    /// hash member.
    /// </summary>
    public static bool TrySplit(string line, out string body, out string storedHash)
    {
        ArgumentNullException.ThrowIfNull(line);
        body = string.Empty;
        storedHash = string.Empty;
        if (line.Length < HashMemberLength + 2 || !line.EndsWith(HashMemberSuffix, StringComparison.Ordinal))
        {
            return false;
        }

        var memberStart = line.Length - HashMemberLength;
        if (string.CompareOrdinal(line, memberStart, HashMemberPrefix, 0, HashMemberPrefix.Length) != 0)
        {
            return false;
        }

        var hash = line.Substring(memberStart + HashMemberPrefix.Length, 64);
        if (!IsHash(hash))
        {
            return false;
        }

        body = line[..memberStart] + "}";
        storedHash = hash;
        return true;
    }

    /// <summary>Parses a stored line (without checking its hash: use <see cref="AuditChainVerifier"/> for that).</summary>
    /// <exception cref="FormatException">The line is not an audit entry.</exception>
    public static AuditRecord Parse(string line, string location, int lineNumber)
    {
        if (!TrySplit(line, out var body, out var hash))
        {
            throw new FormatException($"{location} line {lineNumber}: not an audit entry (no trailing hash member).");
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var entry = new AuditEntry(
                Actor: RequiredString(root, "actor"),
                Action: RequiredString(root, "action"),
                InstanceId: RequiredString(root, "instanceId"),
                Subject: RequiredString(root, "subject"),
                Timestamp: DateTimeOffset.Parse(
                    RequiredString(root, "timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                Before: root.TryGetProperty("before", out var before) ? before.Clone() : null,
                After: root.TryGetProperty("after", out var after) ? after.Clone() : null,
                CorrelationId: OptionalString(root, "correlationId"),
                IdempotencyKey: OptionalString(root, "idempotencyKey"));
            var sequence = root.GetProperty("seq").GetInt64();
            var previous = RequiredString(root, "prev");
            return new AuditRecord(sequence, previous, hash, entry, location, lineNumber);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new FormatException($"{location} line {lineNumber}: not an audit entry ({ex.Message}).", ex);
        }
    }

    /// <summary>Verifies lines in chain order (across blobs); stops at the first broken link.</summary>
    public static AuditVerification Verify(IEnumerable<AuditLine> lines, string? startPreviousHash = null, long startSequence = 1)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var verifier = new AuditChainVerifier(startPreviousHash, startSequence);
        foreach (var line in lines)
        {
            if (!verifier.Accept(line))
            {
                break;
            }
        }

        return verifier.Result;
    }

    /// <summary>
    /// Splits stored bytes into lines on '\n' only (a tampered '\r' stays part of its line and is detected).
    /// A trailing newline ends the last line; it does not start an empty one.
    /// </summary>
    public static IReadOnlyList<string> SplitLines(ReadOnlySpan<byte> utf8)
    {
        var lines = new List<string>();
        while (!utf8.IsEmpty)
        {
            var end = utf8.IndexOf((byte)'\n');
            if (end < 0)
            {
                lines.Add(Encoding.UTF8.GetString(utf8));
                break;
            }

            lines.Add(Encoding.UTF8.GetString(utf8[..end]));
            utf8 = utf8[(end + 1)..];
        }

        return lines;
    }

    internal static bool IsHash(string? value) =>
        value is { Length: 64 } && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    private static string BuildBody(AuditEntry entry, long sequence, string previousHash)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, CanonicalJson.Options))
        {
            // Members in ordinal order, which is what CanonicalJson would produce for the same object.
            writer.WriteStartObject();
            writer.WriteString("action", entry.Action);
            writer.WriteString("actor", entry.Actor);
            if (entry.After is { } after)
            {
                writer.WritePropertyName("after");
                CanonicalJson.Write(writer, after);
            }

            if (entry.Before is { } before)
            {
                writer.WritePropertyName("before");
                CanonicalJson.Write(writer, before);
            }

            if (entry.CorrelationId is not null)
            {
                writer.WriteString("correlationId", entry.CorrelationId);
            }

            if (entry.IdempotencyKey is not null)
            {
                writer.WriteString("idempotencyKey", entry.IdempotencyKey);
            }

            writer.WriteString("instanceId", entry.InstanceId);
            writer.WriteString("prev", previousHash);
            writer.WriteNumber("seq", sequence);
            writer.WriteString("subject", entry.Subject);
            writer.WriteString(
                "timestamp", entry.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string RequiredString(JsonElement root, string name) =>
        root.GetProperty(name).GetString() ?? throw new FormatException($"'{name}' is null.");

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.GetString() : null;
}

/// <summary>A stored audit line ready to append.</summary>
public sealed record SealedAuditLine(long Sequence, string PreviousHash, string Hash, string Line);

/// <summary>One stored line and where it was read from.</summary>
public sealed record AuditLine(string Location, int LineNumber, string Text);

/// <summary>
/// Incremental chain verification: feed lines in order; the first broken link stops acceptance.
/// Checks, for each line: trailing hash member well formed; hash equals SHA-256 of the body (content unchanged);
/// body parses; <c>seq</c> is the next number; <c>prev</c> equals the previous line's hash.
/// </summary>
public sealed class AuditChainVerifier(string? startPreviousHash = null, long startSequence = 1)
{
    private string _previousHash = startPreviousHash ?? AuditChain.GenesisHash;
    private long _nextSequence = startSequence;
    private long _checked;
    private BrokenLink? _broken;

    public AuditVerification Result =>
        new(_broken is null, _checked, _checked == 0 && _broken is null ? startPreviousHash : _previousHash, _broken);

    /// <summary>The last verified record, when the line parsed (useful to callers that also read).</summary>
    public AuditRecord? LastRecord { get; private set; }

    /// <summary>True when the line extends the chain; false (and <see cref="Result"/> names the break) otherwise.</summary>
    public bool Accept(AuditLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (_broken is not null)
        {
            return false;
        }

        if (!AuditChain.TrySplit(line.Text, out var body, out var storedHash))
        {
            return Break(line, "malformed line: it does not end with a well-formed \"hash\" member", null, Truncate(line.Text));
        }

        var computed = AuditChain.HashOf(body);
        if (!string.Equals(computed, storedHash, StringComparison.Ordinal))
        {
            return Break(line, "content does not match its hash: the entry was modified", storedHash, computed);
        }

        AuditRecord record;
        try
        {
            record = AuditChain.Parse(line.Text, line.Location, line.LineNumber);
        }
        catch (FormatException ex)
        {
            return Break(line, ex.Message, null, null);
        }

        if (record.Sequence != _nextSequence)
        {
            return Break(line, "sequence out of order: an entry was removed, inserted or reordered",
                _nextSequence.ToString(CultureInfo.InvariantCulture), record.Sequence.ToString(CultureInfo.InvariantCulture));
        }

        if (!string.Equals(record.PreviousHash, _previousHash, StringComparison.Ordinal))
        {
            return Break(line, "previous-hash link broken: the entry does not follow the previous one", _previousHash, record.PreviousHash);
        }

        _previousHash = storedHash;
        _nextSequence++;
        _checked++;
        LastRecord = record;
        return true;
    }

    private bool Break(AuditLine line, string problem, string? expected, string? actual)
    {
        _broken = new BrokenLink(line.Location, line.LineNumber, _nextSequence, problem, expected, actual);
        return false;
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
