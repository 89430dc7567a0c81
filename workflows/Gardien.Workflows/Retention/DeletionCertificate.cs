using System.Text.Json;
using System.Text.Json.Serialization;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Retention;

/// <summary>An approval as the certificate records it.</summary>
public sealed record CertificateApproval(string Role, string Decision, string? DecidedBy, DateTimeOffset? DecidedAt, string? ApprovalId);

/// <summary>
/// Evidence that a dataset was disposed of according to its plan: what (container, blob count, bytes, a SHA-256 manifest
/// over the sorted "name\tetag\n" lines, see <see cref="ContainerManifest.Compute"/>), under which approvals, and when
/// (notices, approval, phase 1, phase 2). Written to the audit trail as the <c>After</c> of a
/// <c>dataset.disposal_certificate</c> entry, whose hash chain makes it tamper-evident.
/// </summary>
public sealed record DeletionCertificate
{
    public const string ManifestAlgorithmDescription = "SHA-256 over UTF-8 lines \"name\\tetag\\n\", blobs sorted by ordinal name";

    public int CertificateVersion { get; init; } = 1;

    public required string CertificateId { get; init; }

    public required string DmpId { get; init; }

    public required string DatasetId { get; init; }

    public required string Container { get; init; }

    /// <summary>"Delete", "Archive" or "Publish".</summary>
    public required string Disposal { get; init; }

    public required DateOnly KeepUntil { get; init; }

    public required long BlobCount { get; init; }

    public required long TotalBytes { get; init; }

    public required string ManifestSha256 { get; init; }

    public string ManifestAlgorithm { get; init; } = ManifestAlgorithmDescription;

    public IReadOnlyList<CertificateApproval> Approvals { get; init; } = [];

    public IReadOnlyList<DateTimeOffset> NoticesSentAt { get; init; } = [];

    public DateTimeOffset? ApprovedAt { get; init; }

    /// <summary>Delete: marked for deletion; Archive/Publish: the tier change / hand-off.</summary>
    public DateTimeOffset? Phase1At { get; init; }

    /// <summary>Delete: purged. Null for Archive and Publish (single phase).</summary>
    public DateTimeOffset? Phase2At { get; init; }

    /// <summary>Who performed the disposal ("system:RetentionCaseWorkflow").</summary>
    public required string Actor { get; init; }

    public required string InstanceId { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }

    /// <summary>Set when the blobs found at phase 2 differ from those at phase 1 (written during the grace period).</summary>
    public string? Phase1ManifestSha256 { get; init; }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public JsonElement ToJsonElement() => JsonSerializer.SerializeToElement(this, Json);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static DeletionCertificate? FromJson(JsonElement element) => element.Deserialize<DeletionCertificate>(Json);
}
