using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Intake;

/// <summary>The intake and update activities as typed calls: name, input, result and retry policy in one place.</summary>
internal static class IntakeCalls
{
    public static Task<DmpEvaluation> EvaluateDmpAsync(this WorkflowContext context, EvaluateDmpInput input) =>
        context.CallActivityAsync<DmpEvaluation>(nameof(EvaluateDmpActivity), input, ActivityRetryPolicies.Transient);

    public static Task<RecordDmpResult> RecordDmpAsync(this WorkflowContext context, RecordDmpInput input) =>
        context.CallAuditedAsync<RecordDmpResult>(nameof(RecordDmpActivity), input, ActivityRetryPolicies.Persistent);

    public static Task<QueueOwnerCheck> CheckQueueOwnerAsync(this WorkflowContext context, CheckQueueOwnerInput input) =>
        context.CallAuditedAsync<QueueOwnerCheck>(nameof(CheckQueueOwnerActivity), input, ActivityRetryPolicies.Persistent);

    public static Task<SetDmpStateResult> SetDmpStateAsync(this WorkflowContext context, SetDmpStateInput input) =>
        context.CallAuditedAsync<SetDmpStateResult>(nameof(SetDmpStateActivity), input, ActivityRetryPolicies.Persistent);

    public static Task<ClaimDmpVersionResult> ClaimDmpVersionAsync(this WorkflowContext context, ClaimDmpVersionInput input) =>
        context.CallAuditedAsync<ClaimDmpVersionResult>(nameof(ClaimDmpVersionActivity), input, ActivityRetryPolicies.Persistent);

    public static Task<OperationResult> WriteBackDmpAsync(this WorkflowContext context, WriteBackDmpInput input) =>
        context.CallAuditedAsync<OperationResult>(nameof(WriteBackDmpActivity), input, ActivityRetryPolicies.Transient);
}
