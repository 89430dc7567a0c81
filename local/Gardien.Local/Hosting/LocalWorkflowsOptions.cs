using System.ComponentModel.DataAnnotations;

namespace Gardien.Local.Hosting;

/// <summary>
/// What the workflows of the local host apply, section <c>Workflows</c> (environment variables <c>Workflows__PolicyPath</c>, ...).
/// </summary>
public sealed class LocalWorkflowsOptions : IValidatableObject
{
    public const string SectionName = "Workflows";

    /// <summary>The institution policy (JSON, see docs/policy.md); null or empty: the built-in default policy.</summary>
    public string? PolicyPath { get; set; }

    /// <summary>Base of the approval links written in approval requests: <c>{base}/approvals/{token}?decision=approve|reject</c>.</summary>
    [Required(ErrorMessage = "Workflows:ApprovalBaseUrl is required (e.g. http://127.0.0.1:7071/).")]
    public Uri? ApprovalBaseUrl { get; set; } = new("http://127.0.0.1:7071/api/");

    /// <summary>Written back to the DMP as <c>host.storage_type</c>; null: the workflows' default.</summary>
    public string? StorageType { get; set; }

    /// <summary>Written back to the DMP as <c>host.backup_frequency</c>; null: the workflows' default.</summary>
    public string? BackupFrequency { get; set; }

    /// <summary>
    /// Whether the host makes sure, at every start, that the daily retention schedule runs (it also starts the access
    /// reviews); default true. False leaves sweeps to <c>gardien retention sweep</c>.
    /// </summary>
    public bool StartRetentionSchedule { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ApprovalBaseUrl is { IsAbsoluteUri: false } or { Scheme: not ("http" or "https") })
        {
            yield return new ValidationResult(
                $"Workflows:ApprovalBaseUrl '{ApprovalBaseUrl}' must be an absolute http(s) URL, e.g. http://127.0.0.1:7071/api/.",
                [nameof(ApprovalBaseUrl)]);
        }
    }
}
