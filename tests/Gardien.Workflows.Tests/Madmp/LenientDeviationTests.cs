using System.Text.Json.Nodes;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

public sealed class LenientDeviationTests
{
    private static MadmpReadResult Lenient(JsonObject root, MadmpVersion? version = null) =>
        MadmpReader.Default.Read(root.ToJsonString(), new MadmpReadOptions { SchemaVersion = version });

    private static MadmpReadResult Strict(JsonObject root, MadmpVersion? version = null) =>
        MadmpReader.Default.Read(root.ToJsonString(), new MadmpReadOptions { Mode = ValidationMode.Strict, SchemaVersion = version });

    [Fact]
    public void MinimalDocument_IsValidInBothModesWithoutWarnings()
    {
        var lenient = Lenient(DmpJson.Minimal12());
        var strict = Strict(DmpJson.Minimal12());

        Assert.True(lenient.IsValid, MadmpExamples.Describe(lenient));
        Assert.True(strict.IsValid, MadmpExamples.Describe(strict));
        Assert.Empty(lenient.Warnings);
    }

    [Theory]
    [InlineData(1738314000L, "2025-01-31T09:00:00+00:00")]
    [InlineData(1738314000000L, "2025-01-31T09:00:00+00:00")]
    public void EpochNumberCreated_IsReadAsUtcTimestampWithWarning(long epoch, string expected)
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["created"] = epoch;

        var lenient = Lenient(root);
        var strict = Strict(root);

