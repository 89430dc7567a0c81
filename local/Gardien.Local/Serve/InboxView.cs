using Gardien.Local.Notifications;
using Gardien.Runtime;
using Gardien.Workflows.Approvals;

namespace Gardien.Local.Serve;

/// <summary>An inbox message with the tokens of its approval links and whether the request it belongs to is still open.</summary>
/// <param name="RequestOpen">Null for a message without approval links.</param>
public sealed record InboxEntry(InboxMessage Message, string? ApproveToken, string? RejectToken, bool? RequestOpen);

/// <summary>An inbox entry as the API and <c>gardien inbox --json</c> write it.</summary>
public sealed record InboxEntryJson(
    string MessageId,
    string Kind,
    string To,
    string Subject,
    DateTimeOffset SentAt,
    string CorrelationId,
    IReadOnlyList<InboxLinkJson> Links,
    string? ApproveToken,
    string? RejectToken,
    bool? RequestOpen,
    string Body)
{
    public static InboxEntryJson From(InboxEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var message = entry.Message;
        return new InboxEntryJson(
            message.MessageId,
            message.Kind.ToString(),
            message.Recipient,
            message.Subject,
            message.SentAt,
            message.CorrelationId,
            [.. message.Links.Select(l => new InboxLinkJson(l.Label, l.Url.ToString()))],
            entry.ApproveToken,
            entry.RejectToken,
            entry.RequestOpen,
            message.Body);
    }
}

/// <summary>A link of an <see cref="InboxEntryJson"/>.</summary>
public sealed record InboxLinkJson(string Label, string Url);

/// <summary>The inbox as the pages and the API show it: newest first, each approval request marked open or closed.</summary>
public static class InboxView
{
    public static async Task<IReadOnlyList<InboxEntry>> LoadAsync(InboxReader inbox, IWorkflowClient client, string? recipient,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inbox);
        ArgumentNullException.ThrowIfNull(client);
        var open = new Dictionary<string, bool>(StringComparer.Ordinal);
        var entries = new List<InboxEntry>();
        foreach (var message in await inbox.ListAsync(recipient, cancellationToken).ConfigureAwait(false))
        {
            var approve = TokenOf(message, IssueApprovalLinkActivity.ApproveDecision);
            var reject = TokenOf(message, IssueApprovalLinkActivity.RejectDecision);
            bool? requestOpen = null;
            if (approve is not null || reject is not null)
            {
                if (!open.TryGetValue(message.CorrelationId, out var isOpen))
                {
                    var instance = await client.GetInstanceAsync(message.CorrelationId, getInputsAndOutputs: false,
                        cancellationToken: cancellationToken)
                        .ConfigureAwait(false);
                    open[message.CorrelationId] = isOpen = instance is { IsRunning: true } or { Status: WorkflowStatus.Pending };
                }

                requestOpen = isOpen;
            }

            entries.Add(new InboxEntry(message, approve, reject, requestOpen));
        }

        return [.. entries.OrderByDescending(e => e.Message.SentAt).ThenByDescending(e => e.Message.FilePath, StringComparer.Ordinal)];
    }

    /// <summary>The token of the message's link for <paramref name="decision"/>, or null when the message has no such link.</summary>
    public static string? TokenOf(InboxMessage message, string decision)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Links.Select(l => ApprovalLinks.Parse(l.Url.ToString()).Link).FirstOrDefault(link =>
            link?.Decision == decision)?.Token;
    }
}
