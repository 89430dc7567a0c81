using System.ComponentModel.DataAnnotations;
using Gardien.Runtime.AzureStorage;

namespace Gardien.Local.Hosting;

/// <summary>
/// The embedded durable engine of the local host, section <c>Engine</c> (environment variables <c>Engine__TaskHubName</c>, ...).
/// Its task hub lives in Azure Storage: a connection string (Azurite by default), or the three service URIs used with
/// <c>DefaultAzureCredential</c>. Without either, the engine uses the local adapters' storage (<c>Local:StorageConnectionString</c>).
/// </summary>
public sealed class LocalEngineOptions : IValidatableObject
{
    public const string SectionName = "Engine";

    /// <summary>Prefix of the hub's tables, queues and container: 3 to 45 letters and digits, starting with a letter.</summary>
    [Required]
    [RegularExpression(
        "^[A-Za-z][A-Za-z0-9]{2,44}$",
        ErrorMessage = "Engine:TaskHubName must be 3–45 letters and digits, starting with a letter (Azure table names allow nothing "
            + "else).")]
    public string TaskHubName { get; set; } = "GardienLocal";

    /// <summary>
    /// Connection string of the task hub's account; default: <c>Local:StorageConnectionString</c>, else Azurite's default endpoints.
    /// </summary>
    public string? StorageConnectionString { get; set; }

    public Uri? BlobServiceUri { get; set; }

    public Uri? QueueServiceUri { get; set; }

    public Uri? TableServiceUri { get; set; }

    /// <summary>Control queues; one is plenty for a single local process.</summary>
    [Range(1, 16, ErrorMessage = "Engine:PartitionCount must be between 1 and 16.")]
    public int PartitionCount { get; set; } = 1;

    /// <summary>
    /// How long one command may run the engine before it gives up waiting for idle. The work goes on at the next
    /// command (state is durable), so this bounds a command's duration, not the work.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Engine:IdleTimeout must be between 00:00:01 and 01:00:00.")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Lease on a work item. Short on purpose: a command interrupted with Ctrl+C leaves its leased items invisible
    /// for this long, and the next command cannot pick them up before.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "00:30:00", ErrorMessage = "Engine:LockDuration must be between 00:00:10 and 00:30:00.")]
    public TimeSpan LockDuration { get; set; } = TimeSpan.FromSeconds(30);

    [Range(1, 64, ErrorMessage = "Engine:MaxConcurrentActivities must be between 1 and 64.")]
    public int MaxConcurrentActivities { get; set; } = 8;

    /// <summary>How long the start-up probe waits for the storage endpoint before reporting it unreachable.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Engine:ConnectTimeout must be between 00:00:01 and 00:05:00.")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var uris = new[] { BlobServiceUri, QueueServiceUri, TableServiceUri };
        var uriCount = uris.Count(u => u is not null);
        if (!string.IsNullOrWhiteSpace(StorageConnectionString) && uriCount > 0)
        {
            yield return new ValidationResult(
                "Set either Engine:StorageConnectionString or Engine:BlobServiceUri + QueueServiceUri + TableServiceUri, not both.",
                [nameof(StorageConnectionString)]);
        }
        else if (uriCount is > 0 and < 3)
        {
            yield return new ValidationResult(
                "Engine:BlobServiceUri, Engine:QueueServiceUri and Engine:TableServiceUri go together (token authentication needs all "
                + "three endpoints).",
                [nameof(BlobServiceUri), nameof(QueueServiceUri), nameof(TableServiceUri)]);
        }
    }

    /// <summary>The store options, falling back to the local adapters' connection string when the engine names no account.</summary>
    internal AzureStorageStoreOptions ToStoreOptions(string? fallbackConnectionString)
    {
        var common = new AzureStorageStoreOptions
        {
            TaskHubName = TaskHubName,
            PartitionCount = PartitionCount,
            VisibilityTimeout = LockDuration,
        };
        if (!string.IsNullOrWhiteSpace(StorageConnectionString))
        {
            return common with { ConnectionString = StorageConnectionString };
        }

        if (BlobServiceUri is not null)
        {
            return common with { BlobServiceUri = BlobServiceUri, QueueServiceUri = QueueServiceUri, TableServiceUri = TableServiceUri };
        }

        return fallbackConnectionString is null
            ? throw new GardienLocalHostException(
                "The engine has no storage account: the local adapters use service URIs (Local:BlobServiceUri), "
                + "so set Engine:BlobServiceUri, " +
                "Engine:QueueServiceUri and Engine:TableServiceUri too (or Engine:StorageConnectionString).")
            : common with { ConnectionString = fallbackConnectionString };
    }
}
