using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// Maps a schema-valid (possibly normalised) document to the immutable model. It runs only after validation passed, so
/// it reads defensively but does not report: every value the schema guarantees is present, and the rest is optional.
/// </summary>
internal sealed class MadmpModelMapper
{
    private readonly IReadOnlySet<JsonNode> _synthesised;

    public MadmpModelMapper(IReadOnlySet<JsonNode>? synthesised = null)
    {
        _synthesised = synthesised ?? new HashSet<JsonNode>();
    }

    public MadmpDocument Map(JsonObject root, MadmpVersion version)
    {
        var dmp = (JsonObject)root["dmp"]!;
        var ethical = YesNo(dmp["ethical_issues_exist"]);
        return new MadmpDocument(version, new Dmp
        {
            DmpId = Id(dmp["dmp_id"]) ?? new Identifier("", "other"),
            Title = Str(dmp["title"]) ?? "",
            Description = Str(dmp["description"]),
            Language = Str(dmp["language"]),
            Created = Timestamp(dmp["created"]),
            Modified = Timestamp(dmp["modified"]),
            EthicalIssuesExist = ethical ?? YesNoUnknown.Unknown,
            EthicalIssuesDescription = Str(dmp["ethical_issues_description"]),
            EthicalIssuesReport = Str(dmp["ethical_issues_report"]),
            Contact = MapContact(dmp["contact"] as JsonObject),
            Contributors = Objects(dmp["contributor"]).Select(MapContributor).ToValueList(),
            Projects = Objects(dmp["project"]).Select(MapProject).ToValueList(),
            Datasets = Objects(dmp["dataset"]).Select(MapDataset).ToValueList(),
            Costs = Objects(dmp["cost"]).Select(MapCost).ToValueList(),
            AlternateIdentifiers = Objects(dmp["alternate_identifier"]).Select(o => Id(o)).OfType<Identifier>().ToValueList(),
        });
    }

    private Contact MapContact(JsonObject? contact) => new()
    {
        Name = Str(contact?["name"]) ?? "",
        Mbox = Str(contact?["mbox"]) ?? "",
        ContactId = Id(contact?["contact_id"]),
        Affiliations = Objects(contact?["affiliation"]).Select(MapAffiliation).ToValueList(),
    };

    private Contributor MapContributor(JsonObject contributor) => new()
    {
        Name = Str(contributor["name"]) ?? "",
        Mbox = Str(contributor["mbox"]),
        ContributorId = Id(contributor["contributor_id"]),
        Roles = Strings(contributor["role"]),
        Affiliations = Objects(contributor["affiliation"]).Select(MapAffiliation).ToValueList(),
    };

    private Affiliation MapAffiliation(JsonObject affiliation) => new(Str(affiliation["name"]) ?? "", Id(affiliation["affiliation_id"]));

    private Project MapProject(JsonObject project) => new()
    {
        Title = Str(project["title"]) ?? "",
        Description = Str(project["description"]),
        Start = Date(project["start"]),
        End = Date(project["end"]),
        ProjectIds = Ids(project["project_id"]),
        Funding = Objects(project["funding"]).Select(f => new Funding(
            Id(f["funder_id"]) ?? new Identifier("", "other"),
            Str(f["funding_status"]),
            Id(f["grant_id"]))).ToValueList(),
    };

    private Dataset MapDataset(JsonObject dataset) => new()
    {
        DatasetId = Id(dataset["dataset_id"]) ?? new Identifier("", "other"),
        Title = Str(dataset["title"]) ?? "",
        Type = Str(dataset["type"]),
        Description = Str(dataset["description"]),
        PersonalData = YesNo(dataset["personal_data"]) ?? YesNoUnknown.Unknown,
        SensitiveData = YesNo(dataset["sensitive_data"]) ?? YesNoUnknown.Unknown,
        IsReused = dataset["is_reused"] is JsonValue reused && reused.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? reused.GetValueKind() == JsonValueKind.True
            : null,
        Issued = Date(dataset["issued"]),
        Language = Str(dataset["language"]),
        Keywords = Strings(dataset["keyword"]),
        PreservationStatement = Str(dataset["preservation_statement"]),
        DataQualityAssurance = Strings(dataset["data_quality_assurance"]),
        Distributions = Objects(dataset["distribution"]).Select(MapDistribution).ToValueList(),
        SecurityAndPrivacy = Objects(dataset["security_and_privacy"])
            .Select(s => new SecurityAndPrivacyItem(Str(s["title"]) ?? "", Str(s["description"])))
            .ToValueList(),
        TechnicalResources = Objects(dataset["technical_resource"])
            .Select(t => new TechnicalResource(Str(t["name"]) ?? "", Str(t["description"])))
            .ToValueList(),
    };

