using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// Lenient mode's first step: rewrites the deviations seen in real exports (docs/madmp.md lists them) into their
/// standard form before schema validation, recording one warning per rewrite (keyword: the schema keyword the original value breaks; "role"
/// for role vocabulary) at the JSON Pointer of
/// the value it touched. Anything it does not recognise is left for the schema to judge.
/// </summary>
internal sealed partial class LenientNormaliser
{
    /// <summary>Keys whose value the standard defines as a list; real exports sometimes give a single object or string.</summary>
    private static readonly HashSet<string> ArrayKeys = new(StringComparer.Ordinal)
    {
        "dataset", "project", "contributor", "cost", "distribution", "license", "funding", "keyword",
        "data_quality_assurance", "security_and_privacy", "technical_resource", "format", "pid_system", "role",
        "metadata", "affiliation", "alternate_identifier", "related_identifier", "host_id", "creator",
    };

    /// <summary>The keys of <see cref="ArrayKeys"/> whose items are strings; the others hold objects.</summary>
    private static readonly HashSet<string> StringItemKeys = new(StringComparer.Ordinal)
    {
        "keyword", "data_quality_assurance", "format", "pid_system", "role",
    };

    /// <summary>DataCite contributor types, the vocabulary the RDA examples use for roles (compared without case or spaces).</summary>
    private static readonly HashSet<string> DataCiteRoles = new(StringComparer.Ordinal)
    {
        "contactperson", "datacollector", "datacurator", "datamanager", "distributor", "editor", "hostinginstitution",
        "producer", "projectleader", "projectmanager", "projectmember", "registrationagency", "registrationauthority",
        "relatedperson", "researcher", "researchgroup", "rightsholder", "sponsor", "supervisor", "workpackageleader", "other",
    };

    /// <summary>ISO 639-1 codes seen in hand-written DMPs, to the ISO 639-3 codes the schemas enumerate.</summary>
    private static readonly Dictionary<string, string> TwoLetterLanguages = new(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = "eng",
        ["fr"] = "fra",
        ["de"] = "deu",
        ["es"] = "spa",
        ["it"] = "ita",
        ["nl"] = "nld",
        ["pt"] = "por",
        ["pl"] = "pol",
        ["sv"] = "swe",
        ["da"] = "dan",
        ["fi"] = "fin",
        ["no"] = "nor",
        ["cs"] = "ces",
        ["el"] = "ell",
        ["hu"] = "hun",
        ["ro"] = "ron",
        ["ja"] = "jpn",
        ["zh"] = "zho",
        ["ru"] = "rus",
        ["ar"] = "ara",
        ["ko"] = "kor",
        ["ca"] = "cat",
        ["eu"] = "eus",
        ["br"] = "bre",
    };

    private readonly MadmpVersion _version;
    private readonly List<ValidationIssue> _warnings;

    private LenientNormaliser(MadmpVersion version, List<ValidationIssue> warnings)
    {
        _version = version;
        _warnings = warnings;
    }

    /// <summary>Identifier objects the normaliser invented only to satisfy the schema; the model maps them to null.</summary>
    public HashSet<JsonNode> Synthesised { get; } = new(ReferenceEqualityComparer.Instance);

    public static LenientNormaliser Run(JsonObject root, MadmpVersion version, List<ValidationIssue> warnings)
    {
        var normaliser = new LenientNormaliser(version, warnings);
        normaliser.Normalise(root);
        return normaliser;
    }

