using System.Globalization;
using System.Text.Json;

namespace Gardien.Workflows.Hosting.Events;

/// <summary>
/// The CloudEvents a DMP tool publishes when a plan is created or changed. <c>data</c> is either the maDMP document
/// (<c>{"dmp": {...}}</c>) or a reference (<c>{"dmp_id": "...", "modified": "..."}</c>, the workflow then fetches the
/// document); <c>submitted_by</c> may name who submitted it.
/// </summary>
public static class DmpCloudEvents
{
    public const string Created = "org.gardien.dmp.created";
    public const string Updated = "org.gardien.dmp.updated";

    public static bool IsDmpEvent(string type) =>
        string.Equals(type, Created, StringComparison.OrdinalIgnoreCase) || string.Equals(type, Updated, StringComparison.OrdinalIgnoreCase);

    /// <summary>The router's event; <see cref="FormatException"/> saying which JSON path is wrong when the data is unusable.</summary>
    public static DmpEvent ToDmpEvent(GridEvent gridEvent)
    {
        ArgumentNullException.ThrowIfNull(gridEvent);
        var data = gridEvent.Data;
        if (data.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"Event '{gridEvent.Id}' ({gridEvent.Type}): /data must be an object holding the maDMP document or {{\"dmp_id\", \"modified\"}}.");
        }

        var submittedBy = Text(data, "submitted_by");
        if (data.TryGetProperty("dmp", out var dmp))
        {
            var json = data.GetRawText();
            var dmpId = DmpSubmissionService.ExtractDmpId(json)
                ?? throw new FormatException($"Event '{gridEvent.Id}' ({gridEvent.Type}): /data/dmp/dmp_id/identifier is missing; Gardien needs it to recognise the DMP.");
            return dmp.ValueKind == JsonValueKind.Object
                ? new DmpEvent(dmpId, json, DmpSubmissionService.ExtractModified(json), submittedBy)
                : throw new FormatException($"Event '{gridEvent.Id}' ({gridEvent.Type}): /data/dmp must be an object.");
        }

        var id = Text(data, "dmp_id")
            ?? throw new FormatException($"Event '{gridEvent.Id}' ({gridEvent.Type}): /data/dmp_id is missing (and /data/dmp too); give the plan's dmp_id or the whole document.");
        DateTimeOffset? modified = null;
        if (Text(data, "modified") is { } text)
        {
            modified = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : throw new FormatException($"Event '{gridEvent.Id}' ({gridEvent.Type}): /data/modified '{text}' is not an ISO 8601 date-time.");
        }

        return new DmpEvent(id, null, modified, submittedBy);
    }

    private static string? Text(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString()) ? value.GetString()!.Trim() : null;
}
