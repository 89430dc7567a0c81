using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Approvals;

/// <param name="Action">Audit action: approval.requested, approval.reminded, approval.escalated, approval.decided, approval.expired,
/// approval.cancelled, approval.token_refused.</param>
/// <param name="Discriminator">Makes repeated entries of the same action distinct in the audit (e.g. the reminder number).</param>
public sealed record RecordApprovalInput(
    ApprovalRecord Record,
    string Action,
    string Actor,
    DateTimeOffset At,
    object? Details = null,
    string? Discriminator = null,
    bool WriteRecord = true);

/// <summary>Upserts the approval record (who was asked, who decided, when, comment) and audits the step.</summary>
public sealed class RecordApprovalActivity(IGovernanceRegistry registry, IAuditLog audit) : Activity<RecordApprovalInput, ApprovalRecord>
{
    public override async Task<ApprovalRecord> RunAsync(ActivityContext context, RecordApprovalInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var existing = await registry.GetApprovalAsync(input.Record.DmpId, input.Record.ApprovalId, ct);
        var stored = existing;
        if (input.WriteRecord)
        {
            // A decided approval never goes back to pending (a redelivered "requested" step after the decision).
            stored = existing is { Decision: not ApprovalDecision.Pending } && input.Record.Decision == ApprovalDecision.Pending
                ? existing
                : await registry.UpsertApprovalAsync(input.Record with { ETag = null }, ct);
        }

        await audit.AppendAsync(
            AuditEntries.Create(
                input.Actor, input.Action, context.InstanceId, AuditEntries.DmpSubject(input.Record.DmpId), input.At.UtcDateTime,
                before: existing is null ? null : new { decision = existing.Decision.ToString() },
                after: new
                {
                    approvalId = input.Record.ApprovalId,
                    role = input.Record.Role,
                    subject = input.Record.Subject,
                    approver = input.Record.Approver,
                    decision = input.Record.Decision.ToString(),
                    decidedBy = input.Record.DecidedBy,
                    onBehalfOf = input.Record.OnBehalfOf,
                    decidedAt = input.Record.DecidedAt,
                    comment = input.Record.Comment,
                    escalated = input.Record.Escalated,
                    details = input.Details,
                },
                discriminator: ":" + input.Record.ApprovalId + input.Discriminator),
            ct);
        return stored ?? input.Record;
    }
}
