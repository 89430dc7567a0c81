using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gardien.Workflows.Madmp;

/// <summary>Decides which schema a document is read against when the caller does not say.</summary>
internal static partial class MadmpVersionDetector
{
    /// <summary>
    /// <c>$schema</c> naming a version wins ("…/1.2/maDMP-schema-1.2.json", "…dmp-common.v1.2+json"). Otherwise a feature
    /// only 1.2 defines (identifier lists, creators, related identifiers, host_id...) means 1.2; anything else is read as
    /// 1.1, which accepts every valid 1.0 document (1.1 only relaxed 1.0's constraints).
    /// </summary>
    public static MadmpVersion Detect(JsonObject root)
    {
        if (root["$schema"] is JsonValue schemaValue && schemaValue.GetValueKind() == JsonValueKind.String)
        {
            var match = VersionInSchema().Match(schemaValue.GetValue<string>());
            if (match.Success)
            {
                return match.Groups["minor"].Value switch
                {
                    "0" => MadmpVersion.V1_0,
                    "1" => MadmpVersion.V1_1,
                    _ => MadmpVersion.V1_2,
                };
            }

            // Only 1.2 documents carry $schema in practice (the 1.1 schema forbids it).
            return MadmpVersion.V1_2;
        }

        return LooksLike12(root["dmp"] as JsonObject) ? MadmpVersion.V1_2 : MadmpVersion.V1_1;
    }

    // Every step checks the node's kind before indexing it: the document is not validated yet, and JsonNode's indexers
    // throw on a value of the wrong kind.
    private static bool LooksLike12(JsonObject? dmp)
    {
        if (dmp is null)
        {
            return false;
        }

        if (dmp.ContainsKey("related_identifier")
            || dmp.ContainsKey("alternate_identifier")
            || (dmp["contact"] as JsonObject)?["contact_id"] is JsonArray)
        {
            return true;
        }

        if (dmp["project"] is JsonArray projects && projects.Any(p => p is JsonObject project && project["project_id"] is JsonArray))
        {
            return true;
        }

        if (dmp["contributor"] is JsonArray contributors && contributors.Any(c => (c as JsonObject)?["contributor_id"] is JsonArray))
        {
            return true;
        }

        if (dmp["dataset"] is JsonArray datasets)
        {
            foreach (var dataset in datasets.OfType<JsonObject>())
            {
                if (dataset.ContainsKey("creator")
                    || dataset.ContainsKey("rights")
                    || dataset.ContainsKey("related_identifier")
                    || dataset.ContainsKey("alternate_identifier"))
                {
                    return true;
                }

                if (dataset["distribution"] is JsonArray distributions
                    && distributions.Any(d => (d as JsonObject)?["host"] is JsonObject host && host.ContainsKey("host_id")))
                {
                    return true;
                }
            }
        }

        return false;
    }

    [GeneratedRegex(@"(?<![0-9.])1[._](?<minor>[0-2])(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex VersionInSchema();
}
