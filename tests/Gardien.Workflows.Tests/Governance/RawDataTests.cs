using System.Text.Json.Nodes;
using Gardien.Testing;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;
using static Gardien.Workflows.Tests.Governance.TestDmps;

namespace Gardien.Workflows.Tests.Governance;

/// <summary>Raw data read as a steward reads it: the policy's terms (English, French) in type, keywords, title and description.</summary>
public class RawDataTests
{
    private static Dataset Described(string title, string? type = null, string? description = null, params string[] keywords) =>
        Dataset(type: type, distributions: Distribution()) with { Title = title, Description = description, Keywords = keywords };

    [Theory]
    [InlineData("Acquisitions IRM brutes", "image")]
    [InlineData("ACQUISITIONS IRM BRUTES", "image")]
    [InlineData("Données brutes EEG", null)]
    [InlineData("Donnees brutes EEG", null)]
    [InlineData("Enregistrements non traités", "audio")]
    [InlineData("Raw MRI scans", "image")]
    [InlineData("Primary data of the cohort", null)]
    [InlineData("Scanner acquisitions", "dataset")]
    [InlineData("Unprocessed interviews", "audio")]
    public void RawData_TitleInEnglishOrFrench_IsImmutable(string title, string? type)
    {
        var plan = Single(Described(title, type));
        Assert.Equal(3650, plan.Storage.ImmutabilityDays);
        Assert.StartsWith("raw data: title", plan.Storage.ImmutabilityReason, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Findings, f => f.Code == "RawDataUndecided");
    }

    [Theory]
    [InlineData("raw data", null)]
    [InlineData("Données primaires", null)]
    [InlineData(null, "DICOM")]
    [InlineData(null, "données brutes")]
    public void RawData_TypeOrKeyword_IsImmutable(string? type, string? keyword)
    {
        var plan = Single(Described("Cohort files", type, null, keyword is null ? [] : [keyword]));
        Assert.Equal(3650, plan.Storage.ImmutabilityDays);
    }

    [Theory]
    [InlineData("Drawings of the excavation", "image", "Site drawings.")]
    [InlineData("Straw samples", "dataset", null)]
    [InlineData("Derived imaging features", "dataset", "Features derived from the raw MRI acquisitions.")]
    [InlineData("Scores cognitifs dérivés", "dataset", "Calculés à partir des données brutes.")]
    [InlineData("Données traitées", "dataset", null)]
    [InlineData("Questionnaires", "dataset", "Answers processed by the survey tool.")]
    public void NotRawData_IsNotImmutableAndRaisesNothing(string title, string type, string? description)
    {
        var plan = Single(Described(title, type, description));
        Assert.Null(plan.Storage.ImmutabilityDays);
        Assert.Null(plan.Storage.ImmutabilityReason);
        Assert.DoesNotContain(plan.Findings, f => f.Code == "RawDataUndecided");
    }

