using System.Text.Json.Serialization;

namespace Gardien.Workflows.Governance;

/// <summary>
/// When one person may not give two of the approvals requested together (<see cref="ApprovalPolicy.SeparationOfDuties"/>).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<SeparationOfDuties>))]
public enum SeparationOfDuties
{
    /// <summary>Never enforced: a PI who is also the data steward gives both approvals.</summary>
    Never,

    /// <summary>Enforced when any dataset holds personal or sensitive data (yes or unknown).</summary>
    PersonalData,

    /// <summary>Always enforced.</summary>
    Always,
}

/// <summary>Who is asked for one role's approval, and who takes over on escalation.</summary>
/// <param name="Substitution">Why this is not the role's usual approver (null when it is).</param>
public sealed record AssignedApprover(
    ApprovalRole Role,
    string Name,
    string Email,
    string? DelegateName,
    string? DelegateEmail,
    string? Substitution);

/// <summary>The approvers of the roles requested together, and the roles nobody may be asked for (with why).</summary>
public sealed record ApproverAssignmentResult(
    IReadOnlyList<AssignedApprover> Approvers,
    IReadOnlyList<(ApprovalRole Role, string Problem)> Unassigned)
{
    public AssignedApprover? For(ApprovalRole role) => Approvers.FirstOrDefault(a => a.Role == role);
}

/// <summary>
/// Assigns a person to each approval role requested together, the same way for the plan (which reports it) and for
/// the approval workflow (which asks them). Roles are served in the order PI, data steward, DPO. The PI role goes to
/// the DMP's contact, or to the policy's fallback approver (then its delegates) when the contact has no usable
/// mailbox. The steward and DPO roles go to the policy's approver, then to its delegates in order. Under separation
/// of duties nobody may hold two roles: neither as approver nor as escalation delegate, so a later role skips anyone
/// an earlier role may ask. A role left without anyone is reported, never silently given to someone else.
/// </summary>
public static class ApproverAssignment
{
    private static readonly ApprovalRole[] Order =
    [
        ApprovalRole.PrincipalInvestigator,
        ApprovalRole.DataSteward,
        ApprovalRole.DataProtectionOfficer,
    ];

