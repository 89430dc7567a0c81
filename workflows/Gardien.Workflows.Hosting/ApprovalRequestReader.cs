using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Hosting;

/// <summary>What an approver is asked, as a decision page shows it.</summary>
/// <param name="Request">The approval's own input (DMP, role, the policy's reasons, the summary the message carried); null
/// when the instance cannot be read.</param>
/// <param name="Plan">The governance plan the requesting intake or update evaluated, when it can be evaluated again
/// from the same document and policy; null otherwise (the page then shows <see cref="ApprovalWorkflowInput.Summary"/>).</param>
public sealed record ApprovalRequestView(string InstanceId, ApprovalWorkflowInput? Request, GovernancePlan? Plan,
    DateTimeOffset? RequestedAt);

/// <summary>
/// Reads what an approval instance asks for: its input, and the plan of the intake or update that requested it,
/// evaluated again from that workflow's document and policy as of the request's date (the evaluation is pure, so it is
/// the plan the workflow holds). Never throws for an instance that is gone or a document that cannot be read.
/// </summary>
public sealed class ApprovalRequestReader(IWorkflowClient client, IDmpToolClient dmpTool, GardienWorkflowOptions options)
{
    public async Task<ApprovalRequestView> ReadAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        var approval = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var request = Read(() => approval?.ReadInputAs<ApprovalWorkflowInput>());
        if (approval is null || request is null)
        {
            return new ApprovalRequestView(instanceId, request, null, approval?.CreatedAt);
        }

        GovernancePlan? plan = null;
        if (approval.ParentInstanceId is { } parentId
            && await client.GetInstanceAsync(parentId, getInputsAndOutputs: true,
                cancellationToken: cancellationToken).ConfigureAwait(false) is { } parent
            && parent.Name is nameof(IntakeDmpWorkflow) or nameof(UpdateDmpWorkflow))
        {
            // Both workflows' inputs carry the DMP's id and document under the same names.
            var input = Read(() => parent.ReadInputAs<IntakeDmpInput>());
            var json = input?.DmpJson;
            if (json is null && input?.DmpId is { } dmpId)
            {
                json = await FetchAsync(dmpId, cancellationToken).ConfigureAwait(false);
            }

            if (json is not null)
            {
                var today = DateOnly.FromDateTime(approval.CreatedAt.UtcDateTime);
                plan = Read(() => EvaluateDmpActivity.Evaluate(request.DmpId, json, today,
                    input?.Policy ?? request.Policy ?? options.Policy).Plan);
            }
        }

        return new ApprovalRequestView(instanceId, request, plan, approval.CreatedAt);
    }

    private async Task<string?> FetchAsync(string dmpId, CancellationToken cancellationToken)
    {
        try
        {
            return (await dmpTool.FetchDmpAsync(dmpId, cancellationToken).ConfigureAwait(false))?.Json;
        }
        catch (PortException)
        {
            return null;
        }
    }

    private static T? Read<T>(Func<T?> read)
        where T : class
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or ArgumentException
            or InvalidOperationException)
        {
            return null;
        }
    }
}
