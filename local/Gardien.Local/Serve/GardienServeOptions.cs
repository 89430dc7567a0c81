using System.ComponentModel.DataAnnotations;

namespace Gardien.Local.Serve;

/// <summary>The local service, section <c>Serve</c> (environment variables <c>Serve__Url</c>, ...).</summary>
public sealed class GardienServeOptions : IValidatableObject
{
    public const string SectionName = "Serve";

    /// <summary>Where the service listens. Loopback by default: reads are then reachable from this machine only.</summary>
    [Required(ErrorMessage = "Serve:Url is required (e.g. http://127.0.0.1:7071).")]
    public Uri? Url { get; set; } = new("http://127.0.0.1:7071");

    /// <summary>The local state folder: the API key and the discovery file the CLI reads live here.</summary>
    [Required(ErrorMessage = "Serve:StateDirectory is required (e.g. .gardien).")]
    public string StateDirectory { get; set; } = ".gardien";

    /// <summary>How often the governed containers are listed for new and deleted blobs (the local stand-in for Event Grid).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Serve:BlobWatchInterval must be between 00:00:01 and 01:00:00.")]
    public TimeSpan BlobWatchInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the retention schedule and the access reviews of active DMPs are ensured (each start is idempotent).</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00", ErrorMessage = "Serve:ScheduleInterval must be between 00:00:05 and 1.00:00:00.")]
    public TimeSpan ScheduleInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often workflows waiting for a repaired audit trail are checked.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00", ErrorMessage = "Serve:AuditCheckInterval must be between 00:00:05 and 01:00:00.")]
    public TimeSpan AuditCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Serve reads and pages to other machines without the API key (off: only this machine, or the key).</summary>
    public bool AllowRemoteReads { get; set; }

    /// <summary>Watch the governed containers for blob events.</summary>
    public bool WatchBlobs { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Url is { IsAbsoluteUri: false } or { Scheme: not "http" })
        {
            yield return new ValidationResult($"Serve:Url '{Url}' must be an absolute http URL, e.g. http://127.0.0.1:7071 (TLS is for a "
                + $"reverse proxy).", [nameof(Url)]);
        }
    }
}