    private void Normalise(JsonObject root)
    {
        if (_version == MadmpVersion.V1_1 && root.ContainsKey("$schema"))
        {
            root.Remove("$schema");
            Warn(
                "additionalProperties",
                "/$schema",
                "The document carries \"$schema\", which the 1.1 schema does not allow (1.2 documents carry it). "
                + "It was ignored for validation against 1.1.");
        }

        CleanTree(root, "");

        if (root["dmp"] is not JsonObject dmp)
        {
            return;
        }

        FixTimestamp(dmp, "created", "/dmp");
        FixTimestamp(dmp, "modified", "/dmp");
        FixLanguage(dmp, "/dmp");
        FixYesNo(dmp, "ethical_issues_exist", "/dmp");

        if (dmp["contact"] is JsonObject contact)
        {
            SynthesiseIdentifier(contact, "contact_id", "/dmp/contact", "the contact");
        }

        ForEachObject(dmp, "contributor", "/dmp/contributor", (contributor, path) =>
        {
            SynthesiseIdentifier(contributor, "contributor_id", path, "this contributor");
            if (contributor["role"] is JsonArray roles)
            {
                for (var i = 0; i < roles.Count; i++)
                {
                    if (roles[i] is JsonValue role && role.GetValueKind() == JsonValueKind.String)
                    {
                        var normalised = NormaliseRole(role.GetValue<string>(), JsonPointer.Append(path + "/role", i));
                        roles[i] = JsonValue.Create(normalised);
                    }
                }
            }
        });

        FixDates(dmp);

        ForEachObject(dmp, "dataset", "/dmp/dataset", (dataset, path) =>
        {
            FixYesNo(dataset, "personal_data", path);
            FixYesNo(dataset, "sensitive_data", path);
            FixIsReused(dataset, path);
            FixLanguage(dataset, path);
            ForEachObject(dataset, "metadata", path + "/metadata", (metadata, metadataPath) => FixLanguage(metadata, metadataPath));
            ForEachObject(dataset, "distribution", path + "/distribution", (distribution, distributionPath) =>
            {
                FixLowerCaseTerm(distribution, "data_access", distributionPath);
                FixByteSize(distribution, distributionPath);
                if (distribution["host"] is JsonObject host)
                {
                    var hostPath = distributionPath + "/host";
                    FixYesNo(host, "support_versioning", hostPath);
                    FixLowerCaseTerm(host, "certified_with", hostPath);
                    if (host["geo_location"] is JsonValue geo && geo.GetValueKind() == JsonValueKind.String)
                    {
                        var text = geo.GetValue<string>();
                        var upper = text.Trim().ToUpperInvariant();
                        if (upper != text)
                        {
                            host["geo_location"] = upper;
                            Warn(
                                "enum",
                                hostPath + "/geo_location",
                                $"The host country \"{text}\" was read as \"{upper}\" (ISO 3166-1 alpha-2 codes are upper case).");
                        }
                    }
                }
            });
        });
    }

