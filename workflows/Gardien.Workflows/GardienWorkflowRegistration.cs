using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Retention;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gardien.Workflows;

/// <summary>Registers every Gardien workflow and activity with an engine, and what the activities need with DI.</summary>
public static class GardienWorkflowRegistration
{
    /// <summary>All Gardien workflows and activities (names: the class names, as workflow code calls them with nameof).</summary>
    public static WorkflowRegistry AddGardienWorkflows(this WorkflowRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);

        // Intake, approvals, updates.
        registry
            .AddWorkflow<IntakeDmpWorkflow>()
            .AddWorkflow<ApprovalWorkflow>()
            .AddWorkflow<UpdateDmpWorkflow>()
            .AddActivity<EvaluateDmpActivity>()
            .AddActivity<RecordDmpActivity>()
            .AddActivity<CheckQueueOwnerActivity>()
            .AddActivity<SetDmpStateActivity>()
            .AddActivity<ClaimDmpVersionActivity>()
            .AddActivity<WriteBackDmpActivity>()
            .AddActivity<ResolveApproverActivity>()
            .AddActivity<IssueApprovalLinkActivity>()
            .AddActivity<VerifyApprovalDecisionActivity>()
            .AddActivity<RecordApprovalActivity>()
            .AddActivity<ProvisionContainerActivity>()
            .AddActivity<RemoveContainerIfEmptyActivity>()
            .AddActivity<UpdateDatasetRetentionActivity>()
            .AddActivity<LockDueImmutabilityActivity>()
            .AddActivity<GrantAccessActivity>()
            .AddActivity<GrantAccessBatchActivity>()
            .AddActivity<RevokeAccessActivity>()
            .AddActivity<SendNotificationActivity>()
            .AddActivity<WriteAuditActivity>();

        // Access reviews, retention, blob events (append below).
        registry
            .AddWorkflow<RetentionScheduleWorkflow>()
            .AddWorkflow<RetentionSweepWorkflow>()
            .AddWorkflow<RetentionCaseWorkflow>()
            .AddWorkflow<AccessReviewWorkflow>()
            .AddWorkflow<HandleBlobEventWorkflow>()
            .AddActivity<LoadRetentionSettingsActivity>()
            .AddActivity<StartRetentionSweepActivity>()
            .AddActivity<FindRetentionCandidatesActivity>()
            .AddActivity<StartRetentionCaseActivity>()
            .AddActivity<GetRetentionCaseStatusActivity>()
            .AddActivity<LoadRetentionCaseActivity>()
            .AddActivity<DisposeDatasetActivity>()
            .AddActivity<PurgeDatasetActivity>()
            .AddActivity<CancelDeletionActivity>()
            .AddActivity<WriteDeletionCertificateActivity>()
            .AddActivity<EnsureAccessReviewsActivity>()
            .AddActivity<LoadAccessReviewActivity>()
            .AddActivity<ConfirmGrantsActivity>()
            .AddActivity<AnalyzeBlobEventActivity>()
            .AddActivity<TagBlobActivity>()
            .AddActivity<MarkBlobEventProcessedActivity>();
        return registry;
    }

    /// <summary>
    /// What the activities need besides the ports (which the adapters register): <see cref="GardienWorkflowOptions"/>,
    /// kept when already registered. Activities themselves are created by the engine from the service provider.
    /// </summary>
    public static IServiceCollection AddGardienWorkflowOptions(this IServiceCollection services, GardienWorkflowOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(options ?? new GardienWorkflowOptions());
        return services;
    }
}
