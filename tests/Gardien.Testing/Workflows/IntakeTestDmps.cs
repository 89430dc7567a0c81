using System.Text.Json.Nodes;

namespace Gardien.Testing.Workflows;

/// <summary>maDMP 1.2 documents for the workflow tests, stating exactly the facts the tests depend on.</summary>
public static class IntakeTestDmps
{
    public const string DmpId = "https://doi.org/10.99999/test.dmp";
    public const string PiEmail = "claire.dubois@neuro.example";
    public const string DataManagerEmail = "mehdi.benali@neuro.example";
    public const string StewardEmail = "data-steward@neuro-institute.example";
    public const string StewardDelegateEmail = "rds-head@neuro-institute.example";
    public const string DpoEmail = "dpo@neuro-institute.example";
    public const string DpoDelegateEmail = "dpo-deputy@neuro-institute.example";

    public static readonly DateTimeOffset V1 = new(2026, 1, 10, 9, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset V2 = new(2026, 1, 20, 9, 0, 0, TimeSpan.Zero);

    public sealed record DatasetSpec(
        string Id,
        string PersonalData = "no",
        string SensitiveData = "no",
        string Access = "open",
        string? AvailableUntil = null);

    /// <summary>
    /// A DMP with the PI as contact and a data manager; by default one open, non-personal dataset (the PI alone approves).
    /// </summary>
    public static string Json(
        DateTimeOffset? modified = null,
        bool withDataManager = true,
        string dmpId = DmpId,
        params DatasetSpec[] datasets) =>
        Json(PiEmail, modified, withDataManager, dmpId, datasets);

    /// <summary>The same DMP with another contact mailbox (the contact's ORCID is kept).</summary>
    public static string Json(
        string contactEmail,
        DateTimeOffset? modified = null,
        bool withDataManager = true,
        string dmpId = DmpId,
        params DatasetSpec[] datasets)
    {
        if (datasets.Length == 0)
        {
            datasets = [new DatasetSpec("ds-open")];
        }

        var contributors = new JsonArray
        {
            new JsonObject
            {
                ["name"] = "Claire Dubois",
                ["mbox"] = PiEmail,
                ["role"] = new JsonArray("ProjectLeader"),
                ["contributor_id"] = new JsonObject { ["identifier"] = "https://orcid.org/0000-0002-1825-0097", ["type"] = "orcid" },
            },
        };
        if (withDataManager)
        {
            contributors.Add(
                new JsonObject { ["name"] = "Mehdi Benali", ["mbox"] = DataManagerEmail, ["role"] = new JsonArray("DataManager") });
        }

        var datasetArray = new JsonArray();
        foreach (var d in datasets)
        {
            var distribution = new JsonObject
            {
                ["title"] = "files",
                ["data_access"] = d.Access,
                ["byte_size"] = 1000,
                ["host"] = new JsonObject
                {
                    ["title"] = "Institute storage",
                    ["url"] = "https://storage.neuro.example",
                    ["geo_location"] = "FR",
                },
            };
            if (d.AvailableUntil is not null)
            {
                distribution["available_until"] = d.AvailableUntil;
            }

            if (d.Access == "open")
            {
                distribution["license"] = new JsonArray(
                    new JsonObject { ["license_ref"] = "https://creativecommons.org/licenses/by/4.0/", ["start_date"] = "2025-01-01" });
            }

            datasetArray.Add(new JsonObject
            {
                ["title"] = "Dataset " + d.Id,
                ["type"] = "dataset",
                ["personal_data"] = d.PersonalData,
                ["sensitive_data"] = d.SensitiveData,
                ["dataset_id"] = new JsonObject { ["identifier"] = d.Id, ["type"] = "other" },
                ["distribution"] = new JsonArray(distribution),
            });
        }

        var root = new JsonObject
        {
            ["dmp"] = new JsonObject
            {
                ["title"] = "Test DMP",
                ["language"] = "eng",
                ["created"] = "2026-01-01T09:00:00Z",
                ["modified"] = (modified ?? V1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                ["ethical_issues_exist"] = "no",
                ["dmp_id"] = new JsonObject { ["identifier"] = dmpId, ["type"] = "doi" },
                ["contact"] = new JsonObject
                {
                    ["name"] = "Claire Dubois",
                    ["mbox"] = contactEmail,
                    ["contact_id"] = new JsonObject { ["identifier"] = "https://orcid.org/0000-0002-1825-0097", ["type"] = "orcid" },
                },
                ["contributor"] = contributors,
                ["project"] = new JsonArray(
                    new JsonObject { ["title"] = "Test project", ["start"] = "2025-01-01", ["end"] = "2028-12-31" }),
                ["dataset"] = datasetArray,
            },
        };
        return root.ToJsonString();
    }
}
