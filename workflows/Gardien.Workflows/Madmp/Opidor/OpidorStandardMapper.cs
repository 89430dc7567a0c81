using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gardien.Workflows.Madmp.Opidor;

/// <summary>
/// Fills in what DMP OPIDoR's RDA export drops (storage type, backup frequency and type, security measures, preservation
/// end date) from its native "standard" export (<c>GET /api/v1/madmp/plans/{id}?export_format=standard</c>).
/// </summary>
/// <remarks>
/// The native export is a tree of fragments following DMP OPIDoR's templates (config/templates at OPIDoR/DMPOPIDoR@bf35d6b):
/// a <c>researchOutput</c> list whose items hold <c>researchOutputDescription</c> (title, datasetId),
/// <c>dataStorage</c> (DataStorageStandard: securityMeasures, backupPolicy[] of BackupPolicyStandard: backupFrequency,
/// backupType, storageType[]) and <c>preservationIssues</c> (DataPreservationStandard: endDate). The list is looked up at
/// the root or one level below (e.g. under <c>plan</c>), since the shared reference data has templates and fragments but
/// no complete plan export. Research outputs are matched to RDA datasets by dataset identifier, then title, then
/// position when both lists have the same length. Labels from registries are normalised to en_GB (French labels accepted).
/// Hosts are enriched where the RDA document has one; a distribution without a host gets one titled after the storage
/// facility, because the storage facts are what governance needs.
/// </remarks>
public sealed class OpidorStandardMapper : IMadmpSourceMapper
{
    public string SourceName => "dmp-opidor";

    public MadmpSourceMapResult Enrich(MadmpDocument rdaDocument, ReadOnlyMemory<byte> nativeExport)
    {
        ArgumentNullException.ThrowIfNull(rdaDocument);
        var warnings = new List<ValidationIssue>();
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(nativeExport.Span, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            warnings.Add(
                Warn(
                    "",
                    $"The DMP OPIDoR standard export is not valid JSON (line {(ex.LineNumber ?? 0) + 1}); storage, "
                    + "backup and preservation facts were not added."));
            return new MadmpSourceMapResult(rdaDocument, warnings);
        }

        var (outputs, outputsPath) = FindResearchOutputs(root);
        if (outputs is null)
        {
            warnings.Add(
                Warn(
                    "",
                    "The DMP OPIDoR standard export has no \"researchOutput\" list; storage, "
                    + "backup and preservation facts were not added."));
            return new MadmpSourceMapResult(rdaDocument, warnings);
        }

        var datasets = rdaDocument.Dmp.Datasets.ToArray();
        var used = new bool[datasets.Length];
        for (var i = 0; i < outputs.Count; i++)
        {
            var path = $"{outputsPath}/{i}";
            if (outputs[i] is not JsonObject output)
            {
                continue;
            }

            var index = Match(output, i, datasets, used, outputs.Count);
            if (index < 0)
            {
                warnings.Add(
                    Warn(
                        path,
                        $"Research output \"{Text((output["researchOutputDescription"] as JsonObject)?["title"]) ?? "(untitled)"}\" "
                        + "matches no dataset of the RDA export (by identifier, title or position); its storage facts were not added."));
                continue;
            }

            used[index] = true;
            datasets[index] = EnrichDataset(datasets[index], output, path, warnings);
        }

        var dmp = rdaDocument.Dmp with { Datasets = datasets };
        return new MadmpSourceMapResult(rdaDocument with { Dmp = dmp }, warnings);
    }

