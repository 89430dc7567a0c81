using Gardien.Runtime;
using Gardien.Workflows.Governance;

namespace Gardien.Workflows.Approvals;

/// <param name="PiName">The PI (the DMP's contact), for the PI role.</param>
/// <param name="PiEmail">The PI's e-mail, for the PI role (checked: a look-alike or malformed one goes to the fallback approver).</param>
/// <param name="Policy">The policy to resolve from; null: the configured one.</param>
/// <param name="RequestedWith">The other roles asked for the same request: under separation of duties nobody holds two.</param>
/// <param name="PersonalData">Whether the request involves personal or sensitive data (separation of duties applies by default).</param>
public sealed record ResolveApproverInput(
    ApprovalRole Role,
    string? PiName,
    string? PiEmail,
    GovernancePolicy? Policy = null,
    IReadOnlyList<ApprovalRole>? RequestedWith = null,
    bool PersonalData = true);

/// <summary>Who approves and on which schedule.</summary>
/// <param name="DelegateEmail">Who takes over on escalation; null when nobody is named (the data steward is then informed).</param>
/// <param name="EscalationNoticeTo">Informed on escalation when there is no delegate.</param>
/// <param name="Language">The language the policy writes messages in.</param>
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
    IReadOnlyList<string>? OnBehalf = null,
    string Language = NotificationLanguages.English)
{
    /// <summary>
    /// Who may decide for this role: the approver, every delegate, and the people allowed to act on the approver's behalf.
    /// </summary>
    public ApproverAuthority ToAuthority() => new(Email, Delegates ?? (DelegateEmail is null ? [] : [DelegateEmail]), OnBehalf ?? []);
}

/// <summary>
/// Resolves the approver of a role with <see cref="ApproverAssignment"/> (the rule the plan reports): the PI from the
/// DMP's contact, or the policy's fallback approver when the contact has no usable mailbox; the data steward and the
/// DPO from the policy; under separation of duties, a role whose approver already holds another role of the same
/// request goes to its next delegate.
/// </summary>
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
        if (!Enum.IsDefined(input.Role))
        {
            throw new NonRetryableActivityException($"Unknown approval role '{input.Role}'.");
        }

        var approvals = policy.Approvals;
        var roles = (input.RequestedWith ?? []).Append(input.Role);
        var assignment = ApproverAssignment.Assign(roles, input.PiName, input.PiEmail, approvals, input.PersonalData);
        if (assignment.For(input.Role) is not { } approver)
        {
            var problem = assignment.Unassigned.First(u => u.Role == input.Role).Problem;
            throw new NonRetryableActivityException($"The {ApprovalRoles.Title(input.Role)} approval cannot be requested: {problem}.");
        }

        // Without a delegate, escalation informs the data steward (unless the steward is the one who is late).
        var notice = approver.DelegateEmail is null && !Mailbox.SamePerson(approvals.DataSteward.Email, approver.Email)
            ? approvals.DataSteward.Email
            : null;

        // Who may decide: the approver and the delegate the assignment chose (never a delegate who gives another approval
        // of this request), and the people the policy lets act on the approver's behalf, under the same rule.
        var others = ApproverAssignment.Applies(approvals, input.PersonalData)
            ? assignment.Approvers.Where(a => a.Role != input.Role).SelectMany(a => new[] { a.Email, a.DelegateEmail }).OfType<string>()
                .ToList()
            : [];
        var onBehalf = PolicyApprover(input.Role, approvals) is { } configured && Mailbox.SamePerson(configured.Email, approver.Email)
            ? configured.OnBehalf.Select(o => o.Email).Where(e => !others.Any(o => Mailbox.SamePerson(o, e))).ToList()
            : [];
        return new ResolvedApprover(
            approver.Name,
            approver.Email,
            approver.DelegateName,
            approver.DelegateEmail,
            notice,
            approvals.ReminderEvery,
            approvals.EscalateAfter,
            approvals.Timeout,
            approver.DelegateEmail is null ? [] : [approver.DelegateEmail], onBehalf, policy.Notifications.Language);
    }

    private static Approver? PolicyApprover(ApprovalRole role, ApprovalPolicy approvals) => role switch
    {
        ApprovalRole.DataSteward => approvals.DataSteward,
        ApprovalRole.DataProtectionOfficer => approvals.DataProtectionOfficer,
        _ => null,
    };
}
