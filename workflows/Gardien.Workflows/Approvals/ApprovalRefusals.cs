namespace Gardien.Workflows.Approvals;

/// <summary>
/// Why a request did not pass, in the words outputs, registry reasons and audit entries use (English; messages to
/// people take theirs from the catalogue).
/// </summary>
public static class ApprovalRefusals
{
    /// <summary>
    /// The approval that stopped the request: a rejection before an expiry before a withdrawal. The others are withdrawn
    /// because of it, and the PI must hear the approver's own reason, not "withdrawn".
    /// </summary>
    public static ApprovalWorkflowOutput? Decisive(IReadOnlyList<ApprovalWorkflowOutput> approvals)
    {
        ArgumentNullException.ThrowIfNull(approvals);
        return approvals.Where(a => !a.IsApproved).OrderBy(a => a.Outcome switch
        {
            ApprovalOutcome.Rejected => 0,
            ApprovalOutcome.Expired => 1,
            _ => 2,
        }).FirstOrDefault();
    }

    /// <summary>"the data steward (x@y) rejected it: "comment"", "… did not decide in time", "… was withdrawn (why)".</summary>
    public static string Describe(ApprovalWorkflowOutput refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        var role = ApprovalRoles.Title(refusal.Role);
        return refusal.Outcome switch
        {
            ApprovalOutcome.Rejected => $"the {role} ({refusal.DecidedByLabel ?? refusal.Approver}) rejected it"
                + (string.IsNullOrWhiteSpace(refusal.Comment) ? string.Empty : $": \"{refusal.Comment}\""),
            ApprovalOutcome.Expired => $"the {role} ({refusal.Approver}) did not decide in time",
            _ => $"the {role} approval was withdrawn ({refusal.Comment})",
        };
    }

    /// <summary>"data steward: Rejected too early; data protection officer: Expired" (one entry per refusal).</summary>
    public static string Summary(IEnumerable<ApprovalWorkflowOutput> refused) =>
        string.Join("; ", refused.Select(r => $"{ApprovalRoles.Title(r.Role)}: {r.Outcome} {r.Comment}".Trim()));
}