    private static Dataset EnrichDataset(Dataset dataset, JsonObject output, string path, List<ValidationIssue> warnings)
    {
        var storage = output["dataStorage"] as JsonObject;
        var backup = (storage?["backupPolicy"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault()
            ?? storage?["backupPolicy"] as JsonObject;
        var storageTypes = Labels(
            backup?["storageType"], OpidorRegistry.StorageType, $"{path}/dataStorage/backupPolicy/0/storageType", warnings);
        var backupType = Labels(
            backup?["backupType"], OpidorRegistry.BackupType, $"{path}/dataStorage/backupPolicy/0/backupType", warnings);
        var backupFrequency = Text(backup?["backupFrequency"]);
        var facility = (storage?["facility"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault();

        var distributions = dataset.Distributions.Select(distribution =>
        {
            if (storageTypes.Length == 0 && backupType.Length == 0 && backupFrequency is null)
            {
                return distribution;
            }

            var host = distribution.Host ?? new Host
            {
                Title = Text(facility?["title"]) ?? "Storage described in DMP OPIDoR",
                Url = Text(facility?["policyUrl"]) ?? "",
            };
            return distribution with
            {
                Host = host with
                {
                    StorageType = host.StorageType ?? (storageTypes.Length > 0 ? string.Join(", ", storageTypes) : null),
                    BackupType = host.BackupType ?? (backupType.Length > 0 ? string.Join(", ", backupType) : null),
                    BackupFrequency = host.BackupFrequency ?? backupFrequency,
                },
            };
        }).ToArray();

        var security = dataset.SecurityAndPrivacy;
        if (Text(storage?["securityMeasures"]) is { } measures && !security.Any(s => s.Description == measures))
        {
            security = [.. security, new SecurityAndPrivacyItem("Security measures (DMP OPIDoR data storage)", measures)];
        }

        var until = dataset.PreservationUntil;
        if ((output["preservationIssues"] as JsonObject)?["endDate"] is { } endNode)
        {
            var parsed = MadmpModelMapper.Date(endNode);
            if (parsed is null)
            {
                warnings.Add(
                    Warn(
                        $"{path}/preservationIssues/endDate",
                        $"The preservation end date \"{Text(endNode)}\" is not a date (YYYY-MM-DD); it was ignored."));
            }

            until ??= parsed;
        }

        return dataset with { Distributions = distributions, SecurityAndPrivacy = security, PreservationUntil = until };
    }

    private static int Match(JsonObject output, int position, Dataset[] datasets, bool[] used, int outputCount)
    {
        var description = output["researchOutputDescription"] as JsonObject;
        var id = Text(description?["datasetId"]);
        var title = Text(description?["title"]);
        for (var i = 0; i < datasets.Length; i++)
        {
            if (!used[i] && id is not null && string.Equals(datasets[i].DatasetId.Value, id, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        for (var i = 0; i < datasets.Length; i++)
        {
            if (!used[i] && title is not null && string.Equals(datasets[i].Title.Trim(), title.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return outputCount == datasets.Length && position < datasets.Length && !used[position] ? position : -1;
    }

    private static string[] Labels(JsonNode? node, OpidorRegistry registry, string path, List<ValidationIssue> warnings)
    {
        // Explicit element arrays: a collection expression here would be typed JsonArray and re-parent the node.
        var items = node switch
        {
            JsonArray array => array.ToArray(),
            null => Array.Empty<JsonNode?>(),
            _ => new[] { node },
        };

        var labels = new List<string>();
        foreach (var item in items)
        {
            if (Text(item) is not { } label)
            {
                continue;
            }

            var english = registry.ToEnglish(label);
            if (english is null)
            {
                warnings.Add(Warn(path, $"\"{label}\" is not in DMP OPIDoR's registry; it was kept as written."));
            }

            labels.Add(english ?? label.Trim());
        }

        return [.. labels.Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    private static (JsonArray? Outputs, string Path) FindResearchOutputs(JsonNode? root)
    {
        if (root is not JsonObject obj)
        {
            return (null, "");
        }

        if (obj["researchOutput"] is JsonArray direct)
        {
            return (direct, "/researchOutput");
        }

        foreach (var (key, value) in obj)
        {
            if (value is JsonObject child && child["researchOutput"] is JsonArray nested)
            {
                return (nested, $"/{JsonPointer.Escape(key)}/researchOutput");
            }
        }

        return (null, "");
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text
            ? text
            : null;

    private static ValidationIssue Warn(string path, string message) => new(path, message, "opidor", IssueSeverity.Warning);
}
