using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.Teams;

/// <summary>
/// How a <see cref="Notification"/> looks in Teams and in a mail: buttons, the Adaptive Card, the mail text, the activity-feed link.
/// </summary>
public static class NotificationRendering
{
    /// <summary>Teams does not open an activity-feed link longer than this.</summary>
    public const int MaxActivityLinkLength = 1024;

    /// <summary>
    /// The buttons of a message: its links, the standard "Approve" / "Reject" labels in the message's language, and an
    /// "Open" button on the approval page (the signed link without its decision) after the first approval link.
    /// Other labels ("Confirm the disposal") are the workflow's own words and stay as they are.
    /// </summary>
    public static IReadOnlyList<NotificationLink> Buttons(Notification notification, NotificationTexts texts)
    {
        ArgumentNullException.ThrowIfNull(notification);
        ArgumentNullException.ThrowIfNull(texts);
        var buttons = new List<NotificationLink>();
        foreach (var link in notification.Links)
        {
            var decision = Decision(link.Url);
            var label = decision switch
            {
                "approve" when string.Equals(link.Label, "Approve", StringComparison.OrdinalIgnoreCase) => texts.Approve,
                "reject" when string.Equals(link.Label, "Reject", StringComparison.OrdinalIgnoreCase) => texts.Reject,
                _ => link.Label,
            };
            buttons.Add(new NotificationLink(label, link.Url));
        }

        if (ApprovalPage(notification) is { } page)
        {
            buttons.Add(new NotificationLink(texts.Open, page));
        }

        return buttons;
    }

    /// <summary>The approval page of the message's first signed link (<c>…/approvals/{token}</c>, no decision), or null.</summary>
    public static Uri? ApprovalPage(Notification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var link = notification.Links.FirstOrDefault(l => Decision(l.Url) is not null && ApprovalToken(l.Url) is not null);
        return link is null ? null : new Uri(link.Url.GetLeftPart(UriPartial.Path));
    }

    /// <summary>The token segment of an approval link (<c>…/approvals/{token}</c>), or null.</summary>
    public static string? ApprovalToken(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var segments = url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var index = Array.FindLastIndex(segments, s => string.Equals(s, "approvals", StringComparison.OrdinalIgnoreCase));
        return index >= 0 && index == segments.Length - 2 ? Uri.UnescapeDataString(segments[^1]) : null;
    }

    /// <summary>
    /// The Adaptive Card message a Teams Workflows webhook posts: title, body, who it is for, the reference, and one
    /// <c>Action.OpenUrl</c> per button.
    /// </summary>
    public static JsonObject AdaptiveCardMessage(Notification notification, NotificationTexts texts)
    {
        ArgumentNullException.ThrowIfNull(notification);
        ArgumentNullException.ThrowIfNull(texts);
        var body = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "TextBlock",
                ["text"] = notification.Subject,
                ["weight"] = "Bolder",
                ["size"] = "Medium",
                ["wrap"] = true,
            },
            new JsonObject { ["type"] = "TextBlock", ["text"] = notification.Body, ["wrap"] = true },
            new JsonObject
            {
                ["type"] = "FactSet",
                ["facts"] = new JsonArray
                {
                    new JsonObject { ["title"] = texts.Recipients, ["value"] = string.Join(", ", notification.To) },
                    new JsonObject { ["title"] = texts.Reference, ["value"] = notification.CorrelationId },
                },
            },
        };
        var actions = new JsonArray();
        foreach (var button in Buttons(notification, texts))
        {
            actions.Add(new JsonObject { ["type"] = "Action.OpenUrl", ["title"] = button.Label, ["url"] = button.Url.AbsoluteUri });
        }

        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["lang"] = texts == NotificationTexts.French ? "fr" : "en",
            ["body"] = body,
            ["actions"] = actions,
        };
        return new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray
            {
                new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["contentUrl"] = null, ["content"] = card },
            },
        };
    }

    /// <summary>The plain-text mail: the body, the buttons as labelled links, and the footer.</summary>
    public static string MailText(Notification notification, NotificationTexts texts)
    {
        ArgumentNullException.ThrowIfNull(notification);
        ArgumentNullException.ThrowIfNull(texts);
        var text = new StringBuilder(notification.Body.TrimEnd()).Append("\n\n");
        var buttons = Buttons(notification, texts);
        if (buttons.Count > 0)
        {
            text.Append(texts.Links).Append(":\n");
            foreach (var button in buttons)
            {
                text.Append("- ").Append(button.Label).Append(": ").Append(button.Url.AbsoluteUri).Append('\n');
            }

            text.Append('\n');
        }

        return text.Append("-- \n").Append(texts.FooterFor(notification.CorrelationId)).Append('\n').ToString();
    }

    /// <summary>
    /// The activity-feed link: a Teams deep link to the Gardien app's approvals tab, carrying the approval token as
    /// <c>subEntityId</c> (the tab's content URL turns it into the approval page) and the page itself as the fallback
    /// <c>webUrl</c>. Null when it would be longer than Teams accepts.
    /// </summary>
    public static string? ActivityLink(string teamsAppId, string tabEntityId, Notification notification, string label)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var page = ApprovalPage(notification);
        var link = new StringBuilder(
            $"https://teams.microsoft.com/l/entity/{Uri.EscapeDataString(teamsAppId)}/{Uri.EscapeDataString(tabEntityId)}"
            + $"?label={Uri.EscapeDataString(label)}");
        if (page is not null)
        {
            link.Append("&webUrl=").Append(Uri.EscapeDataString(page.AbsoluteUri));
            var context = JsonSerializer.Serialize(
                new Dictionary<string, string> { ["subEntityId"] = ApprovalToken(page) ?? string.Empty });
            link.Append("&context=").Append(Uri.EscapeDataString(context));
        }

        return link.Length <= MaxActivityLinkLength ? link.ToString() : null;
    }

    private static string? Decision(Uri url)
    {
        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            if (parts.Length == 2 && string.Equals(parts[0], "decision", StringComparison.OrdinalIgnoreCase))
            {
                return Uri.UnescapeDataString(parts[1]).ToLowerInvariant();
            }
        }

        return null;
    }
}
