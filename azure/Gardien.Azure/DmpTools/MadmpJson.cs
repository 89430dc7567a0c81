using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gardien.Azure.DmpTools;

/// <summary>What the DMP tool clients read from an RDA maDMP without the full reader: id, modified, datasets.</summary>
internal static partial class MadmpJson
{
    public static string? DmpId(JsonNode? document) => Text(document?["dmp"]?["dmp_id"]?["identifier"]);

    public static DateTimeOffset? Modified(JsonNode? document) => document?["dmp"]?["modified"] switch
    {
        JsonValue v when v.TryGetValue<string>(out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) => parsed,
        JsonValue v when v.TryGetValue<long>(out var epoch) => epoch > 100_000_000_000
            ? DateTimeOffset.FromUnixTimeMilliseconds(epoch)
            : DateTimeOffset.FromUnixTimeSeconds(epoch),
        _ => null,
    };

    /// <summary>
    /// The index of the dataset a Gardien dataset key names: its <c>dataset_id.identifier</c>, or for a key with an
    /// occurrence suffix (<c>id#2</c>) the n-th dataset with that identifier. -1 when none.
    /// </summary>
    public static int DatasetIndex(JsonArray datasets, string datasetKey)
    {
        var ids = datasets.Select(d => Text(d?["dataset_id"]?["identifier"])).ToList();
        var exact = ids.FindIndex(id => string.Equals(id, datasetKey, StringComparison.Ordinal));
        if (exact >= 0)
        {
            return exact;
        }

        var match = OccurrenceSuffix().Match(datasetKey);
        if (!match.Success)
        {
            return -1;
        }

        var occurrence = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        var seen = 0;
        for (var i = 0; i < ids.Count; i++)
        {
            if (string.Equals(ids[i], match.Groups[1].Value, StringComparison.Ordinal) && ++seen == occurrence)
            {
                return i;
            }
        }

        return -1;
    }

    public static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    [GeneratedRegex("^(.*)#([0-9]+)$")]
    private static partial Regex OccurrenceSuffix();
}