    /// <summary>
    /// Drops nulls (the standard has no nullable field: null means "not given") and wraps single values where a list is required.
    /// </summary>
    private void CleanTree(JsonNode node, string path)
    {
        if (node is JsonObject obj)
        {
            List<string>? nulls = null;
            List<string>? singles = null;
            foreach (var (key, value) in obj)
            {
                if (value is null)
                {
                    (nulls ??= []).Add(key);
                }
                else if (value is not JsonArray
                    && ArrayKeys.Contains(key)
                    && path.StartsWith("/dmp", StringComparison.Ordinal)
                    && IsItemShaped(key, value))
                {
                    (singles ??= []).Add(key);
                }
            }

            foreach (var key in nulls ?? [])
            {
                obj.Remove(key);
                Warn("type", JsonPointer.Append(path, key), $"\"{key}\" is null; it was treated as not given. Remove it, or give a value.");
            }

            foreach (var key in singles ?? [])
            {
                var value = obj[key]!;
                obj.Remove(key);
                obj[key] = new JsonArray(value);
                Warn(
                    "type",
                    JsonPointer.Append(path, key),
                    $"\"{key}\" must be a list; the single {(value is JsonObject ? "object" : "value")} was read as a list of one. "
                    + "Write it as [ ... ].");
            }

            foreach (var (key, value) in obj)
            {
                if (value is JsonObject or JsonArray)
                {
                    CleanTree(value, JsonPointer.Append(path, key));
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = array.Count - 1; i >= 0; i--)
            {
                if (array[i] is null)
                {
                    array.RemoveAt(i);
                    Warn("type", JsonPointer.Append(path, i), "A list item is null; it was ignored.");
                }
            }

            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is JsonObject or JsonArray)
                {
                    CleanTree(array[i]!, JsonPointer.Append(path, i));
                }
            }
        }
    }

    /// <summary>
    /// Only a value that could be an item of the list is wrapped: a distribution given as a text stays a text, so the
    /// schema reports one type error at its path instead of a list of one item missing every required field.
    /// </summary>
    private static bool IsItemShaped(string key, JsonNode value) =>
        StringItemKeys.Contains(key)
            ? value is JsonValue text && text.GetValueKind() == JsonValueKind.String
            : value is JsonObject;

    private void FixTimestamp(JsonObject owner, string key, string path)
    {
        if (owner[key] is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || !value.TryGetValue<double>(out var number))
        {
            return;
        }

        // Exports write seconds or milliseconds since the epoch; values beyond year 5138 in seconds are milliseconds.
        var milliseconds = number > 1e11 ? number : number * 1000;
        if (double.IsNaN(milliseconds) || milliseconds < 0 || milliseconds > 253402300799999)
        {
            return;
        }

        var iso = DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds)
            .ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        owner[key] = iso;
        Warn(
            "type",
            JsonPointer.Append(path, key),
            $"\"{key}\" is a number ({number.ToString(CultureInfo.InvariantCulture)}); it was read as the epoch time {iso}. "
            + $"Write ISO 8601 date-times such as \"{iso}\".");
    }

    /// <summary>
    /// Dates typed in a common non-ISO form (<see cref="LenientDates"/>): read with a warning naming the format assumed,
    /// or, when day and month could be swapped and nothing in the document settles which, left unread with a warning
    /// giving both readings (a project end read wrongly would move when access ends by months).
    /// </summary>
    private void FixDates(JsonObject dmp)
    {
        var fields = new List<(JsonObject Owner, string Key, string Path, string Text)>();
        void Add(JsonObject owner, string key, string path)
        {
            if (owner[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
            {
                fields.Add((owner, key, JsonPointer.Append(path, key), value.GetValue<string>()));
            }
        }

        ForEachObject(dmp, "project", "/dmp/project", (project, path) =>
        {
            Add(project, "start", path);
            Add(project, "end", path);
        });
        ForEachObject(dmp, "dataset", "/dmp/dataset", (dataset, path) =>
        {
            Add(dataset, "issued", path);
            ForEachObject(dataset, "distribution", path + "/distribution", (distribution, distributionPath) =>
            {
                Add(distribution, "available_until", distributionPath);
                Add(distribution, "issued", distributionPath);
                ForEachObject(distribution, "license", distributionPath + "/license",
                    (license, licensePath) => Add(license, "start_date", licensePath));
            });
        });

        var (order, example) = LenientDates.DocumentOrder(fields.Select(f => f.Text));
        foreach (var (owner, key, path, text) in fields)
        {
            if (LenientDates.Read(text, order, example) is not { } reading)
            {
                continue;
            }

            if (reading.Date is not { } date)
            {
                Warn("format", path,
                    $"\"{key}\" is \"{text}\", which was not read as a date: {reading.Explanation}. Write it as YYYY-MM-DD.");
                continue;
            }

            var iso = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            owner[key] = iso;
            Warn("format", path, $"\"{key}\" is \"{text}\", not an ISO 8601 date; it was read as {iso} ({LenientDates.Long(date)}), "
                + $"assuming {reading.Explanation}. Write it as \"{iso}\".");
        }
    }

    private void FixLanguage(JsonObject owner, string path)
    {
        if (owner["language"] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            return;
        }

        var text = value.GetValue<string>();
        var trimmed = text.Trim();
        string? fixedCode = TwoLetterLanguages.TryGetValue(trimmed, out var three) ? three
            : trimmed.Length == 3 && trimmed != trimmed.ToLowerInvariant() ? trimmed.ToLowerInvariant()
            : null;
        if (fixedCode is not null && fixedCode != text)
        {
            owner["language"] = fixedCode;
            Warn(
                "enum",
                path + "/language",
                $"The language \"{text}\" was read as \"{fixedCode}\": the standard uses lower-case ISO 639-3 codes.");
        }
    }

    private void FixYesNo(JsonObject owner, string key, string path)
    {
        var node = owner[key];
        if (node is not JsonValue value)
        {
            return;
        }

        string? answer = value.GetValueKind() switch
        {
            JsonValueKind.True => "yes",
            JsonValueKind.False => "no",
            JsonValueKind.String => value.GetValue<string>().Trim().ToLowerInvariant() switch
            {
                "yes" or "true" or "oui" => "yes",
                "no" or "false" or "non" => "no",
                "unknown" or "inconnu" => "unknown",
                _ => null,
            },
            _ => null,
        };

        if (answer is null || (value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() == answer))
        {
            return;
        }

        owner[key] = answer;
        Warn(
            value.GetValueKind() == JsonValueKind.String ? "enum" : "type",
            JsonPointer.Append(path, key),
            $"\"{key}\" is {value.ToJsonString()}; it was read as \"{answer}\". The standard expects \"yes\", \"no\" or \"unknown\".");
    }

    private void FixLowerCaseTerm(JsonObject owner, string key, string path)
    {
        if (owner[key] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            return;
        }

        var text = value.GetValue<string>();
        var lower = text.Trim().ToLowerInvariant();
        if (lower != text)
        {
            owner[key] = lower;
            Warn(
                "enum",
                JsonPointer.Append(path, key),
                $"\"{key}\" is \"{text}\"; it was read as \"{lower}\" (the standard's terms are lower case).");
        }
    }

    private void FixIsReused(JsonObject dataset, string path)
    {
        if (dataset["is_reused"] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            return;
        }

        var text = value.GetValue<string>();
        bool? reused = text.Trim().ToLowerInvariant() switch
        {
            "reused" or "re-used" or "reuse" or "yes" or "true" => true,
            "produced" or "new" or "created" or "no" or "false" => false,
            _ => null,
        };
        if (reused is null)
        {
            return;
        }

        dataset["is_reused"] = reused.Value;
        Warn(
            "type",
            path + "/is_reused",
            $"\"is_reused\" is \"{text}\"; it was read as {(reused.Value ? "true" : "false")}. The standard expects true (re-used data) "
            + "or false (data produced by the project).");
    }

    private void FixByteSize(JsonObject distribution, string path)
    {
        if (distribution["byte_size"] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            && long.TryParse(value.GetValue<string>().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            distribution["byte_size"] = size;
            Warn(
                "type",
                path + "/byte_size",
                $"\"byte_size\" is the text \"{value.GetValue<string>()}\"; it was read as the number {size}. Write it without quotes.");
        }
    }

    private void SynthesiseIdentifier(JsonObject person, string key, string path, string who)
    {
        if (person.ContainsKey(key) || person["mbox"] is not JsonValue mbox || mbox.GetValueKind() != JsonValueKind.String)
        {
            return;
        }

        var placeholder = new JsonObject { ["identifier"] = mbox.GetValue<string>(), ["type"] = "other" };
        person[key] = placeholder;
        Synthesised.Add(placeholder);
        Warn(
            "required",
            JsonPointer.Append(path, key),
            $"{Capitalise(who)} has no \"{key}\"; the e-mail address (mbox) identifies them instead. Add \"{key}\": {{ \"identifier\": "
            + $"\"https://orcid.org/...\", \"type\": \"orcid\" }} when known.");
    }

    private string NormaliseRole(string role, string path)
    {
        var trimmed = role.Trim();
        var credit = CreditUri().Match(trimmed);
        if (credit.Success)
        {
            var canonical = "https://credit.niso.org/contributor-roles/" + credit.Groups["term"].Value.ToLowerInvariant();
            Warn(
                "role",
                path,
                $"The role \"{role}\" is a CRediT contributor role; it was read as \"{canonical}\". "
                + "Roles from one vocabulary map more reliably to access rights.");
            return canonical;
        }

        var compact = CollapseSpaces().Replace(trimmed, " ").ToLowerInvariant();
        if (DataCiteRoles.Contains(compact.Replace(" ", "", StringComparison.Ordinal)) && !compact.Contains(' ', StringComparison.Ordinal))
        {
            return compact;
        }

        Warn(
            "role",
            path,
            $"The role \"{role}\" is free text, not a term of the DataCite contributor types (e.g. \"DataManager\", \"ProjectLeader\"); "
            + $"it was read as \"{compact}\".");
        return compact;
    }

    private static void ForEachObject(JsonObject owner, string key, string path, Action<JsonObject, string> action)
    {
        if (owner[key] is not JsonArray array)
        {
            return;
        }

        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is JsonObject item)
            {
                action(item, JsonPointer.Append(path, i));
            }
        }
    }

    private void Warn(string keyword, string path, string message) =>
        _warnings.Add(new ValidationIssue(path, message, keyword, IssueSeverity.Warning));

    private static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    [GeneratedRegex(
        @"^https?://(?:www\.)?(?:credit\.niso\.org/contributor-roles|credit\.casrai\.org|casrai\.org/credit)/(?<term>[A-Za-z-]+)/?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CreditUri();

    [GeneratedRegex(@"\s+")]
    private static partial Regex CollapseSpaces();
}