    private Distribution MapDistribution(JsonObject distribution) => new()
    {
        Title = Str(distribution["title"]) ?? "",
        Description = Str(distribution["description"]),
        DataAccess = Str(distribution["data_access"])?.Trim().ToLowerInvariant() switch
        {
            "open" => DataAccess.Open,
            "shared" => DataAccess.Shared,
            // Anything unrecognised is governed as the most protective level.
            _ => DataAccess.Closed,
        },
        ByteSize = distribution["byte_size"] is JsonValue size
            && size.GetValueKind() == JsonValueKind.Number
            && size.TryGetValue<long>(out var bytes) ? bytes : null,
        AvailableUntil = Date(distribution["available_until"]),
        Issued = Date(distribution["issued"]),
        AccessUrl = Str(distribution["access_url"]),
        DownloadUrl = Str(distribution["download_url"]),
        Formats = Strings(distribution["format"]),
        Host = distribution["host"] is JsonObject host ? MapHost(host) : null,
        Licenses = Objects(distribution["license"]).Select(l => new License(Str(l["license_ref"]) ?? "", Date(l["start_date"])))
            .ToValueList(),
    };

    private static Host MapHost(JsonObject host) => new()
    {
        Title = Str(host["title"]) ?? "",
        Url = Str(host["url"]) ?? "",
        Description = Str(host["description"]),
        StorageType = Str(host["storage_type"]),
        BackupFrequency = Str(host["backup_frequency"]),
        BackupType = Str(host["backup_type"]),
        Availability = Str(host["availability"]),
        CertifiedWith = Str(host["certified_with"])?.Trim().ToLowerInvariant(),
        GeoLocation = Str(host["geo_location"])?.Trim().ToUpperInvariant(),
        // The official examples spell it "supports_versioning" (the schemas: "support_versioning"); both mean the same.
        SupportVersioning = YesNo(host["support_versioning"] ?? host["supports_versioning"]),
        PidSystems = Strings(host["pid_system"]),
    };

    private Cost MapCost(JsonObject cost) => new(
        Str(cost["title"]) ?? "",
        Str(cost["description"]),
        cost["value"] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<decimal>(out var value) ? value : null,
        Str(cost["currency_code"]));

    /// <summary>
    /// An *_id: one object, or (1.2) a list of objects of which the first is the primary; a bare string (seen in 1.1 project_id) is kept as
    /// "other".
    /// </summary>
    private Identifier? Id(JsonNode? node) => node switch
    {
        JsonObject obj when _synthesised.Contains(obj) => null,
        JsonObject obj => new Identifier(Str(obj["identifier"]) ?? "", Str(obj["type"]) ?? "other"),
        JsonArray array => array.OfType<JsonObject>().Select(o => Id(o)).FirstOrDefault(i => i is not null),
        JsonValue value when value.GetValueKind() == JsonValueKind.String => new Identifier(value.GetValue<string>(), "other"),
        _ => null,
    };

    private ValueList<Identifier> Ids(JsonNode? node) => node switch
    {
        JsonArray array => array.Select(Id).OfType<Identifier>().ToValueList(),
        null => ValueList<Identifier>.Empty,
        _ => Id(node) is { } single ? ValueList<Identifier>.Own([single]) : ValueList<Identifier>.Empty,
    };

    private static IEnumerable<JsonObject> Objects(JsonNode? node) => node switch
    {
        JsonArray array => array.OfType<JsonObject>(),
        JsonObject single => [single],
        _ => [],
    };

    private static ValueList<string> Strings(JsonNode? node) => node switch
    {
        JsonArray array => array.Select(Str).OfType<string>().ToValueList(),
        JsonValue => Str(node) is { } single ? ValueList<string>.Own([single]) : ValueList<string>.Empty,
        _ => ValueList<string>.Empty,
    };

    private static string? Str(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static YesNoUnknown? YesNo(JsonNode? node) => Str(node)?.Trim().ToLowerInvariant() switch
    {
        "yes" => YesNoUnknown.Yes,
        "no" => YesNoUnknown.No,
        "unknown" => YesNoUnknown.Unknown,
        _ => null,
    };

    /// <summary>
    /// Dates are "YYYY-MM-DD"; an ISO date-time (a format warning, not an error) gives its date part. Nothing else is
    /// guessed here: "01/02/2028" would otherwise become 2 January by the invariant culture's month-first rule. Lenient
    /// reads rewrite the common forms first, saying which format they assumed (<see cref="LenientDates"/>).
    /// </summary>
    internal static DateOnly? Date(JsonNode? node)
    {
        var text = Str(node)?.Trim();
        if (string.IsNullOrEmpty(text) || !LenientDates.IsIso(text))
        {
            return null;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dateTime)
            ? DateOnly.FromDateTime(dateTime.UtcDateTime)
            : null;
    }

    /// <summary>ISO 8601 date-times; a bare date is midnight UTC; no zone means UTC.</summary>
    internal static DateTimeOffset? Timestamp(JsonNode? node)
    {
        var text = Str(node)?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return DateTimeOffset.TryParse(
            text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : null;
    }
}
