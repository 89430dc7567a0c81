namespace Gardien.Workflows.Ports;

/// <summary>
/// Sends notifications (e-mail, Teams, the local inbox). Idempotent by <see cref="Notification.DeduplicationKey"/>:
/// sending twice with the same key delivers once and returns <c>Duplicate = true</c> the second time, so an activity retry
/// never spams an approver. Derive the key from the instance id and the step ("{instanceId}:reminder:2").
/// </summary>
public interface INotifier
{
    /// <summary>
    /// Delivers <paramref name="notification"/> once per deduplication key; throws a <see cref="PortException"/> when it cannot.
    /// </summary>
    Task<NotificationReceipt> SendAsync(Notification notification, CancellationToken cancellationToken = default);
}

/// <summary>What a message is for; adapters may render kinds differently (an approval request as a card with buttons).</summary>
public enum NotificationKind
{
    /// <summary>Asks an approver to decide, with signed approve and reject links.</summary>
    ApprovalRequest,
    /// <summary>Reminds an approver who has not decided.</summary>
    Reminder,
    /// <summary>Hands an overdue approval to a delegate, or tells the steward it is overdue.</summary>
    Escalation,
    /// <summary>Tells the PI what was provisioned and granted.</summary>
    Summary,
    /// <summary>Tells the PI a plan, change or extension was not approved, and why.</summary>
    Rejection,
    /// <summary>Tells the PI a dataset reaches the end of its retention.</summary>
    RetentionNotice,
    /// <summary>Asks the PI to confirm who keeps access.</summary>
    AccessReview,
    /// <summary>Tells the steward (and others) something needs attention.</summary>
    Alert,
}

/// <param name="To">Recipients: e-mail addresses (directory ids are accepted by adapters that can resolve them).</param>
/// <param name="Body">Plain text or Markdown.</param>
/// <param name="CorrelationId">The workflow instance id, for tracing.</param>
/// <param name="DeduplicationKey">Stable per logical message; at most 200 characters.</param>
/// <param name="Language">The message's language ("en" or "fr", as the policy says): adapters render their own labels
/// (card buttons, footers) in it.</param>
public sealed record Notification(
    NotificationKind Kind,
    IReadOnlyList<string> To,
    string Subject,
    string Body,
    IReadOnlyList<NotificationLink> Links,
    string CorrelationId,
    string DeduplicationKey,
    string Language = "en");

/// <summary>A link in a message, e.g. the signed approve / reject links.</summary>
public sealed record NotificationLink(string Label, Uri Url);

/// <param name="MessageId">Id of the delivered message (the same on a duplicate send).</param>
public sealed record NotificationReceipt(string MessageId, bool Duplicate);
