using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Notifications;

/// <summary>
/// A message from the catalogue (<see cref="MessageCatalogue"/>), ready to send: what kind it is, its one-line subject, its
/// Markdown body (every value Gardien did not write already escaped) and its links, in <see cref="Language"/>.
/// </summary>
public sealed record Message(NotificationKind Kind, string Language, string Subject, string Body)
{
    public IReadOnlyList<NotificationLink> Links { get; init; } = [];
}

/// <summary>A message that could not be delivered after retries (also audited as <c>notification.failed</c>).</summary>
/// <param name="Step">The step that sent it: the last part of its deduplication key ("request", "reminder-2-…").</param>
/// <param name="Reason">Why, in one line (the port's message, or "it has no recipient").</param>
public sealed record NotificationFailure(NotificationKind Kind, IReadOnlyList<string> To, string Subject, string Step, string Reason);
