using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Gardien.Azure.Graph;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Users.Item.SendMail;
using Microsoft.Graph.Users.Item.Teamwork.SendActivityNotification;

namespace Gardien.Azure.Teams;

/// <summary>
/// <see cref="INotifier"/> for Azure: each recipient gets a Teams activity-feed notification (Graph
/// <c>sendActivityNotification</c>, <c>systemDefault</c> type, linking to the approval page through the Gardien Teams
/// app), or a mail from <see cref="TeamsNotificationOptions.MailSender"/> (Graph <c>sendMail</c>) when the feed is off
/// or fails (app not installed, person not in the directory, Teams refusing or down). Messages of the kinds in
/// <see cref="TeamsNotificationOptions.CardKinds"/> are also posted as an Adaptive Card (Approve / Reject / Open) to the
/// Teams Workflows webhook whose URL is in Key Vault; if that fails, every recipient is mailed.
/// <para>
/// Idempotent by <see cref="Notification.DeduplicationKey"/>: each delivery (per recipient, and the card) is recorded in
/// the registry's processed-event set after it succeeded, so a retry sends only what is still missing and a repeated
/// call reports <c>Duplicate = true</c>. A crash between a delivery and its record can deliver twice; nothing is lost.
/// When a recipient could be reached by no channel the call throws a transient <see cref="PortException"/>, so the
/// activity retries. Neither message bodies nor the webhook URL are logged.
/// </para>
/// </summary>
public sealed class TeamsNotifier : INotifier
{
    private readonly GraphServiceClient _client;
    private readonly IDirectory _directory;
    private readonly ISecretStore _secrets;
    private readonly IGovernanceRegistry _ledger;
    private readonly HttpClient _webhook;
    private readonly TeamsNotificationOptions _options;
    private readonly GraphCaller _caller;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public TeamsNotifier(
        GraphServiceClient client,
        IDirectory directory,
        ISecretStore secrets,
        IGovernanceRegistry ledger,
        HttpClient webhookClient,
        TeamsNotificationOptions options,
        GraphOptions graphOptions,
        TimeProvider? timeProvider = null,
        ILogger<TeamsNotifier>? logger = null)
        : this(client, directory, secrets, ledger, webhookClient, options, graphOptions, timeProvider, logger, delay: null)
    {
    }

