using System.Globalization;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.Teams;

/// <summary>
/// The adapter's own words around a message (card buttons, headings, the activity line, the mail footer), in the
/// message's language. The message itself (subject, body, link labels) comes from the workflows.
/// </summary>
public sealed record NotificationTexts(
    string Approve,
    string Reject,
    string Open,
    string Links,
    string Reference,
    string Recipients,
    string Footer,
    IReadOnlyDictionary<NotificationKind, string> Activity)
{
    public static NotificationTexts English { get; } = new(
        "Approve",
        "Reject",
        "Open",
        "Links",
        "Reference",
        "For",
        "Sent by Gardien, research data governance. Reference: {0}. Each approval link works once; do not forward this message.",
        new Dictionary<NotificationKind, string>
        {
            [NotificationKind.ApprovalRequest] = "asks for your approval",
            [NotificationKind.Reminder] = "reminds you of a decision to take",
            [NotificationKind.Escalation] = "passes a pending decision on to you",
            [NotificationKind.Summary] = "sent you a summary",
            [NotificationKind.Rejection] = "reports a refusal",
            [NotificationKind.RetentionNotice] = "sent you a retention notice",
            [NotificationKind.AccessReview] = "asks you to review access",
            [NotificationKind.Alert] = "raised an alert",
        });

    public static NotificationTexts French { get; } = new(
        "Approuver",
        "Refuser",
        "Ouvrir",
        "Liens",
        "Référence",
        "Pour",
        "Envoyé par Gardien, gouvernance des données de recherche. Référence : {0}. Chaque lien d'approbation ne sert qu'une fois ; "
        + "ne transférez pas ce message.",
        new Dictionary<NotificationKind, string>
        {
            [NotificationKind.ApprovalRequest] = "demande votre approbation",
            [NotificationKind.Reminder] = "vous rappelle une décision à prendre",
            [NotificationKind.Escalation] = "vous transmet une décision en attente",
            [NotificationKind.Summary] = "vous envoie un récapitulatif",
            [NotificationKind.Rejection] = "signale un refus",
            [NotificationKind.RetentionNotice] = "vous envoie un avis de conservation",
            [NotificationKind.AccessReview] = "vous demande de revoir les accès",
            [NotificationKind.Alert] = "signale une alerte",
        });

    /// <summary>French for "fr" and its regional forms, English otherwise.</summary>
    public static NotificationTexts For(string? language) =>
        language is not null
            && (language.Equals("fr", StringComparison.OrdinalIgnoreCase) || language.StartsWith("fr-", StringComparison.OrdinalIgnoreCase))
            ? French
            : English;

    public string ActivityFor(NotificationKind kind) => Activity.TryGetValue(kind, out var text) ? text : Activity[NotificationKind.Alert];

    public string FooterFor(string reference) => string.Format(CultureInfo.InvariantCulture, Footer, reference);
}
