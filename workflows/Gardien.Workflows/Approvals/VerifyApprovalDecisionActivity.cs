using Gardien.Runtime;

namespace Gardien.Workflows.Approvals;

/// <param name="Now">The workflow's replay-safe time: expiry is judged against it.</param>
public sealed record VerifyApprovalDecisionInput(string Token, string Decision, string InstanceId, DateTimeOffset Now);

/// <param name="Message">Safe to show to whoever sent the decision.</param>
/// <param name="Approver">The approver the token was issued to (who decided).</param>
public sealed record VerifiedDecision(bool IsValid, ApprovalTokenFailure Failure, string Message, string? Approver, string? TokenId, string? Role);

/// <summary>
/// Verifies a decision event's token (signature, expiry, this instance, decision offered) and uses it up atomically
/// in the registry. A used, expired or foreign token comes back invalid with a clear message; it never throws for a bad token.
/// </summary>
public sealed class VerifyApprovalDecisionActivity(ApprovalTokenService tokens) : Activity<VerifyApprovalDecisionInput, VerifiedDecision>
{
    public override async Task<VerifiedDecision> RunAsync(ActivityContext context, VerifyApprovalDecisionInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        if (ApprovalDecisions.Normalise(input.Decision) is not { } decision)
        {
            return new VerifiedDecision(false, ApprovalTokenFailure.DecisionNotAllowed, $"'{input.Decision}' is not a decision; use 'approve' or 'reject'.", null, null, null);
        }

        var result = await tokens.RedeemAsync(input.Token ?? string.Empty, decision, input.InstanceId, null, input.Now, context.CancellationToken).ConfigureAwait(false);
        return new VerifiedDecision(result.IsValid, result.Failure, result.Message, result.Claims?.Approver, result.Claims?.TokenId, result.Claims?.Role);
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
