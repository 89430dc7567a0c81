using System.Text.Json;
using Gardien.Workflows.Ports;

namespace Gardien.Local.Notifications;

/// <summary>Reads the local inbox written by <see cref="InboxNotifier"/> (for the local host's HTTP API and tests).</summary>
public sealed class InboxReader(string inboxPath)
{
    private readonly string _root = Path.GetFullPath(inboxPath);

    /// <summary>Recipient folders that hold at least one message.</summary>
    public IReadOnlyList<string> ListRecipients() =>
        System.IO.Directory.Exists(_root)
            ? [.. System.IO.Directory.EnumerateDirectories(_root)
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(name => !name.StartsWith('.'))
                .Order(StringComparer.Ordinal)]
            : [];

    /// <summary>
    /// Messages, oldest first; only those of <paramref name="recipient"/> (an address or folder name) when given.
    /// A message sent to several recipients appears once per recipient.
    /// </summary>
    public async Task<IReadOnlyList<InboxMessage>> ListAsync(string? recipient = null, CancellationToken cancellationToken = default)
    {
        if (!System.IO.Directory.Exists(_root))
        {
            return [];
        }

        var folders = recipient is null
            ? ListRecipients()
            : [InboxNotifier.RecipientFolder(recipient)];
        var messages = new List<InboxMessage>();
        foreach (var folder in folders)
        {
            var path = Path.Combine(_root, folder);
            if (!System.IO.Directory.Exists(path))
            {
                continue;
            }

            foreach (var file in System.IO.Directory.EnumerateFiles(path, "*.json"))
            {
                if (await ReadFileAsync(file, folder, cancellationToken).ConfigureAwait(false) is { } message)
                {
                    messages.Add(message);
                }
            }
        }

        return [.. messages.OrderBy(m => m.SentAt).ThenBy(m => m.FilePath, StringComparer.Ordinal)];
    }

    /// <summary>The message with this id (the first recipient's copy), or null.</summary>
    public async Task<InboxMessage?> GetAsync(string messageId, CancellationToken cancellationToken = default)
    {
        var all = await ListAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return all.FirstOrDefault(m => string.Equals(m.MessageId, messageId, StringComparison.Ordinal));
    }

    private static async Task<InboxMessage?> ReadFileAsync(string file, string folder, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var stored = await JsonSerializer.DeserializeAsync<InboxNotifier.StoredMessage>(stream, InboxNotifier.Json, cancellationToken)
                .ConfigureAwait(false);
            return stored is null
                ? null
                : new InboxMessage(stored.MessageId, stored.Kind, stored.To, stored.Subject, stored.Body,
                    [.. stored.Links.Select(l => new NotificationLink(l.Label, new Uri(l.Url)))],
                    stored.CorrelationId, stored.DeduplicationKey, stored.SentAt, folder, file);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UriFormatException)
        {
            // A file someone edited by hand or a half-written temp file: skip it rather than break the inbox view.
            return null;
        }
    }
}
