using System.Text.Json;
using Gardien.Testing;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Governance;

/// <summary>
/// Evaluates every reference example and the repository's sample: plans are deterministic, round-trip, and name valid, distinct containers.
/// </summary>
public class PlanOverExamplesTests
{
    private static readonly DateOnly Today = new(2026, 1, 15);

    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.MadmpData, "examples"), "*.json", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(RepoPaths.MadmpData, file));
        }

        return data;
    }

    private static string SamplePath => Path.Combine(RepoPaths.Root, "samples", "dmp-health-study.json");

    private static Dmp Read(string path, MadmpReadOptions? options = null)
    {
        var result = MadmpReader.Default.Read(File.ReadAllText(path), options);
        Assert.True(result.IsValid, path + ": " + string.Join("; ", result.Errors.Select(e => $"{e.Path}: {e.Message}")));
        return result.Document!.Dmp;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Evaluate_Example_IsDeterministicRoundTripsAndNamesValidContainers(string relativePath)
    {
        var read = MadmpReader.Default.Read(File.ReadAllText(Path.Combine(RepoPaths.MadmpData, relativePath)));
        if (!read.IsValid)
        {
            Assert.False(
                relativePath.Contains("rda-1.2", StringComparison.Ordinal),
                $"{relativePath} should read leniently: {string.Join("; ", read.Errors.Select(e => e.Path + ": " + e.Message))}");

            // Some 1.0 examples are invalid against every version even leniently; the reader's tests cover them.
            Assert.NotEmpty(read.Errors);
            return;
        }

        var dmp = read.Document!.Dmp;
        var first = GovernanceJson.Serialize(GovernanceEvaluator.Evaluate(dmp, GovernancePolicy.Default, Today));
        var second = GovernanceJson.Serialize(GovernanceEvaluator.Evaluate(dmp, GovernancePolicy.Default, Today));
        Assert.Equal(first, second);

        var plan = GovernanceJson.DeserializePlan(first)!;
        Assert.Equal(first, GovernanceJson.Serialize(plan));
        var viaDefaults = JsonSerializer.Serialize(plan);
        Assert.Equal(first, GovernanceJson.Serialize(JsonSerializer.Deserialize<GovernancePlan>(viaDefaults)!));

        Assert.All(plan.Datasets, d => Assert.True(ContainerNaming.IsValidContainerName(d.Storage.ContainerName), d.Storage.ContainerName));
        Assert.Equal(plan.Datasets.Count, plan.Datasets.Select(d => d.Storage.ContainerName).Distinct().Count());
        Assert.Equal(plan.Datasets.Count, plan.Datasets.Select(d => d.Key).Distinct().Count());
        Assert.Contains(plan.RequiredApprovals, a => a.Role == ApprovalRole.PrincipalInvestigator);
        Assert.All(plan.AllFindings(), f => Assert.StartsWith("/dmp", f.Path, StringComparison.Ordinal));
    }

    [Fact]
    public void Ex9_RepeatedDatasetIds_AreRefusedAndKeptApart()
    {
        var plan = GovernanceEvaluator.Evaluate(
            Read(Path.Combine(RepoPaths.MadmpData, "examples", "rda-1.2", "ex9-dmp-long.json")), GovernancePolicy.Default, Today);
        Assert.Equal(3, plan.Datasets.Count);
        Assert.Equal(3, plan.Datasets.Select(d => d.Storage.ContainerName).Distinct().Count());
        Assert.Equal(2, plan.AllFindings().Count(f => f.Code == "DuplicateDatasetId" && f.Severity == FindingSeverity.Error));
    }

    [Fact]
    public void Sample_IsValidInStrictMode()
    {
        var result = MadmpReader.Default.Read(File.ReadAllText(SamplePath), new MadmpReadOptions { Mode = ValidationMode.Strict });
        Assert.True(result.IsValid, string.Join("; ", result.Errors.Select(e => $"{e.Path}: {e.Message}")));
        Assert.Equal(MadmpVersion.V1_2, result.Version);
    }

    [Fact]
    public void Sample_Plan_ClassifiesTheHealthStudy()
    {
        var plan = GovernanceEvaluator.Evaluate(Read(SamplePath), GovernancePolicy.Default, Today);

        Assert.Equal(
            [DataClassification.Restricted, DataClassification.Restricted, DataClassification.Internal, DataClassification.Public],
            plan.Datasets.Select(d => d.Classification.Classification));
        Assert.Equal(
            [ApprovalRole.PrincipalInvestigator, ApprovalRole.DataSteward, ApprovalRole.DataProtectionOfficer],
            plan.RequiredApprovals.Select(a => a.Role));
        Assert.Equal("orcid:0000-0002-1825-0097", plan.PrincipalInvestigator.Key);

        var raw = plan.Datasets[0];
        Assert.Equal(3650, raw.Storage.ImmutabilityDays);
        Assert.Equal("cmkhealth", raw.Storage.EncryptionScope);
        Assert.Equal(4_500_000_000_000, raw.Storage.QuotaBytes);
        Assert.Equal(new DateOnly(2048, 12, 31), raw.Retention.KeepUntil);
        Assert.Equal(DisposalAction.Archive, raw.Retention.Disposal);
        Assert.Contains(raw.Findings, f => f.Code == "SensitiveDataWithoutCertifiedHost");

        Assert.DoesNotContain(plan.Datasets[1].Findings, f => f.Severity >= FindingSeverity.Warning);
        Assert.Equal(new DateOnly(2026, 6, 1), plan.Datasets[2].Retention.EmbargoUntil);
        Assert.Equal(new DateOnly(2040, 12, 31), plan.Datasets[2].Retention.KeepUntil);
        Assert.Equal(DisposalAction.Publish, plan.Datasets[3].Retention.Disposal);
        Assert.Equal(new DateOnly(2027, 1, 1), plan.Datasets[3].Retention.EmbargoUntil);

        var access = plan.Datasets[0].Access.ToDictionary(g => g.Principal.Name, g => g.Role);
        Assert.Equal(AccessRole.Owner, access["Claire Dubois"]);
        Assert.Equal(AccessRole.Contributor, access["Mehdi Benali"]);
        Assert.Equal(AccessRole.Contributor, access["Anna Kowalska"]);
        Assert.Equal(AccessRole.Contributor, access["Dr. Paul Lefèvre"]);
        Assert.Equal(AccessRole.Reader, access["Sofia Rossi"]);
        Assert.False(access.ContainsKey("Jonas Berg"));
        Assert.Equal(5, access.Count);
        Assert.All(plan.Datasets[0].Access, g => Assert.Equal(new DateOnly(2029, 3, 31), g.Until));
        Assert.False(plan.HasErrors);
    }
}
