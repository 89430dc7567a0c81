using Gardien.Azure.Configuration;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.State;

/// <summary>
/// Where Gardien keeps its own state in the research-data account, section <c>ResearchData</c>: the governance registry
/// in its tables (<c>ResearchData__tableServiceUri</c>) and the audit trail in its write-once container
/// (<c>ResearchData__blobServiceUri</c>, <c>ResearchData__auditContainerName</c>). Identity-based only.
/// </summary>
public sealed class ResearchStateOptions
{
    public const string SectionName = "ResearchData";

    /// <summary>Table endpoint of the research account, e.g. <c>https://stdata….table.core.windows.net/</c>.</summary>
    public Uri? TableServiceUri { get; set; }

    /// <summary>Blob endpoint of the research account (the audit container lives there).</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>The container with a time-based immutability policy that allows protected appends.</summary>
    public string AuditContainerName { get; set; } = "audit";

    /// <summary>Prefix of the registry's table names (letters and digits).</summary>
    public string TablePrefix { get; set; } = "gardien";

    /// <summary>Entries per audit segment before a new append blob starts (an append blob holds at most 50,000 blocks).</summary>
    public int AuditSegmentMaxEntries { get; set; } = 10_000;
}

internal sealed class ResearchStateOptionsValidator : IValidateOptions<ResearchStateOptions>
{
    public ValidateOptionsResult Validate(string? name, ResearchStateOptions options)
    {
        var errors = new OptionsErrors(ResearchStateOptions.SectionName);
        errors.RequireHttps("tableServiceUri", options.TableServiceUri);
        errors.RequireHttps("blobServiceUri", options.BlobServiceUri);
        var container = options.AuditContainerName ?? string.Empty;
        if (container.Length is < 3 or > 63 || !container.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            || container.StartsWith('-') || container.EndsWith('-') || container.Contains("--", StringComparison.Ordinal))
        {
            errors.Add("auditContainerName", $"'{container}' is not a container name: 3-63 lower-case letters, digits and single hyphens.");
        }

        var prefix = options.TablePrefix ?? string.Empty;
        if (prefix.Length is < 1 or > 50 || !char.IsAsciiLetter(prefix[0]) || !prefix.All(char.IsAsciiLetterOrDigit))
        {
            errors.Add("tablePrefix", $"'{prefix}' must be 1-50 letters and digits, starting with a letter.");
        }

        if (options.AuditSegmentMaxEntries is < 1 or > 50_000)
        {
            errors.Add("auditSegmentMaxEntries", $"{options.AuditSegmentMaxEntries} must be between 1 and 50000.");
        }

        return errors.Result();
    }
}
