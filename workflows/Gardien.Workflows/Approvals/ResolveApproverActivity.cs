using Gardien.Runtime;
using Gardien.Workflows.Governance;

namespace Gardien.Workflows.Approvals;

/// <param name="PiName">The PI (the DMP's contact), for the PI role.</param>
/// <param name="PiEmail">The PI's e-mail, for the PI role.</param>
/// <param name="Policy">The policy to resolve from; null: the configured one.</param>
public sealed record ResolveApproverInput(ApprovalRole Role, string? PiName, string? PiEmail, GovernancePolicy? Policy = null);

/// <summary>Who approves and on which schedule.</summary>
/// <param name="DelegateEmail">Who takes over on escalation; null when nobody is named (the data steward is then informed).</param>
/// <param name="EscalationNoticeTo">Informed on escalation when there is no delegate.</param>
public sealed record ResolvedApprover(
    string Name,
    string Email,
    string? DelegateName,
    string? DelegateEmail,
    string? EscalationNoticeTo,
    IsoPeriod ReminderEvery,
    IsoPeriod EscalateAfter,
    IsoPeriod Timeout,
    IReadOnlyList<string>? Delegates = null,
    IReadOnlyList<string>? OnBehalf = null)
{
    /// <summary>Who may decide for this role: the approver, every delegate, and the people allowed to act on the approver's behalf.</summary>
    public ApproverAuthority ToAuthority() => new(Email, Delegates ?? (DelegateEmail is null ? [] : [DelegateEmail]), OnBehalf ?? []);
}

/// <summary>Resolves the approver of a role: the PI from the DMP's contact, the data steward and the DPO from the policy.</summary>
public sealed class ResolveApproverActivity(GardienWorkflowOptions options) : Activity<ResolveApproverInput, ResolvedApprover>
{
    public override Task<ResolvedApprover> RunAsync(ActivityContext context, ResolveApproverInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Task.FromResult(Resolve(input, input.Policy ?? options.Policy));
    }

    public static ResolvedApprover Resolve(ResolveApproverInput input, GovernancePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(policy);
        var approvals = policy.Approvals;
        switch (input.Role)
        {
            case ApprovalRole.PrincipalInvestigator:
                if (string.IsNullOrWhiteSpace(input.PiEmail))
                {
                    throw new NonRetryableActivityException("The PI has no e-mail address (/dmp/contact/mbox): the PI approval cannot be requested. Add the contact's mbox to the DMP.");
                }

                return new ResolvedApprover(input.PiName ?? input.PiEmail, input.PiEmail, null, null, approvals.DataSteward.Email, approvals.ReminderEvery, approvals.EscalateAfter, approvals.Timeout, [], []);
            case ApprovalRole.DataSteward:
                return FromPolicy(approvals.DataSteward, approvals);
            case ApprovalRole.DataProtectionOfficer:
                return FromPolicy(approvals.DataProtectionOfficer, approvals);
            default:
                throw new NonRetryableActivityException($"Unknown approval role '{input.Role}'.");
        }
    }

    private static ResolvedApprover FromPolicy(Approver approver, ApprovalPolicy approvals)
    {
        var first = approver.Delegates.FirstOrDefault();
        return new ResolvedApprover(approver.Name, approver.Email, first?.Name, first?.Email, first is null ? approvals.DataSteward.Email : null, approvals.ReminderEvery, approvals.EscalateAfter, approvals.Timeout,
            [.. approver.Delegates.Select(d => d.Email)], [.. approver.OnBehalf.Select(o => o.Email)]);
    }
}
