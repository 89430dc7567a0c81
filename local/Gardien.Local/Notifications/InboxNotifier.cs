using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Local.Notifications;

/// <summary>
/// <see cref="INotifier"/> that delivers to a local inbox folder and logs each message:
/// <c>{inbox}/{recipient}/{yyyyMMddTHHmmssfff}-{kind}-{messageId}.json</c> plus a readable <c>.md</c> beside it.
/// Idempotent by deduplication key: the first send claims <c>{inbox}/.sent/{messageId}.json</c> (create-new, atomic);
/// a repeated send reuses its timestamp, rewrites any missing copy and reports <c>Duplicate = true</c>.
/// The message id is derived from the deduplication key, so it is stable across retries.
/// </summary>
public sealed class InboxNotifier(string inboxPath, TimeProvider? timeProvider = null, ILogger<InboxNotifier>? logger = null) : INotifier
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly string _root = Path.GetFullPath(inboxPath);
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    public string InboxPath => _root;

    public async Task<NotificationReceipt> SendAsync(Notification notification, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notification);
        ArgumentException.ThrowIfNullOrWhiteSpace(notification.DeduplicationKey);
        if (notification.To.Count == 0)
        {
            throw new PortRefusedException($"Notification '{notification.Subject}' has no recipient.");
        }

        var messageId = MessageIdFor(notification.DeduplicationKey);
        var sentDir = Path.Combine(_root, ".sent");
        System.IO.Directory.CreateDirectory(sentDir);
        var marker = Path.Combine(sentDir, messageId + ".json");

        var sentAt = _time.GetUtcNow();
        var duplicate = false;
        try
        {
            await using var stream = new FileStream(marker, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            await JsonSerializer.SerializeAsync(
                stream, new SentMarker(messageId, notification.DeduplicationKey, sentAt), Json, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (File.Exists(marker))
        {
            duplicate = true;
            sentAt = await ReadMarkerAsync(marker, cancellationToken).ConfigureAwait(false) ?? sentAt;
        }

        var stored = new StoredMessage(messageId, notification.Kind, notification.To, notification.Subject, notification.Body,
            [.. notification.Links.Select(l => new StoredLink(l.Label, l.Url.ToString()))],
                notification.CorrelationId,
                notification.DeduplicationKey,
                sentAt);
        var fileName =
            $"{sentAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture)}-{KebabKind(notification.Kind)}"
            + $"-{messageId}";
        var wroteCopy = false;
        foreach (var recipient in notification.To.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var folder = Path.Combine(_root, RecipientFolder(recipient));
            System.IO.Directory.CreateDirectory(folder);
            var jsonPath = Path.Combine(folder, fileName + ".json");
            if (File.Exists(jsonPath))
            {
                continue;
            }

            await WriteAtomicallyAsync(Path.Combine(folder, fileName + ".md"), Encoding.UTF8.GetBytes(Markdown(stored)), cancellationToken)
                .ConfigureAwait(false);
            await WriteAtomicallyAsync(jsonPath, JsonSerializer.SerializeToUtf8Bytes(stored, Json), cancellationToken)
                .ConfigureAwait(false);
            wroteCopy = true;
        }

        if (duplicate && !wroteCopy)
        {
            _logger.LogDebug("Notification {MessageId} ({DeduplicationKey}) already delivered", messageId, notification.DeduplicationKey);
            return new NotificationReceipt(messageId, Duplicate: true);
        }

        _logger.LogInformation("[inbox] {Kind} to {To}: {Subject} ({MessageId}){Links}",
            notification.Kind, string.Join(", ", notification.To), notification.Subject, messageId,
            notification.Links.Count == 0 ? string.Empty : " " + string.Join(" ", notification.Links.Select(l => $"[{l.Label}] {l.Url}")));
        return new NotificationReceipt(messageId, Duplicate: duplicate);
    }

    /// <summary>Stable message id for a deduplication key.</summary>
    public static string MessageIdFor(string deduplicationKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(deduplicationKey)))[..20];

    /// <summary>The folder name of a recipient: lower case, characters outside [a-z0-9@._-] replaced by '_'.</summary>
    public static string RecipientFolder(string recipient)
    {
        var trimmed = recipient.Trim().ToLowerInvariant();
        if (trimmed.StartsWith("mailto:", StringComparison.Ordinal))
        {
            trimmed = trimmed[7..];
        }

        var builder = new StringBuilder(trimmed.Length);
        foreach (var c in trimmed)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '@' or '.' or '_' or '-' ? c : '_');
        }

        var folder = builder.ToString().Trim('.');
        return folder.Length == 0 ? "_" : folder;
    }

    private static string KebabKind(NotificationKind kind)
    {
        var name = kind.ToString();
        var builder = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }

    private static string Markdown(StoredMessage message)
    {
        var builder = new StringBuilder();
        // The subject and the addresses may quote a DMP: escaped, so they stay one line of text. The body is Markdown
        // composed by the workflows, which escape every value they did not write.
        builder.Append("# ").AppendLine(UntrustedText.MarkdownInline(message.Subject)).AppendLine();
        builder.Append("- Kind: ").AppendLine(message.Kind.ToString());
        builder.Append("- To: ").AppendLine(UntrustedText.MarkdownInline(string.Join(", ", message.To)));
        builder.Append("- Sent: ").AppendLine(message.SentAt.ToString("O", CultureInfo.InvariantCulture));
        builder.Append("- Correlation: ").AppendLine(UntrustedText.MarkdownInline(message.CorrelationId));
        builder.Append("- Message id: ").AppendLine(message.MessageId).AppendLine();
        builder.AppendLine(message.Body);
        if (message.Links.Count > 0)
        {
            builder.AppendLine();
            foreach (var link in message.Links)
            {
                builder.Append("- [").Append(UntrustedText.MarkdownInline(link.Label)).Append("](<").Append(link.Url).AppendLine(">)");
            }
        }

        return builder.ToString();
    }

    private static async Task<DateTimeOffset?> ReadMarkerAsync(string marker, CancellationToken cancellationToken)
    {
        // The first sender may still be writing the marker: retry briefly.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                await using var stream = new FileStream(marker, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                var read = await JsonSerializer.DeserializeAsync<SentMarker>(stream, Json, cancellationToken).ConfigureAwait(false);
                return read?.SentAt;
            }
            catch (Exception ex) when (ex is IOException or JsonException)
            {
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
        }

        return null;
    }

    private static async Task WriteAtomicallyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        await File.WriteAllBytesAsync(temp, content, cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
    }

    private sealed record SentMarker(string MessageId, string DeduplicationKey, DateTimeOffset SentAt);

    internal sealed record StoredLink(string Label, string Url);

    internal sealed record StoredMessage(
        string MessageId,
        NotificationKind Kind,
        IReadOnlyList<string> To,
        string Subject,
        string Body,
        IReadOnlyList<StoredLink> Links,
        string CorrelationId,
        string DeduplicationKey,
        DateTimeOffset SentAt);
}
