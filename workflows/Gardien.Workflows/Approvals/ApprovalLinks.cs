namespace Gardien.Workflows.Approvals;

/// <summary>What an approval link (or a bare token) says: the token, and the decision the link was issued for, if any.</summary>
/// <param name="Decision">"approve" or "reject" from the link's <c>decision</c> query parameter; null for a bare token.</param>
public sealed record ApprovalLinkReference(string Token, string? Decision);

/// <summary>The outcome of reading an approval link; <see cref="Error"/> says what is wrong and what to do.</summary>
public sealed record ApprovalLinkParse(ApprovalLinkReference? Link, string? Error)
{
    public bool IsValid => Link is not null;
}

/// <summary>The decision to record for a link, or why none can be.</summary>
public sealed record ApprovalDecisionChoice(string? Decision, string? Error, bool Contradiction);

/// <summary>
/// The one reader and writer of approval links <c>{base}/approvals/{token}?decision=approve|reject</c>. Every path from a
/// link to a decision (the CLI, the HTTP endpoint, the decision page) reads links here, so the Approve and the Reject
/// link of a message can never be confused: the decision a link carries is honoured, and a decision asked for separately
/// that contradicts it is refused rather than silently preferred.
/// </summary>
public static class ApprovalLinks
{
    private const string DecisionParameter = "decision";

    /// <summary>The link for one decision.</summary>
    public static Uri Build(Uri baseUrl, string token, string decision)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        var normalised = ApprovalDecisions.Normalise(decision)
            ?? throw new ArgumentException($"'{decision}' is not a decision.", nameof(decision));
        return new Uri($"{baseUrl.AbsoluteUri.TrimEnd('/')}/approvals/{Uri.EscapeDataString(token)}?{DecisionParameter}={normalised}");
    }

    /// <summary>
    /// Reads a whole link (<c>https://host/approvals/TOKEN?decision=reject</c>), a path (<c>/approvals/TOKEN?decision=reject</c>)
    /// or a bare token. Surrounding white space, quotes and angle brackets (as mail clients add them) are ignored.
    /// </summary>
    public static ApprovalLinkParse Parse(string? tokenOrLink)
    {
        var text = (tokenOrLink ?? string.Empty).Trim().Trim('<', '>', '"', '\'').Trim();
        if (text.Length == 0)
        {
            return Fail("No approval token or link was given. Paste the whole Approve or Reject link from the message, or its token.");
        }

        string path;
        string query;
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
        {
            path = url.AbsolutePath;
            query = url.Query;
        }
        else
        {
            var fragment = text.IndexOf('#', StringComparison.Ordinal);
            var withoutFragment = fragment >= 0 ? text[..fragment] : text;
            var question = withoutFragment.IndexOf('?', StringComparison.Ordinal);
            path = question >= 0 ? withoutFragment[..question] : withoutFragment;
            query = question >= 0 ? withoutFragment[question..] : string.Empty;
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0)
        {
            return Fail("The link names no approval token: it should look like https://…/approvals/TOKEN?decision=approve.");
        }

        if (segments.Length > 1 && !string.Equals(segments[^2], "approvals", StringComparison.OrdinalIgnoreCase))
        {
            return Fail(
                "This is not an approval link: its path should end with /approvals/TOKEN. "
                + "Paste the Approve or Reject link from the message.");
        }

        string token;
        try
        {
            token = Uri.UnescapeDataString(segments[^1]);
        }
        catch (UriFormatException)
        {
            return Fail("The approval link is damaged (its token cannot be read). Use the link from the latest message.");
        }

        var decisions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(equals >= 0 ? pair[..equals] : pair);
            if (!string.Equals(name, DecisionParameter, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = equals >= 0 ? Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' ')) : string.Empty;
            if (ApprovalDecisions.Normalise(value) is not { } decision)
            {
                return Fail(
                    $"The link's decision '{value}' is neither approve nor reject. "
                    + "Use the Approve or the Reject link exactly as it was sent.");
            }

            decisions.Add(decision);
        }

        return decisions.Count switch
        {
            > 1 => Fail(
                "The link carries both decision=approve and decision=reject; it was altered. "
                + "Use the Approve or the Reject link exactly as it was sent."),
            1 => new ApprovalLinkParse(new ApprovalLinkReference(token, decisions.Single()), null),
            _ => new ApprovalLinkParse(new ApprovalLinkReference(token, null), null),
        };
    }

    /// <summary>
    /// The decision to record: the link's own decision, or <paramref name="requested"/> for a bare token, or
    /// <paramref name="defaultDecision"/> when neither says. A requested decision that contradicts the link is refused.
    /// </summary>
    /// <param name="requestedBy">How the caller asked for <paramref name="requested"/>, for the message (e.g. "--reject").</param>
    public static ApprovalDecisionChoice ChooseDecision(
        ApprovalLinkReference link,
        string? requested,
        string? requestedBy = null,
        string? defaultDecision = null)
    {
        ArgumentNullException.ThrowIfNull(link);
        string? wanted = null;
        if (requested is not null && (wanted = ApprovalDecisions.Normalise(requested)) is null)
        {
            return new ApprovalDecisionChoice(null, $"'{requested}' is not a decision: use approve or reject.", Contradiction: false);
        }

        if (link.Decision is { } fromLink && wanted is not null && wanted != fromLink)
        {
            var asked = requestedBy is null ? $"'{wanted}'" : $"'{wanted}' ({requestedBy})";
            return new ApprovalDecisionChoice(null,
                $"This is the {Label(fromLink)} link (decision={fromLink}), but {asked} was asked for. Nothing was recorded. "
                + $"Use the {Label(wanted)} link of the message to {wanted}, or use this link without asking for another decision.",
                Contradiction: true);
        }

        var decision = link.Decision ?? wanted ?? (defaultDecision is null ? null : ApprovalDecisions.Normalise(defaultDecision));
        return decision is null
            ? new ApprovalDecisionChoice(null, "The token carries no decision: say whether to approve or reject.", Contradiction: false)
            : new ApprovalDecisionChoice(decision, null, Contradiction: false);
    }

    private static string Label(string decision) => decision == IssueApprovalLinkActivity.RejectDecision ? "Reject" : "Approve";

    private static ApprovalLinkParse Fail(string error) => new(null, error);
}
