using Gardien.Runtime;

namespace Gardien.Workflows.Approvals;

/// <param name="Now">The workflow's replay-safe time: expiry is judged against it.</param>
/// <param name="Actor">Who submitted the decision, as the host established it; null for a bare link click.</param>
/// <param name="Authority">Who may decide besides the link's approver; null: nobody.</param>
public sealed record VerifyApprovalDecisionInput(
    string Token,
    string Decision,
    string InstanceId,
    DateTimeOffset Now,
    string? Actor = null,
    ApproverAuthority? Authority = null);

/// <param name="Message">Safe to show to whoever sent the decision.</param>
/// <param name="Approver">The approver the token was issued to.</param>
/// <param name="DecidedBy">Who decided: the approver, a delegate, or someone acting on the approver's behalf.</param>
/// <param name="OnBehalfOf">The approver, when <paramref name="DecidedBy"/> acted on their behalf.</param>
public sealed record VerifiedDecision(
    bool IsValid,
    ApprovalTokenFailure Failure,
    string Message,
    string? Approver,
    string? TokenId,
    string? Role,
    string? DecidedBy = null,
    string? OnBehalfOf = null);

/// <summary>
/// Verifies a decision event's token (signature, expiry, this instance, decision offered) and the identity behind it
/// (<see cref="ApprovalAuthority"/>), and only then uses the token up atomically in the registry, so a refused identity
/// leaves the link usable by its approver. A used, expired or foreign token, or a person who may not decide, comes back
/// invalid with a clear message; it never throws for a bad token.
/// </summary>
public sealed class VerifyApprovalDecisionActivity(ApprovalTokenService tokens) : Activity<VerifyApprovalDecisionInput, VerifiedDecision>
{
    public override async Task<VerifiedDecision> RunAsync(ActivityContext context, VerifyApprovalDecisionInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        if (ApprovalDecisions.Normalise(input.Decision) is not { } decision)
        {
            return new VerifiedDecision(
                false,
                ApprovalTokenFailure.DecisionNotAllowed,
                $"'{input.Decision}' is not a decision; use 'approve' or 'reject'.",
                null,
                null,
                null);
        }

        var ct = context.CancellationToken;
        var validation = await tokens.ValidateAsync(input.Token ?? string.Empty, input.InstanceId, null, decision, input.Now, ct);
        if (!validation.IsValid || validation.Claims is not { } claims)
        {
            return new VerifiedDecision(
                false,
                validation.Failure,
                validation.Message,
                validation.Claims?.Approver,
                validation.Claims?.TokenId,
                validation.Claims?.Role);
        }

        var authority = ApprovalAuthority.Check(input.Actor, claims.Approver, input.Authority);
        if (!authority.Allowed)
        {
            return new VerifiedDecision(
                false, ApprovalTokenFailure.WrongApprover, authority.Refusal!, claims.Approver, claims.TokenId, claims.Role);
        }

        var result = await tokens.RedeemAsync(input.Token!, decision, input.InstanceId, null, input.Now, authority.DecidedBy, ct);
        return new VerifiedDecision(
            result.IsValid, result.Failure, result.Message, result.Claims?.Approver, result.Claims?.TokenId, result.Claims?.Role,
            result.IsValid ? authority.DecidedBy : null, result.IsValid ? authority.OnBehalfOf : null);
    }
}

/// <summary>Decision words accepted from links and hosts.</summary>
public static class ApprovalDecisions
{
    /// <summary>"approve" or "reject", or null for anything else (case-insensitive; "approved"/"rejected" accepted).</summary>
    public static string? Normalise(string? decision) => decision?.Trim().ToUpperInvariant() switch
    {
        "APPROVE" or "APPROVED" => IssueApprovalLinkActivity.ApproveDecision,
        "REJECT" or "REJECTED" => IssueApprovalLinkActivity.RejectDecision,
        _ => null,
    };
}
