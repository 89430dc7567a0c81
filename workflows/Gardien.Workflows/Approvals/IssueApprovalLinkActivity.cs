using Gardien.Runtime;

namespace Gardien.Workflows.Approvals;

public sealed record IssueApprovalLinkInput(string TokenId, string InstanceId, string Role, string Approver, DateTimeOffset ExpiresAt);

/// <summary>A signed, single-use, expiring link pair for one approver.</summary>
public sealed record ApprovalLink(string TokenId, string Approver, DateTimeOffset ExpiresAt, Uri ApproveUrl, Uri RejectUrl);

/// <summary>
/// Issues the signed approval token (HMAC key from the secret store, hence an activity) and builds the links
/// <c>{baseUrl}/approvals/{token}?decision=approve|reject</c>. Deterministic for the same input: a retry issues the same link.
/// </summary>
public sealed class IssueApprovalLinkActivity(
    ApprovalTokenService tokens,
    GardienWorkflowOptions options) : Activity<IssueApprovalLinkInput, ApprovalLink>
{
    public const string ApproveDecision = "approve";
    public const string RejectDecision = "reject";

    public override async Task<ApprovalLink> RunAsync(ActivityContext context, IssueApprovalLinkInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var token = await tokens.IssueAsync(
            new ApprovalTokenRequest(
                input.TokenId, input.InstanceId, input.Role, input.Approver, [ApproveDecision, RejectDecision], input.ExpiresAt),
            context.CancellationToken);
        return new ApprovalLink(
            input.TokenId,
            input.Approver,
            input.ExpiresAt,
            LinkFor(options.ApprovalBaseUrl, token, ApproveDecision),
            LinkFor(options.ApprovalBaseUrl, token, RejectDecision));
    }

    public static Uri LinkFor(Uri baseUrl, string token, string decision) => ApprovalLinks.Build(baseUrl, token, decision);
}
