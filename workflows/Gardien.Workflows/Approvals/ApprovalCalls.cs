using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Approvals;

/// <summary>The approval activities as typed calls: name, input, result and retry policy in one place.</summary>
internal static class ApprovalCalls
{
    public static Task<ResolvedApprover> ResolveApproverAsync(this WorkflowContext context, ResolveApproverInput input) =>
        context.CallActivityAsync<ResolvedApprover>(nameof(ResolveApproverActivity), input, ActivityRetryPolicies.Transient);

    /// <summary>A signed single-use link pair for <paramref name="approver"/>; the token id comes from the replay-safe GUID.</summary>
    public static Task<ApprovalLink> IssueApprovalLinkAsync(
        this WorkflowContext context, string role, string approver, DateTimeOffset expiresAt) =>
        context.CallActivityAsync<ApprovalLink>(
            nameof(IssueApprovalLinkActivity),
            new IssueApprovalLinkInput(context.NewGuid().ToString("N"), context.InstanceId, role, approver, expiresAt),
            ActivityRetryPolicies.Transient);

    public static Task<VerifiedDecision> VerifyDecisionAsync(this WorkflowContext context, VerifyApprovalDecisionInput input) =>
        context.CallActivityAsync<VerifiedDecision>(nameof(VerifyApprovalDecisionActivity), input, ActivityRetryPolicies.Transient);

    public static Task<ApprovalRecord> RecordApprovalAsync(this WorkflowContext context, RecordApprovalInput input) =>
        context.CallAuditedAsync<ApprovalRecord>(nameof(RecordApprovalActivity), input, ActivityRetryPolicies.Persistent);
}
