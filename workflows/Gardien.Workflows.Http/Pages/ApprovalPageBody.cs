using System.Globalization;
using System.Text;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;

namespace Gardien.Workflows.Http.Pages;

/// <summary>The approval page's content: the request, the plan as the approver must judge it, and the confirmation form.</summary>
internal static class ApprovalPageBody
{
    public static string Render(PageTexts texts, ApprovalLinkPreview preview, ApprovalRequestView? view, string? actor, string csrf)
    {
        var request = view?.Request;
        var plan = view?.Plan;
        var html = new StringBuilder();
        html.Append("<p>").Append(Html.Text(texts.Format(texts.AskedAs, texts.RoleName(preview.Role)))).Append(' ')
            .Append(Html.Text(texts.DecisionOnlyByPost)).Append("</p>");

        html.Append("<h2>").Append(Html.Text(texts.TheDmp)).Append("</h2>").Append(Html.Facts(
        [
            (texts.Title, plan?.Title ?? request?.DmpTitle),
            (texts.DmpId, request?.DmpId),
            (texts.PrincipalInvestigator, plan is null ? request?.PiName : Person(plan.PrincipalInvestigator)),
            (texts.ProjectEnd, plan?.ProjectEnd is { } end ? texts.Date(end) : null),
            (texts.Approver, preview.Approver),
            (texts.SignedInAs, ApprovalAuthority.IdentityOf(actor) ?? texts.NotSignedIn),
            (texts.LinkExpires, texts.Time(preview.ExpiresAt)),
        ]));

        html.Append("<h2>").Append(Html.Text(texts.WhyYou)).Append("</h2>");
        var reasons = request?.Reasons ?? [];
        html.Append(reasons.Count == 0 ? "<p>-</p>" : "<ul>" + string.Concat(reasons.Select(r =>
            "<li>" + Html.Text(r) + "</li>")) + "</ul>");

        if (plan is null)
        {
            html.Append("<h2>").Append(Html.Text(texts.Provisioned)).Append("</h2>")
                .Append("<p>").Append(Html.Text(texts.PlanUnavailable)).Append("</p>");
            html.Append("<ul>");
            foreach (var line in (request?.Summary ?? "-").Split('\n',
                StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                html.Append("<li>").Append(Html.Text(line.TrimStart('-', ' '))).Append("</li>");
            }

            html.Append("</ul>");
        }
        else
        {
            AppendPlan(html, texts, plan);
        }

        AppendForm(html, texts, preview, csrf);
        return html.ToString();
    }

    private static void AppendPlan(StringBuilder html, PageTexts texts, GovernancePlan plan)
    {
        html.Append("<h2>").Append(Html.Text(texts.Provisioned)).Append("</h2>");
        html.Append(plan.Datasets.Count == 0 ? "<p>" + Html.Text(texts.NothingProvisioned) + "</p>" : Html.Table(texts.Provisioned,
            [texts.Dataset, texts.Classification, texts.Container, texts.Tier, texts.EncryptionScope, texts.ImmutabilityDays,
                texts.KeepUntil, texts.ThenAction],
            plan.Datasets.Select(d => (IReadOnlyList<string>)
            [
                Html.Text(d.Title) + "<br><small>" + Html.Text(d.Key) + "</small>",
                Html.Text(Lower(d.Classification.Classification)),
                "<code>" + Html.Text(d.Storage.ContainerName) + "</code>",
                Html.Text(Lower(d.Storage.Tier)),
                Html.Text(d.Storage.EncryptionScope ?? "-"),
                Html.Text(d.Storage.ImmutabilityDays?.ToString(CultureInfo.InvariantCulture) ?? "-"),
                Html.Text(texts.Date(d.Retention.KeepUntil)),
                Html.Text(Lower(d.Retention.Disposal)),
            ])));

        var grants = plan.Datasets.SelectMany(d => d.Access.Select(a => (Dataset: d, Grant: a))).ToList();
        html.Append("<h2>").Append(Html.Text(texts.WhoGetsAccess)).Append("</h2>");
        html.Append(grants.Count == 0 ? "<p>" + Html.Text(texts.NobodyGetsAccess) + "</p>" : Html.Table(texts.WhoGetsAccess,
            [texts.Person, texts.Dataset, texts.Access, texts.Until, texts.Because],
            grants.Select(g => (IReadOnlyList<string>)
            [
                Html.Text(Person(g.Grant.Principal)),
                Html.Text(g.Dataset.Title),
                Html.Text(Lower(g.Grant.Role)),
                Html.Text(texts.Date(g.Grant.Until)),
                Html.Text(string.Join("; ", g.Grant.Because)),
            ])));

        var findings = plan.AllFindings().ToList();
        html.Append("<h2>").Append(Html.Text(texts.Findings)).Append("</h2>");
        html.Append(findings.Count == 0 ? "<p>" + Html.Text(texts.NoFindings) + "</p>" : Html.Table(texts.Findings,
            [texts.Severity, texts.Message, texts.Where],
            findings.Select(f => (IReadOnlyList<string>)
            [
                Html.Text(Lower(f.Severity)),
                Html.Text(f.Message),
                "<code>" + Html.Text(f.Path) + "</code>",
            ])));
    }

    private static void AppendForm(StringBuilder html, PageTexts texts, ApprovalLinkPreview preview, string csrf)
    {
        html.Append("<h2 id=\"decision\">").Append(Html.Text(texts.YourDecision)).Append("</h2>")
            .Append("<form method=\"post\" aria-labelledby=\"decision\">")
            .Append("<input type=\"hidden\" name=\"").Append(ApprovalHttpEndpoint.CsrfField).Append("\" "
                + "value=\"").Append(Html.Text(csrf)).Append("\">")
            .Append("<p><label for=\"comment\">").Append(Html.Text(texts.Comment)).Append("</label><br>")
            .Append("<textarea id=\"comment\" name=\"comment\" rows=\"4\" cols=\"60\" maxlength=\"4000\"></textarea></p><p "
                + "class=\"actions\">");
        var decisions = preview.Decision is { } only
            ? [only] : preview.DecisionOptions.Select(ApprovalDecisions.Normalise).OfType<string>().Distinct().ToList();
        foreach (var decision in decisions)
        {
            var reject = decision == IssueApprovalLinkActivity.RejectDecision;
            html.Append("<button type=\"submit\" class=\"button").Append(reject ? " reject" : string.Empty).Append('"');
            if (preview.Decision is null)
            {
                // A link without a decision: the button says which one, and the link accepts either.
                html.Append(" name=\"decision\" value=\"").Append(decision).Append('"');
            }

            html.Append('>').Append(Html.Text(reject ? texts.Reject : texts.Approve)).Append("</button>");
        }

        html.Append("</p></form>");
    }

    private static string Person(Principal principal) => principal.Email is null ? principal.Name : $"{principal.Name} <{principal.Email}>";

    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();
}
