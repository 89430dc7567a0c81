using System.ComponentModel.DataAnnotations;

namespace Gardien.Local.Configuration;

/// <summary>
/// Settings of the local adapters, section <c>Local</c> (environment variables <c>Local__StorageConnectionString</c>, ...).
/// Storage: a connection string, or service URIs used with <c>DefaultAzureCredential</c>; with neither, Azurite's
/// default development endpoints (<c>UseDevelopmentStorage=true</c>).
/// </summary>
public sealed class LocalAdaptersOptions : IValidatableObject
{
    public const string SectionName = "Local";

    /// <summary>Azure Storage connection string (Azurite or an account).</summary>
    public string? StorageConnectionString { get; set; }

    /// <summary>Blob endpoint for token (Entra ID) authentication, instead of a connection string.</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>Table endpoint for token authentication, instead of a connection string.</summary>
    public Uri? TableServiceUri { get; set; }

    /// <summary>Folder of the notification inbox.</summary>
    [Required]
    public string InboxPath { get; set; } = ".gardien/inbox";

    /// <summary>The directory file (users, groups, role assignments), written by membership changes.</summary>
    [Required]
    public string DirectoryPath { get; set; } = ".gardien/directory.json";

    /// <summary>Seed copied into <see cref="DirectoryPath"/> on first use when that file does not exist yet.</summary>
    public string? DirectorySeedPath { get; set; } = "samples/directory.sample.json";

    /// <summary>Folder of DMP files read by the file DMP-tool client (write-backs go to its writeback/ subfolder).</summary>
    [Required]
    public string DmpFolder { get; set; } = ".gardien/dmps";

    /// <summary>Prefix of the registry's table names (letters and digits).</summary>
    [Required]
    [RegularExpression(
        "^[A-Za-z][A-Za-z0-9]{0,49}$", ErrorMessage = "Local:TablePrefix must be 1–50 letters and digits, starting with a letter.")]
    public string TablePrefix { get; set; } = "gardien";

    /// <summary>Container of the audit trail.</summary>
    [Required]
    [RegularExpression(
        "^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$",
        ErrorMessage = "Local:AuditContainer must be a valid container name (3–63 lower-case letters, digits, single hyphens).")]
    public string AuditContainer { get; set; } = "audit";

    [Range(1, 50_000)]
    public int AuditSegmentMaxEntries { get; set; } = 10_000;

    /// <summary>Key id signing new approval links (secret <c>approval-signing-key-{id}</c>).</summary>
    [Required]
    public string ApprovalKeyId { get; set; } = "k1";

    /// <summary>Older key ids still accepted while rotating.</summary>
    public IList<string> ApprovalAcceptedKeyIds { get; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(StorageConnectionString) && (BlobServiceUri is not null || TableServiceUri is not null))
        {
            yield return new ValidationResult(
                "Set either Local:StorageConnectionString or Local:BlobServiceUri + Local:TableServiceUri, not both.",
                [nameof(StorageConnectionString), nameof(BlobServiceUri)]);
        }

        if ((BlobServiceUri is null) != (TableServiceUri is null))
        {
            yield return new ValidationResult(
                "Local:BlobServiceUri and Local:TableServiceUri go together (token authentication needs both endpoints).",
                [nameof(BlobServiceUri), nameof(TableServiceUri)]);
        }
    }

    /// <summary>The connection string in effect (the Azurite default when nothing is configured), or null with service URIs.</summary>
    public string? EffectiveConnectionString =>
        !string.IsNullOrWhiteSpace(StorageConnectionString) ? StorageConnectionString
        : BlobServiceUri is null ? "UseDevelopmentStorage=true"
        : null;
}
