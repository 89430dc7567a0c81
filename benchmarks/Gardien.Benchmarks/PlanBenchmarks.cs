using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Gardien.Testing;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;

namespace Gardien.Benchmarks;

/// <summary>
/// Validate (lenient read) + governance plan. Goals: ex9-dmp-long ≥ 5,000 DMPs/s on one core (≤ 200 µs per op);
/// a 10,000-dataset DMP in &lt; 1 s and &lt; 200 MB allocated.
/// Run: dotnet run -c Release --project benchmarks/Gardien.Benchmarks -- --filter '*PlanBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class PlanBenchmarks
{
    private static readonly DateOnly Today = new(2026, 1, 15);

    private readonly GovernancePolicy _policy = GovernancePolicy.Default;
    private string _ex9 = "";
    private string _large = "";
    private Dmp _ex9Dmp = null!;
    private Dmp _largeDmp = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ex9 = File.ReadAllText(Path.Combine(RepoPaths.MadmpData, "examples", "rda-1.2", "ex9-dmp-long.json"));
        _large = GenerateDmp(10_000);
        _ex9Dmp = ReadOrThrow(_ex9);
        _largeDmp = ReadOrThrow(_large);
    }

    [Benchmark]
    public GovernancePlan Ex9_ValidateAndPlan() => Plan(_ex9);

    [Benchmark]
    public GovernancePlan Ex9_PlanOnly() => GovernanceEvaluator.Evaluate(_ex9Dmp, _policy, Today);

    [Benchmark]
    public GovernancePlan Large10k_ValidateAndPlan() => Plan(_large);

    [Benchmark]
    public GovernancePlan Large10k_PlanOnly() => GovernanceEvaluator.Evaluate(_largeDmp, _policy, Today);

    private GovernancePlan Plan(string json)
    {
        var read = MadmpReader.Default.Read(json);
        return GovernanceEvaluator.Evaluate(read.Document!.Dmp, _policy, Today);
    }

    private static Dmp ReadOrThrow(string json)
    {
        var read = MadmpReader.Default.Read(json, new MadmpReadOptions { MaxBytes = 64 * 1024 * 1024 });
        return read.Document?.Dmp
            ?? throw new InvalidOperationException(
                "Benchmark input is invalid: " + string.Join("; ", read.Errors.Select(e => e.Path + " " + e.Message)));
    }

    /// <summary>
    /// A valid RDA 1.2 DMP with <paramref name="datasets"/> datasets mixing every access level and personal/sensitive answer.
    /// </summary>
    public static string GenerateDmp(int datasets)
    {
        string[] access = ["open", "shared", "closed"];
        string[] answers = ["no", "yes", "unknown"];
        var datasetArray = new JsonArray();
        for (var i = 0; i < datasets; i++)
        {
            datasetArray.Add(new JsonObject
            {
                ["title"] = $"Dataset {i}",
                ["type"] = i % 4 == 0 ? "raw data" : "derived data",
                ["dataset_id"] = new JsonObject { ["identifier"] = $"https://doi.org/10.99999/bench.{i}", ["type"] = "doi" },
                ["personal_data"] = answers[i % 3],
                ["sensitive_data"] = answers[(i / 3) % 3],
                ["distribution"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["title"] = $"Distribution {i}",
                        ["data_access"] = access[i % 3],
                        ["byte_size"] = 1_000_000L * (i + 1),
                        ["host"] = new JsonObject
                        {
                            ["title"] = "Store",
                            ["url"] = "https://store.example",
                            ["geo_location"] = i % 50 == 0 ? "US" : "FR",
                        },
                        ["license"] = new JsonArray
                        {
                            new JsonObject
                            {
                                ["license_ref"] = "https://creativecommons.org/licenses/by/4.0/",
                                ["start_date"] = "2027-01-01",
                            },
                        },
                    },
                },
            });
        }

        var contributors = new JsonArray();
        string[] roles = ["DataManager", "Researcher", "ProjectLeader", "DataCollector", "Other"];
        for (var i = 0; i < 10; i++)
        {
            contributors.Add(new JsonObject
            {
                ["name"] = $"Person {i}",
                ["mbox"] = $"person{i}@institute.example",
                ["contributor_id"] = new JsonObject { ["identifier"] = $"0000-0002-0000-{i:0000}", ["type"] = "orcid" },
                ["role"] = new JsonArray(roles[i % roles.Length]),
            });
        }

        var document = new JsonObject
        {
            ["dmp"] = new JsonObject
            {
                ["title"] = "Generated DMP",
                ["language"] = "eng",
                ["created"] = "2024-01-01T00:00:00Z",
                ["modified"] = "2025-01-01T00:00:00Z",
                ["ethical_issues_exist"] = "yes",
                ["dmp_id"] = new JsonObject { ["identifier"] = "https://doi.org/10.99999/bench", ["type"] = "doi" },
                ["contact"] = new JsonObject
                {
                    ["name"] = "PI",
                    ["mbox"] = "pi@institute.example",
                    ["contact_id"] = new JsonObject { ["identifier"] = "0000-0002-1825-0097", ["type"] = "orcid" },
                },
                ["contributor"] = contributors,
                ["project"] = new JsonArray { new JsonObject { ["title"] = "Bench", ["start"] = "2024-01-01", ["end"] = "2028-12-31" } },
                ["dataset"] = datasetArray,
            },
        };
        return document.ToJsonString();
    }
}
