using Gardien.Runtime;

namespace Gardien.Workflows.Access;

/// <summary>The access activities as typed calls: name, input, result and retry policy in one place.</summary>
internal static class AccessCalls
{
    public static Task<GrantAccessBatchResult> GrantAccessBatchAsync(this WorkflowContext context, GrantAccessBatchInput input) =>
        context.CallAuditedAsync<GrantAccessBatchResult>(nameof(GrantAccessBatchActivity), input, ActivityRetryPolicies.Transient);

    /// <param name="retry">Default: <see cref="ActivityRetryPolicies.Persistent"/> (a revocation must eventually happen).</param>
    public static Task<RevokeAccessResult> RevokeAccessAsync(
        this WorkflowContext context, RevokeAccessInput input, RetryPolicy? retry = null) =>
        context.CallAuditedAsync<RevokeAccessResult>(nameof(RevokeAccessActivity), input, retry ?? ActivityRetryPolicies.Persistent);

    public static Task<AccessReviewSnapshot> LoadAccessReviewAsync(this WorkflowContext context, string dmpId) =>
        context.CallActivityAsync<AccessReviewSnapshot>(nameof(LoadAccessReviewActivity), dmpId, ActivityRetryPolicies.Transient);

    public static Task<int> ConfirmGrantsAsync(this WorkflowContext context, ConfirmGrantsInput input) =>
        context.CallAuditedAsync<int>(nameof(ConfirmGrantsActivity), input, ActivityRetryPolicies.Persistent);

    public static Task<AccessReviewsEnsured> EnsureAccessReviewsAsync(this WorkflowContext context) =>
        context.CallActivityAsync<AccessReviewsEnsured>(nameof(EnsureAccessReviewsActivity), null, ActivityRetryPolicies.Persistent);
}
