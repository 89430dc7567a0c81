using System.Globalization;
using System.Text.Json;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Hosting.DmpPolling;

namespace Gardien.Workflows.Hosting.Events;

/// <summary>
/// The CloudEvents the DMP-tool poller publishes to the DMP topic when a plan is new or changed (types
/// <see cref="Submitted"/> and <see cref="Updated"/>, see <see cref="DmpChange"/>). <c>data</c> is the poller's reference
/// (<see cref="DmpChangeReference"/>: <c>{"tool", "id", "dmpId", "modified"}</c>, camelCase; the workflow then fetches
/// the document); a tool publishing itself may spell the id <c>dmp_id</c> or send the maDMP document (<c>{"dmp": {...}}</c>)
/// and name who submitted it (<c>submitted_by</c>). Which of the two types arrives does not matter: the router decides
/// between intake and update from the registry.
/// </summary>
public static class DmpCloudEvents
{
    public const string Submitted = DmpChange.SubmittedType;
    public const string Updated = DmpChange.UpdatedType;

    public static bool IsDmpEvent(string type) =>
        string.Equals(type, Submitted, StringComparison.OrdinalIgnoreCase)
        || string.Equals(type, Updated, StringComparison.OrdinalIgnoreCase);

    /// <summary>The router's event; <see cref="FormatException"/> saying which JSON path is wrong when the data is unusable.</summary>
    public static DmpEvent ToDmpEvent(GridEvent gridEvent)
    {
        ArgumentNullException.ThrowIfNull(gridEvent);
        var data = gridEvent.Data;
        if (data.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException(
                $"Event '{gridEvent.Id}' ({gridEvent.Type}): /data must be an object holding "
                + "{\"dmpId\", \"modified\"} or the maDMP document.");
        }

        var submittedBy = Text(data, "submitted_by");
        if (data.TryGetProperty("dmp", out var dmp))
        {
            var json = data.GetRawText();
            var dmpId = DmpSubmissionService.ExtractDmpId(json)
                ?? throw new FormatException(
                    $"Event '{gridEvent.Id}' ({gridEvent.Type}): /data/dmp/dmp_id/identifier is missing; "
                    + "Gardien needs it to recognise the DMP.");
            return dmp.ValueKind == JsonValueKind.Object
                ? new DmpEvent(dmpId, json, DmpSubmissionService.ExtractModified(json), submittedBy)
                : throw new FormatException($"Event '{gridEvent.Id}' ({gridEvent.Type}): /data/dmp must be an object.");
        }

        var id = Text(data, "dmpId") ?? Text(data, "dmp_id")
            ?? throw new FormatException(
                $"Event '{gridEvent.Id}' ({gridEvent.Type}): /data/dmpId is missing (and /data/dmp too); "
                + "give the plan's dmp_id or the whole document.");
        DateTimeOffset? modified = null;
        if (Text(data, "modified") is { } text)
        {
            modified = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : throw new FormatException(
                    $"Event '{gridEvent.Id}' ({gridEvent.Type}): /data/modified '{text}' is not an ISO 8601 date-time.");
        }

        return new DmpEvent(id, null, modified, submittedBy);
    }

    private static string? Text(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!.Trim()
            : null;
}
