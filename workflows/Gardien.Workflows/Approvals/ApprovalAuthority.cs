namespace Gardien.Workflows.Approvals;

/// <summary>Who may decide an approval: the approver, their delegates, and people the policy lets act on their behalf.</summary>
/// <param name="Approver">The approver of the role (e-mail).</param>
/// <param name="Delegates">The approver's delegates (e-mails): they decide in their own name.</param>
/// <param name="OnBehalf">People allowed to decide on the approver's behalf (e-mails): recorded as "X on behalf of the approver".</param>
public sealed record ApproverAuthority(string Approver, IReadOnlyList<string> Delegates, IReadOnlyList<string> OnBehalf);

public enum DecisionCapacity
{
    /// <summary>The person the link was sent to (or a bare link click, whose holder is taken to be them).</summary>
    Approver,

    /// <summary>A delegate of the approver, deciding in their own name.</summary>
    Delegate,

    /// <summary>Someone the policy allows to act for the approver: recorded as on behalf of them.</summary>
    OnBehalf,
}

/// <summary>Whether the identity that submitted a decision may decide with the link it used.</summary>
/// <param name="DecidedBy">Who decided (recorded and shown).</param>
/// <param name="OnBehalfOf">The approver they acted for, when <see cref="Capacity"/> is <see cref="DecisionCapacity.OnBehalf"/>.</param>
/// <param name="Refusal">Why the decision is refused (safe to show), when not allowed.</param>
public sealed record DecisionAuthorityCheck(bool Allowed, DecisionCapacity Capacity, string? DecidedBy, string? OnBehalfOf, string? Refusal)
{
    /// <summary>"alice@x" or "alice@x on behalf of dpo@x".</summary>
    public string? DecidedByLabel => OnBehalfOf is null ? DecidedBy : $"{DecidedBy} on behalf of {OnBehalfOf}";
}

/// <summary>
/// Checks the identity behind a decision against the link's approver. A link can be forwarded, so holding it proves
/// nothing about who decides; when the host knows who the person is (the Entra sign-in in Azure, <c>--as</c> locally),
/// that person must be the approver the link was sent to or one of the people the policy authorises for them.
/// </summary>
public static class ApprovalAuthority
{
    private const string UserPrefix = "user:";

    /// <summary>The e-mail in an actor string ("user:alice@x" or "alice@x"), or null when there is none.</summary>
    public static string? IdentityOf(string? actor)
    {
        var text = actor?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (text.StartsWith(UserPrefix, StringComparison.OrdinalIgnoreCase))
        {
            text = text[UserPrefix.Length..].Trim();
        }

        return text.Length == 0 ? null : text;
    }

    /// <param name="actor">Who submitted the decision as the host established it; null for a bare link (its holder counts as the
    /// approver).</param>
    /// <param name="linkApprover">The approver the link's token was issued to.</param>
    /// <param name="authority">Who else may decide; null: nobody but <paramref name="linkApprover"/>.</param>
    public static DecisionAuthorityCheck Check(string? actor, string linkApprover, ApproverAuthority? authority)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(linkApprover);
        var identity = IdentityOf(actor);
        if (identity is null || Same(identity, linkApprover))
        {
            return new DecisionAuthorityCheck(true, DecisionCapacity.Approver, linkApprover, null, null);
        }

        if (authority is not null)
        {
            // The role's approver and delegates are all entitled to decide it, whichever of their links is used.
            if (Same(identity, authority.Approver))
            {
                return new DecisionAuthorityCheck(true, DecisionCapacity.Approver, authority.Approver, null, null);
            }

            if (authority.Delegates.FirstOrDefault(d => Same(d, identity)) is { } delegateEmail)
            {
                return new DecisionAuthorityCheck(true, DecisionCapacity.Delegate, delegateEmail, null, null);
            }

            if (authority.OnBehalf.FirstOrDefault(o => Same(o, identity)) is { } assistant)
            {
                return new DecisionAuthorityCheck(true, DecisionCapacity.OnBehalf, assistant, linkApprover, null);
            }
        }

        var others = authority is null ? [] : authority.Delegates.Where(d => !Same(d, linkApprover)).ToList();
        return new DecisionAuthorityCheck(false, DecisionCapacity.Approver, null, null,
            $"This link was sent to {linkApprover}; {identity} may not decide with it"
            + (others.Count == 0
                ? "."
                : $" (only {linkApprover} or the delegate{(others.Count > 1 ? "s" : string.Empty)} {string.Join(", ", others)}).")
            + " Nothing was recorded. If you decide for them, the policy must name you under on_behalf for this approver.");
    }

    private static bool Same(string left, string right) => string.Equals(left.Trim(), right.Trim(), StringComparison.OrdinalIgnoreCase);
}
