using Gardien.Runtime;
using Gardien.Workflows.Provisioning;

namespace Gardien.Workflows.Retention;

/// <summary>The retention activities as typed calls: name, input, result and retry policy in one place.</summary>
internal static class RetentionCalls
{
    public static Task<LockDueImmutabilityResult> LockDueImmutabilityAsync(this WorkflowContext context, LockDueImmutabilityInput input) =>
        context.CallAuditedAsync<LockDueImmutabilityResult>(nameof(LockDueImmutabilityActivity), input, ActivityRetryPolicies.Transient);

    public static Task<RetentionSettings> LoadRetentionSettingsAsync(this WorkflowContext context) =>
        context.CallActivityAsync<RetentionSettings>(nameof(LoadRetentionSettingsActivity), null, ActivityRetryPolicies.Transient);

    public static Task<StartedInstance> StartRetentionSweepAsync(this WorkflowContext context, DateOnly date) =>
        context.CallActivityAsync<StartedInstance>(nameof(StartRetentionSweepActivity), date, ActivityRetryPolicies.Persistent);

    public static Task<RetentionCandidates> FindRetentionCandidatesAsync(
        this WorkflowContext context, FindRetentionCandidatesInput input) =>
        context.CallActivityAsync<RetentionCandidates>(nameof(FindRetentionCandidatesActivity), input, ActivityRetryPolicies.Transient);

    public static Task<StartedInstance> StartRetentionCaseAsync(this WorkflowContext context, StartRetentionCaseInput input) =>
        context.CallActivityAsync<StartedInstance>(nameof(StartRetentionCaseActivity), input, ActivityRetryPolicies.Transient);

    public static Task<string?> GetRetentionCaseStatusAsync(this WorkflowContext context, string instanceId) =>
        context.CallActivityAsync<string?>(nameof(GetRetentionCaseStatusActivity), instanceId, ActivityRetryPolicies.Transient);

    public static Task<RetentionCaseSnapshot> LoadRetentionCaseAsync(this WorkflowContext context, LoadRetentionCaseInput input) =>
        context.CallActivityAsync<RetentionCaseSnapshot>(nameof(LoadRetentionCaseActivity), input, ActivityRetryPolicies.Transient);

    public static Task<DisposalStepResult> DisposeDatasetAsync(this WorkflowContext context, DisposeDatasetInput input) =>
        context.CallAuditedAsync<DisposalStepResult>(nameof(DisposeDatasetActivity), input, ActivityRetryPolicies.Transient);

    public static Task<DisposalStepResult> PurgeDatasetAsync(this WorkflowContext context, PurgeDatasetInput input) =>
        context.CallAuditedAsync<DisposalStepResult>(nameof(PurgeDatasetActivity), input, ActivityRetryPolicies.Transient);

    public static Task<bool> CancelDeletionAsync(this WorkflowContext context, CancelDeletionInput input) =>
        context.CallAuditedAsync<bool>(nameof(CancelDeletionActivity), input, ActivityRetryPolicies.Persistent);

    public static Task<CertificateReceipt> WriteDeletionCertificateAsync(this WorkflowContext context, DeletionCertificate certificate) =>
        context.CallAuditedAsync<CertificateReceipt>(
            nameof(WriteDeletionCertificateActivity), certificate, ActivityRetryPolicies.Persistent);
}