        Assert.True(lenient.IsValid, MadmpExamples.Describe(lenient));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), lenient.Document!.Dmp.Created);
        var warning = Assert.Single(lenient.Warnings);
        Assert.Equal("/dmp/created", warning.Path);
        Assert.Equal("type", warning.Keyword);
        Assert.False(strict.IsValid);
        Assert.Contains(strict.Errors, e => e.Path == "/dmp/created" && e.Keyword == "type");
    }

    [Fact]
    public void EpochNumberModified_IsNormalisedToo()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["modified"] = 1738400400;

        var result = Lenient(root);

        Assert.Equal(new DateTimeOffset(2025, 2, 1, 9, 0, 0, TimeSpan.Zero), result.Document!.Dmp.Modified);
        Assert.Equal("/dmp/modified", Assert.Single(result.Warnings).Path);
    }

    [Theory]
    [InlineData("produced", false)]
    [InlineData("reused", true)]
    [InlineData("Reused", true)]
    public void IsReusedWord_IsReadAsBooleanWithWarning(string word, bool expected)
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["dataset"]![0]!["is_reused"] = word;

        var lenient = Lenient(root);

        Assert.True(lenient.IsValid, MadmpExamples.Describe(lenient));
        Assert.Equal(expected, lenient.Document!.Dmp.Datasets[0].IsReused);
        var warning = Assert.Single(lenient.Warnings);
        Assert.Equal("/dmp/dataset/0/is_reused", warning.Path);
        Assert.False(Strict(root).IsValid);
    }

    [Fact]
    public void CreditRoleUri_IsNormalisedToCanonicalLowerCaseUriWithWarning()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["contributor"]![0]!["role"] = new JsonArray("http://credit.niso.org/contributor-roles/Data-Curation/", "DataManager");

        var result = Lenient(root);

        Assert.True(result.IsValid);
        Assert.Equal(
            ["https://credit.niso.org/contributor-roles/data-curation", "datamanager"], result.Document!.Dmp.Contributors[0].Roles);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("/dmp/contributor/0/role/0", warning.Path);
        Assert.Contains("CRediT", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FreeTextRole_IsLowerCasedWithWarning()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["contributor"]![0]!["role"] = new JsonArray("Principal   Investigator");

        var result = Lenient(root);

        Assert.Equal(["principal investigator"], result.Document!.Dmp.Contributors[0].Roles);
        Assert.Equal("/dmp/contributor/0/role/0", Assert.Single(result.Warnings).Path);
    }

    [Fact]
    public void SingleRoleString_IsReadAsListWithWarning()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["contributor"]![0]!["role"] = "DataCurator";

        var result = Lenient(root);

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Equal(["datacurator"], result.Document!.Dmp.Contributors[0].Roles);
        Assert.Contains(result.Warnings, w => w.Path == "/dmp/contributor/0/role" && w.Keyword == "type");
    }

    [Fact]
    public void MissingContactId_WithMbox_IsAcceptedWithNullIdentifierAndWarning()
    {
        var root = DmpJson.Minimal12();
        ((JsonObject)root.Dmp()["contact"]!).Remove("contact_id");

        var lenient = Lenient(root);
        var strict = Strict(root);

        Assert.True(lenient.IsValid, MadmpExamples.Describe(lenient));
        Assert.Null(lenient.Document!.Dmp.Contact.ContactId);
        Assert.Equal("marie.curie@institut.org", lenient.Document.Dmp.Contact.Mbox);
        var warning = Assert.Single(lenient.Warnings);
        Assert.Equal("/dmp/contact/contact_id", warning.Path);
        Assert.Equal("required", warning.Keyword);
        var error = Assert.Single(strict.Errors);
        Assert.Equal("/dmp/contact/contact_id", error.Path);
        Assert.Equal("required", error.Keyword);
    }

    [Fact]
    public void MissingContactId_WithoutMbox_StaysAnError()
    {
        var root = DmpJson.Minimal12();
        var contact = (JsonObject)root.Dmp()["contact"]!;
        contact.Remove("contact_id");
        contact.Remove("mbox");

        var result = Lenient(root);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Path == "/dmp/contact/mbox" && e.Keyword == "required");
        Assert.Contains(result.Errors, e => e.Path == "/dmp/contact/contact_id" && e.Keyword == "required");
    }

    [Fact]
    public void MissingContributorId_WithMbox_IsAcceptedWithWarning()
    {
        var root = DmpJson.Minimal12();
        ((JsonObject)root.Dmp()["contributor"]![0]!).Remove("contributor_id");

        var result = Lenient(root);

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Null(result.Document!.Dmp.Contributors[0].ContributorId);
        Assert.Equal("/dmp/contributor/0/contributor_id", Assert.Single(result.Warnings).Path);
    }

    [Fact]
    public void Document12WithSchemaKey_CheckedAgainst11_IsAcceptedLenientlyRejectedStrictly()
    {
        var lenient = MadmpExamples.Read("rda-1.2/ex9-dmp-long.json", new MadmpReadOptions { SchemaVersion = MadmpVersion.V1_1 });
        var strict = MadmpExamples.Read(
            "rda-1.2/ex9-dmp-long.json", new MadmpReadOptions { SchemaVersion = MadmpVersion.V1_1, Mode = ValidationMode.Strict });

        Assert.True(lenient.IsValid, MadmpExamples.Describe(lenient));
        Assert.Equal(MadmpVersion.V1_1, lenient.Version);
        Assert.Contains(lenient.Warnings, w => w.Path == "/$schema" && w.Keyword == "additionalProperties");
        var error = Assert.Single(strict.Errors);
        Assert.Equal("/$schema", error.Path);
        Assert.Equal("additionalProperties", error.Keyword);
    }

    [Fact]
    public void NullOptionalValues_AreDroppedWithWarnings()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["description"] = null;
        root.Dmp()["dataset"]![0]!["issued"] = null;
        root.Dmp()["dataset"]![0]!["distribution"]![0]!["host"] = null;

        var lenient = Lenient(root);
        var strict = Strict(root);

        Assert.True(lenient.IsValid, MadmpExamples.Describe(lenient));
        Assert.Null(lenient.Document!.Dmp.Description);
        Assert.Equal(
            ["/dmp/dataset/0/distribution/0/host", "/dmp/dataset/0/issued", "/dmp/description"],
            lenient.Warnings.Select(w => w.Path).Order(StringComparer.Ordinal));
        Assert.False(strict.IsValid);
        Assert.Contains(strict.Errors, e => e.Path == "/dmp/description" && e.Keyword == "type");
        Assert.Contains(strict.Errors, e => e.Path == "/dmp/dataset/0/issued" && e.Keyword == "type");
        Assert.Contains(strict.Errors, e => e.Path == "/dmp/dataset/0/distribution/0/host" && e.Keyword == "type");
    }

    [Fact]
    public void BooleanYesNoAnswers_AreReadAsTermsWithWarning()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["dataset"]![0]!["personal_data"] = false;
        root.Dmp()["ethical_issues_exist"] = "Yes";

        var result = Lenient(root);

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Equal(YesNoUnknown.No, result.Document!.Dmp.Datasets[0].PersonalData);
        Assert.Equal(YesNoUnknown.Yes, result.Document.Dmp.EthicalIssuesExist);
        Assert.Contains(result.Warnings, w => w.Path == "/dmp/dataset/0/personal_data");
        Assert.Contains(result.Warnings, w => w.Path == "/dmp/ethical_issues_exist");
    }

    [Fact]
    public void TwoLetterLanguage_IsReadAsIso6393WithWarning()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["language"] = "fr";

        var result = Lenient(root);

        Assert.Equal("fra", result.Document!.Dmp.Language);
        Assert.Equal("/dmp/language", Assert.Single(result.Warnings).Path);
        Assert.Contains(Strict(root).Errors, e => e.Path == "/dmp/language" && e.Keyword == "enum");
    }

    [Fact]
    public void SingleObjectWhereListExpected_IsWrappedWithWarning()
    {
        var root = DmpJson.Minimal12();
        var dataset = (JsonObject)root.Dmp()["dataset"]![0]!;
        var distribution = dataset["distribution"]![0]!.DeepClone();
        dataset["distribution"] = distribution;

        var result = Lenient(root);

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Single(result.Document!.Dmp.Datasets[0].Distributions);
        Assert.Equal("/dmp/dataset/0/distribution", Assert.Single(result.Warnings).Path);
    }

    [Fact]
    public void TrailingCommaFromHandEditing_IsAcceptedLenientlyWithLinePosition()
    {
        var json = DmpJson.Minimal12().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        var broken = json.Replace("\"type\": \"doi\"", "\"type\": \"doi\",", StringComparison.Ordinal);

        var lenient = MadmpReader.Default.Read(broken);
        var strict = MadmpReader.Default.Read(broken, new MadmpReadOptions { Mode = ValidationMode.Strict });

        Assert.True(lenient.IsValid, MadmpExamples.Describe(lenient));
        var warning = Assert.Single(lenient.Warnings);
        Assert.Equal("json", warning.Keyword);
        Assert.NotNull(warning.Line);
        var error = Assert.Single(strict.Errors);
        Assert.Equal(warning.Line, error.Line);
    }

    [Fact]
    public void Rda10Examples_AreRepairedExceptWhatCannotBeInvented()
    {
        var result = MadmpExamples.Read("rda-1.0/ex3-dataset-finished.json");

        Assert.Contains(result.Warnings, w => w.Path == "/dmp/dataset" && w.Keyword == "type");
        Assert.Contains(result.Warnings, w => w.Path == "/dmp/language" && w.Keyword == "enum");
        Assert.All(result.Errors, e => Assert.Equal("required", e.Keyword));
    }
}
