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
/// Every Gardien workflow as a Durable Functions orchestrator of the same name. Each shim only hands the orchestration
/// to <see cref="DurableWorkflowHost"/>; a test checks that the built functions.metadata lists every registered workflow.
/// </summary>
public sealed class WorkflowOrchestrators(DurableWorkflowHost host)
{
    [Function(nameof(IntakeDmpWorkflow))]
    public Task<object?> IntakeDmp([OrchestrationTrigger] TaskOrchestrationContext context) =>
        host.RunWorkflowAsync(context, nameof(IntakeDmpWorkflow), context.GetInput<object>());

    [Function(nameof(ApprovalWorkflow))]
    public Task<object?> Approval([OrchestrationTrigger] TaskOrchestrationContext context) =>
        host.RunWorkflowAsync(context, nameof(ApprovalWorkflow), context.GetInput<object>());

    [Function(nameof(UpdateDmpWorkflow))]
    public Task<object?> UpdateDmp([OrchestrationTrigger] TaskOrchestrationContext context) =>
        host.RunWorkflowAsync(context, nameof(UpdateDmpWorkflow), context.GetInput<object>());

    [Function(nameof(RetentionScheduleWorkflow))]
    public Task<object?> RetentionSchedule([OrchestrationTrigger] TaskOrchestrationContext context) =>
        host.RunWorkflowAsync(context, nameof(RetentionScheduleWorkflow), context.GetInput<object>());

    [Function(nameof(RetentionSweepWorkflow))]
    public Task<object?> RetentionSweep([OrchestrationTrigger] TaskOrchestrationContext context) =>
        host.RunWorkflowAsync(context, nameof(RetentionSweepWorkflow), context.GetInput<object>());

    [Function(nameof(RetentionCaseWorkflow))]
    public Task<object?> RetentionCase([OrchestrationTrigger] TaskOrchestrationContext context) =>
        host.RunWorkflowAsync(context, nameof(RetentionCaseWorkflow), context.GetInput<object>());

    [Function(nameof(AccessReviewWorkflow))]
    public Task<object?> AccessReview([OrchestrationTrigger] TaskOrchestrationContext context) =>
        host.RunWorkflowAsync(context, nameof(AccessReviewWorkflow), context.GetInput<object>());

    [Function(nameof(HandleBlobEventWorkflow))]
    public Task<object?> HandleBlobEvent([OrchestrationTrigger] TaskOrchestrationContext context) =>
        host.RunWorkflowAsync(context, nameof(HandleBlobEventWorkflow), context.GetInput<object>());
}
