using Gardien.Functions.Durable;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Retention;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Gardien.Functions;

/// <summary>
/// Every Gardien activity as a Durable Functions activity of the same name. The Durable client binding lets the
/// activities that start or inspect other instances use the workflow client port.
/// </summary>
public sealed class WorkflowActivities(DurableWorkflowHost host)
{
    [Function(nameof(EvaluateDmpActivity))]
    public Task<object?> EvaluateDmp(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(EvaluateDmpActivity), invocation, client, cancellationToken);

    [Function(nameof(RecordDmpActivity))]
    public Task<object?> RecordDmp(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(RecordDmpActivity), invocation, client, cancellationToken);

    [Function(nameof(CheckQueueOwnerActivity))]
    public Task<object?> CheckQueueOwner(
        [ActivityTrigger] ActivityInvocation invocation, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(CheckQueueOwnerActivity), invocation, client, cancellationToken);

    [Function(nameof(SetDmpStateActivity))]
    public Task<object?> SetDmpState(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(SetDmpStateActivity), invocation, client, cancellationToken);

    [Function(nameof(ClaimDmpVersionActivity))]
    public Task<object?> ClaimDmpVersion(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(ClaimDmpVersionActivity), invocation, client, cancellationToken);

    [Function(nameof(WriteBackDmpActivity))]
    public Task<object?> WriteBackDmp(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(WriteBackDmpActivity), invocation, client, cancellationToken);

    [Function(nameof(ResolveApproverActivity))]
    public Task<object?> ResolveApprover(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(ResolveApproverActivity), invocation, client, cancellationToken);

    [Function(nameof(IssueApprovalLinkActivity))]
    public Task<object?> IssueApprovalLink(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(IssueApprovalLinkActivity), invocation, client, cancellationToken);

    [Function(nameof(VerifyApprovalDecisionActivity))]
    public Task<object?> VerifyApprovalDecision(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(VerifyApprovalDecisionActivity), invocation, client, cancellationToken);

    [Function(nameof(RecordApprovalActivity))]
    public Task<object?> RecordApproval(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(RecordApprovalActivity), invocation, client, cancellationToken);

    [Function(nameof(ProvisionContainerActivity))]
    public Task<object?> ProvisionContainer(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(ProvisionContainerActivity), invocation, client, cancellationToken);

    [Function(nameof(RemoveContainerIfEmptyActivity))]
    public Task<object?> RemoveContainerIfEmpty(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(RemoveContainerIfEmptyActivity), invocation, client, cancellationToken);

    [Function(nameof(UpdateDatasetRetentionActivity))]
    public Task<object?> UpdateDatasetRetention(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(UpdateDatasetRetentionActivity), invocation, client, cancellationToken);

    [Function(nameof(LockDueImmutabilityActivity))]
    public Task<object?> LockDueImmutability(
        [ActivityTrigger] ActivityInvocation invocation, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(LockDueImmutabilityActivity), invocation, client, cancellationToken);

    [Function(nameof(GrantAccessActivity))]
    public Task<object?> GrantAccess(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(GrantAccessActivity), invocation, client, cancellationToken);

    [Function(nameof(GrantAccessBatchActivity))]
    public Task<object?> GrantAccessBatch(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(GrantAccessBatchActivity), invocation, client, cancellationToken);

    [Function(nameof(RevokeAccessActivity))]
    public Task<object?> RevokeAccess(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(RevokeAccessActivity), invocation, client, cancellationToken);

    [Function(nameof(SendNotificationActivity))]
    public Task<object?> SendNotification(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(SendNotificationActivity), invocation, client, cancellationToken);

    [Function(nameof(WriteAuditActivity))]
    public Task<object?> WriteAudit(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(WriteAuditActivity), invocation, client, cancellationToken);

    [Function(nameof(LoadRetentionSettingsActivity))]
    public Task<object?> LoadRetentionSettings(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(LoadRetentionSettingsActivity), invocation, client, cancellationToken);

    [Function(nameof(StartRetentionSweepActivity))]
    public Task<object?> StartRetentionSweep(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(StartRetentionSweepActivity), invocation, client, cancellationToken);

    [Function(nameof(FindRetentionCandidatesActivity))]
    public Task<object?> FindRetentionCandidates(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(FindRetentionCandidatesActivity), invocation, client, cancellationToken);

    [Function(nameof(StartRetentionCaseActivity))]
    public Task<object?> StartRetentionCase(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(StartRetentionCaseActivity), invocation, client, cancellationToken);

    [Function(nameof(GetRetentionCaseStatusActivity))]
    public Task<object?> GetRetentionCaseStatus(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(GetRetentionCaseStatusActivity), invocation, client, cancellationToken);

    [Function(nameof(LoadRetentionCaseActivity))]
    public Task<object?> LoadRetentionCase(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(LoadRetentionCaseActivity), invocation, client, cancellationToken);

    [Function(nameof(DisposeDatasetActivity))]
    public Task<object?> DisposeDataset(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(DisposeDatasetActivity), invocation, client, cancellationToken);

    [Function(nameof(PurgeDatasetActivity))]
    public Task<object?> PurgeDataset(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(PurgeDatasetActivity), invocation, client, cancellationToken);

    [Function(nameof(CancelDeletionActivity))]
    public Task<object?> CancelDeletion(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(CancelDeletionActivity), invocation, client, cancellationToken);

    [Function(nameof(WriteDeletionCertificateActivity))]
    public Task<object?> WriteDeletionCertificate(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(WriteDeletionCertificateActivity), invocation, client, cancellationToken);

    [Function(nameof(EnsureAccessReviewsActivity))]
    public Task<object?> EnsureAccessReviews(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(EnsureAccessReviewsActivity), invocation, client, cancellationToken);

    [Function(nameof(LoadAccessReviewActivity))]
    public Task<object?> LoadAccessReview(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(LoadAccessReviewActivity), invocation, client, cancellationToken);

    [Function(nameof(ConfirmGrantsActivity))]
    public Task<object?> ConfirmGrants(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(ConfirmGrantsActivity), invocation, client, cancellationToken);

    [Function(nameof(AnalyzeBlobEventActivity))]
    public Task<object?> AnalyzeBlobEvent(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(AnalyzeBlobEventActivity), invocation, client, cancellationToken);

    [Function(nameof(TagBlobActivity))]
    public Task<object?> TagBlob(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(TagBlobActivity), invocation, client, cancellationToken);

    [Function(nameof(MarkBlobEventProcessedActivity))]
    public Task<object?> MarkBlobEventProcessed(
        [ActivityTrigger] ActivityInvocation invocation,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        host.RunActivityAsync(nameof(MarkBlobEventProcessedActivity), invocation, client, cancellationToken);
}
