using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Provisioning;

/// <summary>The provisioning activities as typed calls: name, input, result and retry policy in one place.</summary>
internal static class ProvisioningCalls
{
    public static Task<ProvisionedContainer> ProvisionContainerAsync(this WorkflowContext context, ProvisionContainerInput input) =>
        context.CallAuditedAsync<ProvisionedContainer>(nameof(ProvisionContainerActivity), input, ActivityRetryPolicies.Transient);

    public static Task<ContainerDeletionOutcome> RemoveContainerIfEmptyAsync(
        this WorkflowContext context, RemoveContainerIfEmptyInput input) =>
        context.CallAuditedAsync<ContainerDeletionOutcome>(nameof(RemoveContainerIfEmptyActivity), input, ActivityRetryPolicies.Persistent);

    /// <param name="retry">Default: <see cref="ActivityRetryPolicies.Persistent"/> (bookkeeping that must happen).</param>
    public static Task<UpdateDatasetRetentionResult> UpdateDatasetRetentionAsync(
        this WorkflowContext context, UpdateDatasetRetentionInput input, RetryPolicy? retry = null) =>
        context.CallAuditedAsync<UpdateDatasetRetentionResult>(
            nameof(UpdateDatasetRetentionActivity), input, retry ?? ActivityRetryPolicies.Persistent);
}