    [Fact]
    public void RawData_TitleSaysRawAndProcessed_IsUndecidedTreatedAsRawAndReported()
    {
        var plan = Single(Described("Raw and processed EEG"));

        Assert.Equal(3650, plan.Storage.ImmutabilityDays);
        var finding = Assert.Single(plan.Findings, f => f.Code == "RawDataUndecided");
        Assert.Equal(FindingSeverity.Warning, finding.Severity);
        Assert.Equal("/dmp/dataset/0/type", finding.Path);
        Assert.Contains("title \"Raw\" says raw but title \"processed\" says derived", finding.Message, StringComparison.Ordinal);
        Assert.Contains("split raw and derived data into two datasets", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RawData_KeywordSaysRawButTitleSaysProcessed_IsUndecided()
    {
        var plan = Single(Described("Processed actigraphy summaries", "dataset", null, "raw", "actigraphy"));
        var finding = Assert.Single(plan.Findings, f => f.Code == "RawDataUndecided");
        Assert.Contains("keyword \"raw\"", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RawData_OnlyTheDescriptionMentionsIt_IsUndecidedAtTheDescription()
    {
        const string Description = "Les données brutes de l'EEG et les signaux prétraités sont conservés ensemble.";
        var plan = Single(Described("Enregistrements EEG", "dataset", Description));

        var finding = Assert.Single(plan.Findings, f => f.Code == "RawDataUndecided");
        Assert.Equal("/dmp/dataset/0/description", finding.Path);
        const string Why = "only its description mentions raw data (description \"données brutes\", description \"prétraités\")";
        Assert.Contains(Why, finding.Message, StringComparison.Ordinal);
        Assert.Equal(3650, plan.Storage.ImmutabilityDays);
    }

    [Fact]
    public void RawData_PolicyWithoutImmutability_RaisesNoFinding()
    {
        var off = Policy.Storage.RawDataImmutability with { Enabled = false };
        var policy = Policy with { Storage = Policy.Storage with { RawDataImmutability = off } };
        var plan = Single(Described("Raw and processed EEG"), policy);
        Assert.Null(plan.Storage.ImmutabilityDays);
        Assert.DoesNotContain(plan.Findings, f => f.Code == "RawDataUndecided");
    }

    [Fact]
    public void RawData_PolicyTerms_ReplaceTheBuiltInOnes()
    {
        var german = new ImmutabilityPolicy(true, 365) { RawTerms = ["Rohdaten"], NotRawTerms = [] };
        var policy = Policy with { Storage = Policy.Storage with { RawDataImmutability = german } };

        Assert.Equal(365, Single(Described("Rohdaten der Befragung"), policy).Storage.ImmutabilityDays);
        Assert.Null(Single(Described("Données brutes"), policy).Storage.ImmutabilityDays);
    }

    [Fact]
    public void RawData_PolicyOmittingTerms_UsesTheEnglishAndFrenchDefaults()
    {
        var policy = Policy with { Storage = Policy.Storage with { RawDataImmutability = new ImmutabilityPolicy(true, 3650) } };
        Assert.Equal(RawDataTerms.DefaultRaw, policy.Storage.RawDataImmutability.EffectiveRawTerms);
        Assert.Equal(3650, Single(Described("Acquisitions brutes"), policy).Storage.ImmutabilityDays);
        Assert.Contains("brut", RawDataTerms.DefaultRaw);
        Assert.Contains("raw", RawDataTerms.DefaultRaw);
    }

    [Fact]
    public void RawData_SamplePolicy_ShipsTheBuiltInTerms()
    {
        var immutability = GovernancePolicy.Default.Storage.RawDataImmutability;
        Assert.Equal(RawDataTerms.DefaultRaw, immutability.RawTerms);
        Assert.Equal(RawDataTerms.DefaultNotRaw, immutability.NotRawTerms);
    }

    [Fact]
    public void Policy_FormerDatasetTypesKey_StillNamesTheRawTerms()
    {
        var result = LoadMutated(immutability =>
        {
            immutability.Remove("raw_terms");
            immutability["dataset_types"] = new JsonArray("raw", "acquisition");
        });

        Assert.True(result.IsValid, string.Join("\n", result.Errors.Select(e => $"{e.Path}: {e.Message}")));
        Assert.Equal(["raw", "acquisition"], result.Policy!.Storage.RawDataImmutability.EffectiveRawTerms);
        Assert.Equal(3650, Single(Described("Scanner acquisitions"), result.Policy).Storage.ImmutabilityDays);
    }

    [Fact]
    public void Policy_BothRawTermsAndDatasetTypes_IsRejectedAtItsPath()
    {
        var result = LoadMutated(immutability => immutability["dataset_types"] = new JsonArray("raw"));
        var error = Assert.Single(result.Errors);
        Assert.Equal("/storage/raw_data_immutability/dataset_types", error.Path);
        Assert.Contains("Keep only \"raw_terms\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_RawTermsWithoutALetter_IsRejected()
    {
        var result = LoadMutated(immutability => immutability["raw_terms"] = new JsonArray("--", "…"));
        Assert.Contains(result.Errors, e => e.Path == "/storage/raw_data_immutability/raw_terms" && e.Keyword == "rules");
    }

    [Fact]
    public void RealExport_FrenchMriAcquisitionsOfTypeImage_AreWriteOnceAndTheEegIsReported()
    {
        var plan = PlanOf("opidor-irm-fr.json");

        var mri = plan.Datasets.Single(d => d.Key == "ro-1");
        Assert.Equal(3650, mri.Storage.ImmutabilityDays);
        Assert.Equal("raw data: title \"Acquisitions\", title \"brutes\"", mri.Storage.ImmutabilityReason);
        Assert.Null(plan.Datasets.Single(d => d.Key == "ro-2").Storage.ImmutabilityDays);
        var eeg = plan.Datasets.Single(d => d.Key == "ro-3");
        Assert.Contains(eeg.Findings, f => f.Code == "RawDataUndecided" && f.Path == "/dmp/dataset/2/description");
    }

    [Fact]
    public void RealExport_OfficialExamples_HaveNoRawDataAndNoUndecidedDataset()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.MadmpData, "examples", "rda-1.2"), "*.json"))
        {
            var read = MadmpReader.Default.Read(File.ReadAllText(file));
            var plan = GovernanceEvaluator.Evaluate(read.Document!.Dmp, GovernancePolicy.Default, Today);
            Assert.All(plan.Datasets, d => Assert.Null(d.Storage.ImmutabilityDays));
            Assert.DoesNotContain(plan.AllFindings(), f => f.Code == "RawDataUndecided");
        }
    }

    internal static GovernancePlan PlanOf(string file)
    {
        var read = MadmpReader.Default.Read(File.ReadAllText(Path.Combine(RepoPaths.TestData, "plans", file)));
        Assert.True(read.IsValid, string.Join("; ", read.Errors.Select(e => $"{e.Path}: {e.Message}")));
        return GovernanceEvaluator.Evaluate(read.Document!.Dmp, GovernancePolicy.Default, Today);
    }

    private static PolicyLoadResult LoadMutated(Action<JsonObject> mutateImmutability)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "policy.sample.json")))!.AsObject();
        mutateImmutability(json["storage"]!["raw_data_immutability"]!.AsObject());
        return PolicyLoader.Load(json.ToJsonString());
    }
}