    public static bool Applies(ApprovalPolicy policy, bool personalData)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.SeparationOfDuties == SeparationOfDuties.Always
            || (policy.SeparationOfDuties == SeparationOfDuties.PersonalData && personalData);
    }

    /// <param name="roles">The roles requested together (a plan's required approvals, or one retention round's).</param>
    /// <param name="piName">The DMP's contact.</param>
    /// <param name="piEmail">The contact's mailbox as the DMP states it (checked here).</param>
    /// <param name="personalData">Whether personal or sensitive data is involved (yes or unknown).</param>
    public static ApproverAssignmentResult Assign(
        IEnumerable<ApprovalRole> roles,
        string? piName,
        string? piEmail,
        ApprovalPolicy policy,
        bool personalData)
    {
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentNullException.ThrowIfNull(policy);
        var requested = roles.ToHashSet();
        var separate = Applies(policy, personalData);
        var taken = new List<(string Email, string Name, ApprovalRole Role)>();
        var assigned = new List<AssignedApprover>();
        var unassigned = new List<(ApprovalRole, string)>();
        var contactUsable = Mailbox.Problem(piEmail) is null;
        foreach (var role in Order.Where(requested.Contains))
        {
            var candidates = Candidates(role, piName, piEmail, policy);
            var primaryIndex = candidates.FindIndex(c => !separate || !IsTaken(taken, c.Email));
            if (primaryIndex < 0)
            {
                unassigned.Add((role, candidates.Count == 0
                    ? Unreachable(role, piEmail)
                    : $"everyone who may give the {Title(role)} approval ({string.Join(", ", candidates.Select(c => c.Email))}) "
                        + $"already gives another approval of this request: {Holders(taken, candidates)}. One person cannot give two "
                        + "approvals (approvals.separation_of_duties): add a delegate for this role to the policy"));
                continue;
            }

            var primary = candidates[primaryIndex];
            var delegateIndex = candidates.FindIndex(
                primaryIndex + 1, c => !Mailbox.SamePerson(c.Email, primary.Email) && (!separate || !IsTaken(taken, c.Email)));
            (string Name, string Email)? escalation = delegateIndex >= 0 ? candidates[delegateIndex] : null;
            var reasons = new List<string>(2);
            if (role == ApprovalRole.PrincipalInvestigator && !contactUsable)
            {
                reasons.Add(
                    $"the contact's mailbox cannot receive an approval ({Unusable(piEmail)}), so the policy's fallback approver is asked");
            }

            if (primaryIndex > 0)
            {
                var skipped = candidates[0];
                var holder = taken.First(t => Mailbox.SamePerson(t.Email, skipped.Email));
                reasons.Add(
                    $"{skipped.Name} <{skipped.Email}> already gives the {Title(holder.Role)} approval of this request and one person "
                    + "cannot give two (approvals.separation_of_duties), so the next delegate is asked");
            }

            assigned.Add(
                new AssignedApprover(
                    role,
                    primary.Name,
                    primary.Email,
                    escalation?.Name,
                    escalation?.Email,
                    reasons.Count == 0 ? null : string.Join("; ", reasons)));
            if (separate)
            {
                taken.Add((primary.Email, primary.Name, role));
                if (escalation is { } e)
                {
                    taken.Add((e.Email, e.Name, role));
                }
            }
        }

        return new ApproverAssignmentResult(assigned, unassigned);
    }

    private static List<(string Name, string Email)> Candidates(ApprovalRole role, string? piName, string? piEmail, ApprovalPolicy policy)
    {
        var list = new List<(string Name, string Email)>();
        switch (role)
        {
            case ApprovalRole.PrincipalInvestigator:
                if (Mailbox.Problem(piEmail) is null)
                {
                    var email = piEmail!.Trim();
                    list.Add((string.IsNullOrWhiteSpace(piName) ? email : piName, email));
                }
                else if (policy.FallbackApprover is { } fallback)
                {
                    AddApprover(list, fallback);
                }

                break;
            case ApprovalRole.DataSteward:
                AddApprover(list, policy.DataSteward);
                break;
            default:
                AddApprover(list, policy.DataProtectionOfficer);
                break;
        }

        return list;
    }

    private static void AddApprover(List<(string Name, string Email)> list, Approver approver)
    {
        // Policy addresses are checked when the policy loads; a policy built in code is checked here as well.
        if (Mailbox.Problem(approver.Email) is null)
        {
            list.Add((approver.Name, approver.Email.Trim()));
        }

        foreach (var d in approver.Delegates)
        {
            if (Mailbox.Problem(d.Email) is null)
            {
                list.Add((d.Name, d.Email.Trim()));
            }
        }
    }

    private static bool IsTaken(List<(string Email, string Name, ApprovalRole Role)> taken, string email) =>
        taken.Any(t => Mailbox.SamePerson(t.Email, email));

    private static string Holders(
        List<(string Email, string Name, ApprovalRole Role)> taken,
        List<(string Name, string Email)> candidates) =>
        string.Join(
            "; ",
            candidates.Select(c => taken.First(t => Mailbox.SamePerson(t.Email, c.Email))).Select(t => $"{t.Email} ({Title(t.Role)})")
                .Distinct(StringComparer.Ordinal));

    private static string Unreachable(ApprovalRole role, string? piEmail) => role == ApprovalRole.PrincipalInvestigator
        ? $"the contact's mailbox cannot receive an approval ({Unusable(piEmail)}) and the policy names no fallback approver "
            + "(approvals.fallback_approver): correct the contact's mbox in the DMP, or name a fallback approver in the policy"
        : $"the policy names no usable address for the {Title(role)}";

    private static string Unusable(string? piEmail) =>
        string.IsNullOrWhiteSpace(piEmail) ? "the DMP gives none" : $"'{piEmail}': {Mailbox.Problem(piEmail)}";

    internal static string Title(ApprovalRole role) => role switch
    {
        ApprovalRole.PrincipalInvestigator => "principal investigator",
        ApprovalRole.DataSteward => "data steward",
        _ => "data protection officer",
    };
}
