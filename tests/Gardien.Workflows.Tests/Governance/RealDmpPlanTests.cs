using System.Text.Json.Nodes;
using Gardien.Testing;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;
using static Gardien.Workflows.Tests.Governance.TestDmps;

namespace Gardien.Workflows.Tests.Governance;

/// <summary>Plans of DMPs as tools export them (tests/data/plans, the official examples): what a steward needs to see, once.</summary>
public class RealDmpPlanTests
{
    private static Dataset Open(string id, YesNoUnknown personal, YesNoUnknown sensitive = YesNoUnknown.No) =>
        Dataset(id, personal, sensitive, distributions: [Distribution(DataAccess.Open), Distribution(DataAccess.Open)]);

    [Fact]
    public void OpenPersonalData_ManyDatasets_IsReportedOnceWithTheDatasetsDeclaredFirst()
    {
        var datasets = new List<Dataset> { Open("unknown-0", YesNoUnknown.Unknown, YesNoUnknown.Unknown) };
        datasets.AddRange(Enumerable.Range(1, 12).Select(i => Open($"unknown-{i}", YesNoUnknown.Unknown)));
        datasets.Add(Open("declared", YesNoUnknown.Yes));
        datasets.Add(Open("clean", YesNoUnknown.No));
        var plan = Evaluate(Dmp([.. datasets]));

        var finding = Assert.Single(plan.AllFindings(), f => f.Code == "PersonalDataInOpenDistribution");
        Assert.Contains(finding, plan.Findings);
        Assert.Equal("/dmp/dataset", finding.Path);
        const string Start = "14 datasets have an open distribution but may hold personal or sensitive data; "
            + "declared personal or sensitive: 'Dataset declared' (/dmp/dataset/13/distribution/0/data_access); "
            + "answered unknown (which counts as yes): 'Dataset unknown-0' (/dmp/dataset/0/distribution/0/data_access)";
        Assert.StartsWith(Start, finding.Message, StringComparison.Ordinal);
        const string Last = "'Dataset unknown-9' (/dmp/dataset/9/distribution/0/data_access) and 3 more.";
        Assert.Contains(Last, finding.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Dataset clean", finding.Message, StringComparison.Ordinal);
        Assert.All(plan.Datasets, d => Assert.DoesNotContain(d.Findings, f => f.Code == "PersonalDataInOpenDistribution"));
        Assert.True(plan.HasErrors);
    }

    [Fact]
    public void OpenPersonalData_ToolExport_IsOneFindingForThreeDatasets()
    {
        var plan = RawDataTests.PlanOf("dmptool-us-dates.json");
        var finding = Assert.Single(plan.AllFindings(), f => f.Code == "PersonalDataInOpenDistribution");
        Assert.StartsWith("3 datasets have an open distribution", finding.Message, StringComparison.Ordinal);
        Assert.Contains("'Sleep diaries'", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenPersonalData_OfficialExample_IsOneFindingAtItsDistribution()
    {
        var file = Path.Combine(RepoPaths.MadmpData, "examples", "rda-1.2", "ex9-dmp-long.json");
        var read = MadmpReader.Default.Read(File.ReadAllText(file));
        var plan = GovernanceEvaluator.Evaluate(read.Document!.Dmp, GovernancePolicy.Default, Today);
        var finding = Assert.Single(plan.AllFindings(), f => f.Code == "PersonalDataInOpenDistribution");
        Assert.Equal("/dmp/dataset/2/distribution/0/data_access", finding.Path);
        Assert.Contains("declared personal or sensitive: 'Interviews'", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dates_DayFirstExport_GiveTheProjectEndAndWhenAccessEnds()
    {
        var plan = RawDataTests.PlanOf("opidor-irm-fr.json");
        Assert.Equal(new DateOnly(2028, 12, 31), plan.ProjectEnd);
        Assert.Equal(new DateOnly(2029, 3, 31), plan.AccessEndsOn);
        Assert.DoesNotContain(plan.Findings, f => f.Code == "NoProjectEndDate");
        Assert.Equal(new DateOnly(2029, 1, 1), plan.Datasets.Single(d => d.Key == "ro-2").Retention.EmbargoUntil);
    }

    [Fact]
    public void Dates_MonthFirstExport_GiveTheProjectEnd()
    {
        var plan = RawDataTests.PlanOf("dmptool-us-dates.json");
        Assert.Equal(new DateOnly(2027, 12, 31), plan.ProjectEnd);
    }

    [Fact]
    public void Dates_AmbiguousProjectEnd_IsNotGuessedAndThePlanSaysSo()
    {
        var plan = RawDataTests.PlanOf("ambiguous-dates.json");
        Assert.Null(plan.ProjectEnd);
        Assert.Null(plan.AccessEndsOn);
        var noEnd = Assert.Single(plan.Findings, f => f.Code == "NoProjectEndDate");
        Assert.Contains("reading warnings", noEnd.Message, StringComparison.Ordinal);
        Assert.Equal(new DateOnly(2030, 6, 30), plan.Datasets.Single().Retention.KeepUntil);
    }

    [Fact]
    public void AllowedRegions_AreStatedOnceInTheJsonPlan()
    {
        var dmp = Dmp(
            Dataset("a", YesNoUnknown.Yes, distributions: Distribution(DataAccess.Closed, host: Host("US", "coretrustseal"))),
            Dataset("b", YesNoUnknown.Yes, distributions: Distribution(DataAccess.Closed, host: Host("CN", "coretrustseal"))));
        var json = JsonNode.Parse(GovernanceJson.Serialize(Evaluate(dmp)))!.AsObject();

        Assert.NotNull(json["allowed_regions"]);
        var text = json.ToJsonString();
        foreach (var dataset in json["datasets"]!.AsArray())
        {
            Assert.DoesNotContain("\"AT\"", dataset!.ToJsonString(), StringComparison.Ordinal);
            Assert.DoesNotContain("AT, BE", dataset.ToJsonString(), StringComparison.Ordinal);
        }

        var findings = json["datasets"]!.AsArray().SelectMany(d => d!["findings"]!.AsArray());
        Assert.Equal(2, findings.Count(f => (string?)f!["code"] == "HostOutsideAllowedRegions"));
        Assert.Equal(1, CountOf(text, "\"allowed\":"));
    }

    private static int CountOf(string text, string part)
    {
        return text.Split(part).Length - 1;
    }
}
