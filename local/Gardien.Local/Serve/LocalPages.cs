using System.Globalization;
using System.Text;
using Gardien.Local.Notifications;
using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Http;
using Gardien.Workflows.Http.Pages;
using Gardien.Workflows.Ports;

namespace Gardien.Local.Serve;

/// <summary>
/// The local service's own pages: the dashboard (<c>/</c>) and the inbox (<c>/inbox</c>), the local stand-in for Teams.
/// Server-rendered HTML, no script; every value from a DMP, a person or a message goes through <see cref="Html.Text"/>.
/// </summary>
public sealed partial class LocalPages(IWorkflowClient client, IGovernanceRegistry registry, IAuditLog audit, DmpDetails details,
    InboxReader inbox, TimeProvider time)
{
    private const int AuditShown = 12;
    private const int TimelineShown = 24;

    // The container metadata that records a control (the rest identifies the dataset).
    private static readonly HashSet<string> Controls =
        ["tier", "encryption_scope", "immutability_days", "keep_until", "embargo_until", "quota_bytes", "legal_hold", "disposal"];

    /// <summary>The dashboard: DMPs by state, pending approvals, datasets with containers, grants and controls, the timeline, the audit
    /// tail.</summary>
    public async Task<string> DashboardAsync(PageTexts texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var dmps = (await registry.ListDmpsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            .OrderByDescending(d => d.UpdatedAt ?? DateTimeOffset.MinValue).ToList();
        var html = new StringBuilder();

        html.Append("<h2>").Append(Html.Text(texts.DmpsByState)).Append("</h2>");
        if (dmps.Count == 0)
        {
            html.Append("<p>").Append(Html.Text(texts.NoDmps)).Append("</p>");
        }
        else
        {
            html.Append("<p>").Append(string.Join(" · ", dmps.GroupBy(d => d.State).OrderBy(g => g.Key)
                .Select(g => $"<span class=\"state-{g.Key}\">{Html.Text(g.Key.ToString())}: {g.Count()}</span>"))).Append("</p>");
            html.Append(Html.Table(texts.DmpsByState, [texts.Title, texts.DmpId, texts.State, texts.Version],
                dmps.Select(d => (IReadOnlyList<string>)
                [
                    Html.Text(d.Title ?? "-"),
                    $"<a href=\"{Html.Text(GardienRoutes.DmpPath(d.DmpId))}\">{Html.Text(d.DmpId)}</a>",
                    $"<span class=\"state-{d.State}\">{Html.Text(d.State.ToString())}</span>" + (d.StateReason is null
                        ? string.Empty : "<br><small>" + Html.Text(d.StateReason) + "</small>"),
                    Html.Text(d.Modified?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)),
                ])));
        }

        var pending = await details.ListPendingApprovalsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        html.Append("<h2>").Append(Html.Text(texts.PendingApprovals)).Append("</h2>");
        html.Append(pending.Count == 0 ? "<p>" + Html.Text(texts.NoPendingApprovals) + "</p>" : Html.Table(texts.PendingApprovals,
            [texts.DmpId, texts.Role, texts.Awaiting, texts.Age, texts.Expires],
            pending.Select(p => (IReadOnlyList<string>)
            [
                Html.Text(p.DmpId),
                Html.Text(texts.RoleName(RoleCode(p.Role))),
                Html.Text(string.Join(", ", p.Awaiting)),
                Html.Text(Age(texts, now - p.Since)),
                Html.Text(texts.Time(p.ExpiresAt)),
            ])));

        var timeline = new List<(DateOnly Date, string Kind, string What)>();
        html.Append("<h2>").Append(Html.Text(texts.DatasetsContainers)).Append("</h2>");
        foreach (var dmp in dmps.Where(d => d.State is DmpState.Active or DmpState.Pending))
        {
            if (await details.GetAsync(dmp.DmpId, cancellationToken).ConfigureAwait(false) is not { } detail)
            {
                continue;
            }

            AppendDatasets(html, texts, detail);
            foreach (var dataset in detail.Datasets)
            {
                var what = $"{dmp.Title ?? dmp.DmpId}: {dataset.Title ?? dataset.DatasetId}";
                timeline.AddRange(dataset.NoticeDates.Select(n => (n, texts.RetentionNotice, what)));
                if (dataset.KeepUntil is { } keepUntil)
                {
                    timeline.Add((keepUntil, texts.RetentionEnd, what));
                }
            }

            if (detail.AccessEndsOn is { } accessEnds)
            {
                timeline.Add((accessEnds, texts.AccessEnds, dmp.Title ?? dmp.DmpId));
            }

            if (await client.GetInstanceAsync(AccessReviewWorkflow.InstanceIdFor(dmp.DmpId), getInputsAndOutputs: false,
                cancellationToken: cancellationToken)
                    .ConfigureAwait(false) is { IsRunning: true } review
                && Read(() => review.ReadCustomStatusAs<AccessReviewStatus>())?.NextReviewOn is { } nextReview)
            {
                timeline.Add((nextReview, texts.AccessReview, dmp.Title ?? dmp.DmpId));
            }
        }

        html.Append("<h2 id=\"timeline\">").Append(Html.Text(texts.Timeline)).Append("</h2>");
        var upcoming = timeline.Where(t => t.Date >= today).OrderBy(t => t.Date).Take(TimelineShown).ToList();
        html.Append(upcoming.Count == 0 ? "<p>" + Html.Text(texts.NothingScheduled) + "</p>" : Timeline.Render(texts, today, upcoming));

        await AppendAuditAsync(html, texts, cancellationToken).ConfigureAwait(false);
        return Html.Page(texts, texts.DashboardTitle, html.ToString(), navigation: true);
    }

    /// <summary>
    /// The inbox: each notification as the Adaptive Card the Teams adapter posts (title, text, facts, one button per
    /// link and "Open" on the approval page), newest first; those sent since <paramref name="lastSeen"/> marked unread.
    /// </summary>
    public async Task<string> InboxAsync(PageTexts texts, DateTimeOffset? lastSeen, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var entries = await InboxView.LoadAsync(inbox, client, null, cancellationToken).ConfigureAwait(false);
        var html = new StringBuilder("<p class=\"note\">").Append(Html.Text(texts.InboxIntro)).Append("</p>");
        if (entries.Count == 0)
        {
            html.Append("<p>").Append(Html.Text(texts.InboxEmpty)).Append("</p>");
        }

        var n = 0;
        foreach (var entry in entries)
        {
            var message = entry.Message;
            var unread = lastSeen is null || message.SentAt > lastSeen;
            var id = "m" + (++n).ToString(CultureInfo.InvariantCulture);
            html.Append("<article class=\"card").Append(unread
                ? " unread" : string.Empty).Append("\" aria-labelledby=\"").Append(id).Append("\">")
                .Append("<h3 id=\"").Append(id).Append("\">");
            if (unread)
            {
                html.Append("<span class=\"badge\">").Append(Html.Text(texts.Unread)).Append("</span> ");
            }

            html.Append(Html.Text(message.Subject)).Append("</h3>")
                .Append("<div class=\"body\">").Append(BodyHtml(message.Body)).Append("</div>")
                .Append(Html.Facts(
                [
                    (texts.ForWhom, string.Join(", ", message.To)),
                    (texts.Reference, message.CorrelationId),
                    (texts.Sent, texts.Time(message.SentAt)),
                ]));
            if (entry.RequestOpen == false)
            {
                html.Append("<p class=\"note\">").Append(Html.Text(texts.RequestClosed)).Append("</p>");
            }
            else if (Buttons(texts, message) is { Count: > 0 } buttons)
            {
                html.Append("<div class=\"actions\">");
                foreach (var (label, url, style) in buttons)
                {
                    html.Append("<a class=\"button").Append(style).Append("\" href=\"").Append(Html.Text(url.AbsoluteUri)).Append("\">")
                        .Append(Html.Text(label)).Append("</a>");
                }

                html.Append("</div>");
            }

            html.Append("</article>");
        }

        return Html.Page(texts, texts.InboxTitle, html.ToString(), navigation: true);
    }

    /// <summary>
    /// The card's buttons as the Teams adapter makes them: each link, "Approve"/"Reject" in the page's language for the
    /// signed links, then "Open" on the approval page (the signed link without its decision).
    /// </summary>
    internal static IReadOnlyList<(string Label, Uri Url, string Style)> Buttons(PageTexts texts, InboxMessage message)
    {
        var buttons = new List<(string, Uri, string)>();
        Uri? page = null;
        foreach (var link in message.Links)
        {
            var decision = ApprovalLinks.Parse(link.Url.ToString()).Link?.Decision;
            var label = decision switch
            {
                IssueApprovalLinkActivity.ApproveDecision when string.Equals(link.Label, "Approve",
                    StringComparison.OrdinalIgnoreCase) => texts.Approve,
                IssueApprovalLinkActivity.RejectDecision when string.Equals(link.Label, "Reject",
                    StringComparison.OrdinalIgnoreCase) => texts.Reject,
                _ => link.Label,
            };
            buttons.Add((label, link.Url, decision == IssueApprovalLinkActivity.RejectDecision ? " reject" : string.Empty));
            if (decision is not null && link.Url.AbsolutePath.Contains("/approvals/", StringComparison.OrdinalIgnoreCase))
            {
                page ??= new Uri(link.Url.GetLeftPart(UriPartial.Path));
            }
        }

        if (page is not null)
        {
            buttons.Add((texts.Open, page, " secondary"));
        }

        return buttons;
    }

    /// <summary>
    /// The message body as Teams shows its Markdown text: line breaks kept, backslash escapes resolved (the workflows
    /// escape every value they quote), then everything HTML-escaped: nothing in it becomes markup.
    /// </summary>
    private static string BodyHtml(string body) =>
        string.Join("<br>", body.Replace("\r\n", "\n",
            StringComparison.Ordinal).Split('\n').Select(line => Html.Text(MarkdownEscapes().Replace(line, "$1"))));

    [System.Text.RegularExpressions.GeneratedRegex(@"\\([!-/:-@\[-`{-~])")]
    private static partial System.Text.RegularExpressions.Regex MarkdownEscapes();

    private static void AppendDatasets(StringBuilder html, PageTexts texts, DmpDetail detail)
    {
        html.Append("<h3>").Append(Html.Text(detail.Dmp.Title
            ?? detail.Dmp.DmpId)).Append(" <small class=\"state-").Append(detail.Dmp.State.ToString())
            .Append("\">(").Append(Html.Text(detail.Dmp.State.ToString())).Append(")</small></h3>");
        if (detail.Datasets.Count == 0)
        {
            html.Append("<p>-</p>");
            return;
        }

        html.Append(Html.Table(detail.Dmp.Title ?? detail.Dmp.DmpId, [texts.Dataset, texts.Container, texts.Grants, texts.Controls,
            texts.KeepUntil],
            detail.Datasets.Select(d =>
            {
                var grants = detail.Grants.Where(g => g.DatasetId == d.DatasetId && g.State == GrantState.Active).ToList();
                var inForce = (d.ContainerMetadata ?? new Dictionary<string, string>()).Keys
                    .Where(k => k.StartsWith("gardien_", StringComparison.Ordinal)).Select(k => k["gardien_".Length..])
                    .Where(Controls.Contains).Order(StringComparer.Ordinal).ToList();
                return (IReadOnlyList<string>)
                [
                    Html.Text(d.Title ?? d.DatasetId),
                    "<code>" + Html.Text(d.Container) + "</code>" + (d.ContainerExists
                        ? string.Empty : " <span class=\"error\">" + Html.Text(texts.ContainerMissing) + "</span>"),
                    grants.Count == 0 ? Html.Text(texts.NoGrants)
                        : string.Join("<br>",
                            grants.Select(g => Html.Text($"{g.PrincipalId}: {g.Level.ToString().ToLowerInvariant()}, "
                                + $"{texts.Until.ToLowerInvariant()} {texts.Date(g.EndsOn)}"))),
                    "<span class=\"ok\">" + Html.Text(texts.InForce) + ":</span> " + Html.Text(inForce.Count == 0 ? "-" : string.Join(", ",
                        inForce))
                        + (d.NotEnforcedLocally.Count == 0
                            ? string.Empty : "<br><span class=\"error\">" + Html.Text(texts.NotEnforcedLocally) + ":</span> "
                            + Html.Text(string.Join(", ", d.NotEnforcedLocally.Select(f => f.Feature)))),
                    Html.Text(texts.Date(d.KeepUntil)) + " (" + Html.Text(d.Disposal.ToString().ToLowerInvariant()) + ")",
                ];
            })));
    }

    private async Task AppendAuditAsync(StringBuilder html, PageTexts texts, CancellationToken cancellationToken)
    {
        html.Append("<h2>").Append(Html.Text(texts.RecentAudit)).Append("</h2>");
        var verification = await audit.VerifyAsync(cancellationToken).ConfigureAwait(false);
        html.Append(verification.Intact
            ? "<p class=\"ok\">" + Html.Text(texts.Format(texts.AuditIntact, verification.EntriesChecked)) + "</p>"
            : "<p class=\"error\">" + Html.Text(texts.Format(texts.AuditBroken, verification.FirstBrokenLink!.Sequence,
                verification.FirstBrokenLink.Problem)) + "</p>");
        var recent = new List<AuditRecord>();
        await foreach (var record in audit.ReadAsync(Math.Max(1, verification.EntriesChecked - AuditShown + 1),
            cancellationToken).ConfigureAwait(false))
        {
            recent.Add(record);
        }

        if (recent.Count > 0)
        {
            html.Append(Html.Table(texts.RecentAudit, ["#", texts.When, texts.Actor, texts.Action, texts.Subject],
                recent.TakeLast(AuditShown).Reverse().Select(r => (IReadOnlyList<string>)
                [
                    Html.Text(r.Sequence.ToString(CultureInfo.InvariantCulture)),
                    Html.Text(texts.Time(r.Entry.Timestamp)),
                    Html.Text(r.Entry.Actor),
                    "<code>" + Html.Text(r.Entry.Action) + "</code>",
                    Html.Text(r.Entry.Subject),
                ])));
        }
    }

    private static string Age(PageTexts texts, TimeSpan age) =>
        age.TotalDays >= 1 ? texts.Format(texts.Days,
            (int)age.TotalDays) : age.TotalHours >= 1 ? $"{(int)age.TotalHours} h" : $"{Math.Max(0, (int)age.TotalMinutes)} min";

    private static string RoleCode(string role) => role switch
    {
        "principal investigator" or "PrincipalInvestigator" => "pi",
        "data steward" or "DataSteward" => "steward",
        "data protection officer" or "DataProtectionOfficer" => "dpo",
        _ => role,
    };

    private static T? Read<T>(Func<T?> read)
        where T : class
    {
        try
        {
            return read();
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
