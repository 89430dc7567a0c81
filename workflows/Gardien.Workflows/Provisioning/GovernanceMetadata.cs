using System.Globalization;

namespace Gardien.Workflows.Provisioning;

/// <summary>
/// Container metadata and blob index tag names Gardien writes on governed storage, so that anyone inspecting a
/// container (or the retention sweep querying tags) sees which plan governs it. Values are ASCII (ids are URL-escaped).
/// </summary>
public static class GovernanceMetadata
{
    public const string DmpId = "gardien_dmp_id";
    public const string DatasetId = "gardien_dataset_id";
    public const string KeepUntil = "gardien_keep_until";
    public const string Disposal = "gardien_disposal";
    public const string Classification = "gardien_classification";
    public const string PersonalData = "gardien_personal_data";
    public const string SensitiveData = "gardien_sensitive_data";
    public const string EmbargoUntil = "gardien_embargo_until";

    /// <summary>yyyy-MM-dd, which compares correctly as an ordinal string (tag queries).</summary>
    public static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Escapes non-ASCII and reserved characters (metadata values must be ASCII).</summary>
    public static string Value(string text) => Uri.EscapeDataString(text);
}
