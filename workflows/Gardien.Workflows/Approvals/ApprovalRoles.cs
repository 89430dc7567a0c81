using Gardien.Workflows.Governance;

namespace Gardien.Workflows.Approvals;

/// <summary>Short role codes used in approval ids, tokens, registry records and instance ids.</summary>
public static class ApprovalRoles
{
    public static string Code(ApprovalRole role) => role switch
    {
        ApprovalRole.PrincipalInvestigator => "pi",
        ApprovalRole.DataSteward => "steward",
        ApprovalRole.DataProtectionOfficer => "dpo",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown approval role."),
    };

    public static string Title(ApprovalRole role) => role switch
    {
        ApprovalRole.PrincipalInvestigator => "principal investigator",
        ApprovalRole.DataSteward => "data steward",
        ApprovalRole.DataProtectionOfficer => "data protection officer",
        _ => role.ToString(),
    };
}