    /// <param name="delay">Tests only: how to wait between attempts.</param>
    internal TeamsNotifier(
        GraphServiceClient client,
        IDirectory directory,
        ISecretStore secrets,
        IGovernanceRegistry ledger,
        HttpClient webhookClient,
        TeamsNotificationOptions options,
        GraphOptions graphOptions,
        TimeProvider? timeProvider,
        ILogger<TeamsNotifier>? logger,
        Func<TimeSpan, CancellationToken, Task>? delay)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(webhookClient);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(graphOptions);
        _client = client;
        _directory = directory;
        _secrets = secrets;
        _ledger = ledger;
        _webhook = webhookClient;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _delay = delay ?? GraphCaller.RealDelay(_time);
        _caller = new GraphCaller(graphOptions, _delay);
    }

    public async Task<NotificationReceipt> SendAsync(Notification notification, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notification);
        ArgumentException.ThrowIfNullOrWhiteSpace(notification.DeduplicationKey);
        var recipients = notification.To.Where(r => !string.IsNullOrWhiteSpace(r))
            .Select(r => r.Trim())
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        if (recipients.Count == 0)
        {
            throw new PortRefusedException($"Notification '{notification.Subject}' has no recipient.");
        }

        var messageId = MessageIdFor(notification.DeduplicationKey);
        var texts = NotificationTexts.For(notification.Language);
        var delivered = false;
        var unreached = new List<string>();

        foreach (var recipient in recipients)
        {
            var key = LedgerKey(notification, "to", recipient);
            if (await _ledger.IsEventProcessedAsync(key, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            var user = await ResolveAsync(recipient, cancellationToken).ConfigureAwait(false);
            var reached = _options.ActivityFeed
                && !string.IsNullOrWhiteSpace(_options.TeamsAppId)
                && user is not null
                && await TrySendActivityAsync(user, notification, texts, cancellationToken).ConfigureAwait(false);
            reached = reached
                || await TryMailAsync(recipient, user, notification, texts, messageId, cancellationToken).ConfigureAwait(false);
            if (reached)
            {
                await _ledger.TryMarkEventProcessedAsync(key, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                delivered = true;
            }
            else
            {
                unreached.Add(recipient);
            }
        }

        if (await WantsCardAsync(notification, cancellationToken).ConfigureAwait(false) is { } cardKey)
        {
            if (await TryPostCardAsync(notification, texts, cancellationToken).ConfigureAwait(false))
            {
                await _ledger.TryMarkEventProcessedAsync(cardKey, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                delivered = true;
            }
            else
            {
                // The card was Teams' way to reach them: without it, everyone not yet mailed gets the mail.
                foreach (var recipient in recipients.Except(unreached, StringComparer.OrdinalIgnoreCase))
                {
                    var user = await ResolveAsync(recipient, cancellationToken).ConfigureAwait(false);
                    if (await TryMailAsync(recipient, user, notification, texts, messageId, cancellationToken).ConfigureAwait(false))
                    {
                        delivered = true;
                    }
                    else
                    {
                        unreached.Add(recipient);
                    }
                }

                if (unreached.Count == 0)
                {
                    await _ledger.TryMarkEventProcessedAsync(cardKey, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        if (unreached.Count > 0)
        {
            throw new PortException(
                $"Notification '{notification.Subject}' reached nobody through Teams or mail for {unreached.Count} of {recipients.Count} "
                + $"recipient(s) ({string.Join(", ", unreached)}); the send will be retried.",
                isTransient: true);
        }

        return new NotificationReceipt(messageId, Duplicate: !delivered);
    }

    /// <summary>Stable per deduplication key, so a retry reports the same message.</summary>
    public static string MessageIdFor(string deduplicationKey) =>
        "gardien-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(deduplicationKey)))[..32];

    private static string LedgerKey(Notification notification, string channel, string recipient) =>
        "notification-"
            + Convert.ToHexStringLower(
                SHA256.HashData(
                    Encoding.UTF8.GetBytes($"{notification.DeduplicationKey}\n{channel}\n{recipient.ToUpperInvariant()}")))[..40];

    private async Task<string?> WantsCardAsync(Notification notification, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_options.WebhookSecretName) || !_options.EffectiveCardKinds.Contains(notification.Kind))
        {
            return null;
        }

        var key = LedgerKey(notification, "card", _options.WebhookSecretName);
        return await _ledger.IsEventProcessedAsync(key, cancellationToken).ConfigureAwait(false) ? null : key;
    }

    private async Task<DirectoryUser?> ResolveAsync(string recipient, CancellationToken cancellationToken)
    {
        try
        {
            return Guid.TryParse(recipient, out _)
                ? await _directory.GetUserAsync(recipient, cancellationToken).ConfigureAwait(false)
                : await _directory.FindUserAsync(recipient, cancellationToken).ConfigureAwait(false);
        }
        catch (PortException ex)
        {
            _logger.LogWarning(ex, "A notification recipient could not be looked up in the directory; mail is tried instead.");
            return null;
        }
    }

    private async Task<bool> TrySendActivityAsync(
        DirectoryUser user,
        Notification notification,
        NotificationTexts texts,
        CancellationToken cancellationToken)
    {
        var link = NotificationRendering.ActivityLink(
            _options.TeamsAppId!,
            _options.TabEntityId,
            notification,
            notification.Subject.Length > 50 ? notification.Subject[..50] : notification.Subject);
        if (link is null)
        {
            _logger.LogWarning(
                "The Teams link of notification {Kind} is too long for the activity feed; mail is used instead.", notification.Kind);
            return false;
        }

        // A new body per attempt: the SDK's backing store sends only properties changed since the last serialisation.
        SendActivityNotificationPostRequestBody NewBody() => new()
        {
            Topic = new TeamworkActivityTopic
            {
                Source = TeamworkActivityTopicSource.Text,
                Value = Shorten(notification.Subject, 200),
                WebUrl = link,
            },
            ActivityType = "systemDefault",
            PreviewText = new ItemBody { Content = Shorten(notification.Body, 150) },
            TeamsAppId = _options.TeamsAppId,
            TemplateParameters = [new Microsoft.Graph.Models.KeyValuePair
            {
                Name = "systemDefaultText",
                Value = texts.ActivityFor(notification.Kind),
            }],
        };
        try
        {
            await _caller.RunAsync(
                "send a Teams activity notification",
                ct => _client.Users[user.Id].Teamwork.SendActivityNotification.PostAsync(NewBody(), cancellationToken: ct),
                null,
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PortException ex)
        {
            // Typically the Gardien Teams app is not installed for this person (403/404): mail reaches them instead.
            _logger.LogWarning(
                "Teams activity notification {Kind} to user {UserId} failed ({Reason}); mail is tried instead.",
                notification.Kind,
                user.Id,
                ex.Message);
            return false;
        }
    }

    private async Task<bool> TryMailAsync(
        string recipient,
        DirectoryUser? user,
        Notification notification,
        NotificationTexts texts,
        string messageId,
        CancellationToken cancellationToken)
    {
        var key = LedgerKey(notification, "mail", recipient);
        if (await _ledger.IsEventProcessedAsync(key, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        var address = recipient.Contains('@', StringComparison.Ordinal) ? recipient : user?.Email;
        if (address is null)
        {
            _logger.LogWarning(
                "Notification {Kind}: recipient {Recipient} has no e-mail address in the directory.", notification.Kind, recipient);
            return false;
        }

        SendMailPostRequestBody NewMail() => new()
        {
            Message = new Message
            {
                Subject = notification.Subject,
                Body = new ItemBody { ContentType = BodyType.Text, Content = NotificationRendering.MailText(notification, texts) },
                ToRecipients = [new Recipient { EmailAddress = new EmailAddress { Address = address } }],
                InternetMessageHeaders = [new InternetMessageHeader { Name = "X-Gardien-Message-Id", Value = messageId }],
            },
            SaveToSentItems = false,
        };
        try
        {
            await _caller.RunAsync(
                "send a mail",
                ct => _client.Users[_options.MailSender].SendMail.PostAsync(NewMail(), cancellationToken: ct),
                null,
                cancellationToken).ConfigureAwait(false);
        }
        catch (PortException ex)
        {
            _logger.LogWarning(
                "Mail for notification {Kind} could not be sent from {Sender} ({Reason}).",
                notification.Kind,
                _options.MailSender,
                ex.Message);
            return false;
        }

        await _ledger.TryMarkEventProcessedAsync(key, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> TryPostCardAsync(Notification notification, NotificationTexts texts, CancellationToken cancellationToken)
    {
        Uri url;
        try
        {
            var value = await _secrets.GetSecretAsync(_options.WebhookSecretName!, cancellationToken).ConfigureAwait(false);
            if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out url!) || url.Scheme != Uri.UriSchemeHttps)
            {
                _logger.LogWarning(
                    "Key Vault secret {SecretName} does not hold an https:// webhook URL; the card is not posted.",
                    _options.WebhookSecretName);
                return false;
            }
        }
        catch (PortException ex)
        {
            _logger.LogWarning(
                "The Teams webhook URL could not be read from secret {SecretName} ({Reason}); the card is not posted.",
                _options.WebhookSecretName,
                ex.Message);
            return false;
        }

        var payload = NotificationRendering.AdaptiveCardMessage(notification, texts).ToJsonString();
        for (var attempt = 1; ; attempt++)
        {
            HttpStatusCode status;
            TimeSpan? retryAfter;
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(_options.WebhookTimeout);
                using var content = new StringContent(payload, Encoding.UTF8, "application/json");
                using var response = await _webhook.PostAsync(url, content, cts.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }

                status = response.StatusCode;
                retryAfter = response.Headers.RetryAfter is { } header ? header.Delta ?? (header.Date - _time.GetUtcNow()) : null;
            }
            catch (Exception ex) when (ex is HttpRequestException
                || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                _logger.LogWarning("The Teams webhook did not answer ({Reason}); the card is not posted.", ex.GetType().Name);
                return false;
            }

            var retryable = status is HttpStatusCode.TooManyRequests || (int)status >= 500;
            var wait = retryAfter ?? TimeSpan.FromSeconds(Math.Pow(2, attempt - 1));
            if (!retryable || attempt >= _caller.Options.MaxAttempts || wait > _caller.Options.MaxRetryDelay)
            {
                _logger.LogWarning("The Teams webhook answered {Status}; the card is not posted.", (int)status);
                return false;
            }

            await _delay(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    /// <summary>A plain HTTP client for the webhook (its URL carries its own signature; no token is sent).</summary>
    public static HttpClient CreateWebhookClient(HttpMessageHandler? handler = null)
    {
        var client = handler is null ? new HttpClient() : new HttpClient(handler);
        client.Timeout = Timeout.InfiniteTimeSpan;
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }
}
