using Gardien.Workflows.Governance;

namespace Gardien.Workflows;

/// <summary>
/// Settings the Gardien activities read from DI (never workflow code: workflows get what they need through activity
/// results, so a settings change never breaks the replay of a running instance).
/// </summary>
public sealed record GardienWorkflowOptions
{
    /// <summary>Base of the approval links: <c>{ApprovalBaseUrl}/approvals/{token}?decision=approve|reject</c>.</summary>
    public Uri ApprovalBaseUrl { get; init; } = new("http://127.0.0.1:7071/");

    /// <summary>The institution policy used when a workflow input carries none.</summary>
    public GovernancePolicy Policy { get; init; } = GovernancePolicy.Default;

    /// <summary>Written back to the DMP as <c>host.storage_type</c>.</summary>
    public string StorageType { get; init; } = "Azure Blob Storage";

    /// <summary>Written back to the DMP as <c>host.backup_frequency</c>.</summary>
    public string BackupFrequency { get; init; } = "continuous (geo-redundant replication)";

    /// <summary>Actor recorded for decisions the system takes itself.</summary>
    public static string SystemActor(string workflowName) => "system:" + workflowName;
}
