using Gardien.Azure.Configuration;
using Gardien.Azure.KeyVault;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.Teams;

/// <summary>Teams and mail notifications, section <c>Notifications</c> (<c>Notifications__MailSender</c>, ...).</summary>
public sealed class TeamsNotificationOptions
{
    public const string SectionName = "Notifications";

    /// <summary>
    /// The mailbox (user principal name or object id) messages are mailed from when Teams delivery fails. The identity needs
    /// <c>Mail.Send</c>.
    /// </summary>
    public string? MailSender { get; set; }

    /// <summary>
    /// Send each recipient a Teams activity-feed notification (needs the Gardien Teams app installed for them, and
    /// <c>TeamsActivity.Send</c>).
    /// </summary>
    public bool ActivityFeed { get; set; } = true;

    /// <summary>
    /// The <c>id</c> of the Gardien Teams app manifest (functions/Gardien.Functions/teams-app/manifest.json). Required with
    /// <see cref="ActivityFeed"/>.
    /// </summary>
    public string? TeamsAppId { get; set; }

    /// <summary>The static tab of the Teams app that opens the approval page (the manifest's <c>entityId</c>).</summary>
    public string TabEntityId { get; set; } = "approvals";

    /// <summary>
    /// Key Vault secret holding the URL of a Teams Workflows webhook ("When a Teams webhook request is received") that
    /// posts an Adaptive Card to the stewards' channel. Empty: no card.
    /// </summary>
    public string? WebhookSecretName { get; set; }

    /// <summary>The kinds of message that also go to the webhook as an Adaptive Card.</summary>
    public IList<NotificationKind> CardKinds { get; } = [];

    /// <summary>The kinds posted as cards when <see cref="CardKinds"/> is left empty: the messages that ask someone to act.</summary>
    public static IReadOnlyList<NotificationKind> DefaultCardKinds { get; } =
        [
            NotificationKind.ApprovalRequest,
            NotificationKind.Reminder,
            NotificationKind.Escalation,
            NotificationKind.RetentionNotice,
            NotificationKind.AccessReview,
        ];

    /// <summary>Time allowed for one webhook request.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public IReadOnlyCollection<NotificationKind> EffectiveCardKinds => CardKinds.Count > 0 ? [.. CardKinds] : DefaultCardKinds;
}

internal sealed class TeamsNotificationOptionsValidator : IValidateOptions<TeamsNotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, TeamsNotificationOptions options)
    {
        var errors = new OptionsErrors(TeamsNotificationOptions.SectionName);
        if (string.IsNullOrWhiteSpace(options.MailSender))
        {
            errors.Add(
                nameof(TeamsNotificationOptions.MailSender),
                "is required: the mailbox (e.g. gardien@institute.example) that mails a message when Teams delivery fails.");
        }

        if (options.ActivityFeed && !Guid.TryParse(options.TeamsAppId, out _))
        {
            errors.Add(
                nameof(TeamsNotificationOptions.TeamsAppId),
                $"'{options.TeamsAppId}' must be the id (a GUID) of the Gardien Teams app manifest while Notifications__ActivityFeed is "
                + "true.");
        }

        if (string.IsNullOrWhiteSpace(options.TabEntityId))
        {
            errors.Add(nameof(TeamsNotificationOptions.TabEntityId), "is required (the entityId of the Teams app's approvals tab).");
        }

        if (!string.IsNullOrWhiteSpace(options.WebhookSecretName) && !KeyVaultSecretStore.IsValidSecretName(options.WebhookSecretName))
        {
            errors.Add(
                nameof(TeamsNotificationOptions.WebhookSecretName),
                $"'{options.WebhookSecretName}' is not a valid Key Vault secret name: use 1-127 letters, digits and hyphens.");
        }

        errors.RequirePositive(nameof(TeamsNotificationOptions.WebhookTimeout), options.WebhookTimeout, TimeSpan.FromMinutes(2));
        return errors.Result();
    }
}
