using Gardien.Workflows.Ports;

namespace Gardien.Local.Notifications;

/// <summary>A message as stored in the local inbox (one JSON file per recipient, plus a readable .md beside it).</summary>
/// <param name="Recipient">The inbox folder the copy sits in (a normalised recipient).</param>
/// <param name="FilePath">Full path of the JSON file.</param>
public sealed record InboxMessage(
    string MessageId,
    NotificationKind Kind,
    IReadOnlyList<string> To,
    string Subject,
    string Body,
    IReadOnlyList<NotificationLink> Links,
    string CorrelationId,
    string DeduplicationKey,
    DateTimeOffset SentAt,
    string Recipient,
    string FilePath);
