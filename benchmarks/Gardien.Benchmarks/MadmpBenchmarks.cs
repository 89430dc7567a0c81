using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Gardien.Testing;
using Gardien.Workflows.Madmp;

namespace Gardien.Benchmarks;

/// <summary>Read = size checks + parse + version detection + lenient normalisation + schema validation + model mapping.</summary>
[MemoryDiagnoser]
public class MadmpBenchmarks
{
    private static readonly MadmpReadOptions Lenient = new();
    private static readonly MadmpReadOptions Strict = new() { Mode = ValidationMode.Strict };
    private static readonly MadmpReadOptions LenientNoLimit = new() { MaxBytes = 256L * 1024 * 1024 };

    private byte[] _ex9 = [];
    private byte[] _tenThousand = [];

    [GlobalSetup]
    public void Setup()
    {
        _ex9 = File.ReadAllBytes(Path.Combine(RepoPaths.MadmpData, "examples", "rda-1.2", "ex9-dmp-long.json"));
        _tenThousand = GenerateDmp(10_000);
        Check(MadmpReader.Default.Read(_ex9, Lenient));
        Check(MadmpReader.Default.Read(_tenThousand, LenientNoLimit));
        // Schemas are parsed once per process; keep that out of the measurements.
        _ = MadmpReader.Default.Read(_ex9, Strict);
    }

    [Benchmark(Baseline = true)]
    public MadmpReadResult ReadEx9Lenient() => MadmpReader.Default.Read(_ex9, Lenient);

    [Benchmark]
    public MadmpReadResult ReadEx9Strict() => MadmpReader.Default.Read(_ex9, Strict);

    [Benchmark]
    public MadmpReadResult ReadTenThousandDatasetsLenient() => MadmpReader.Default.Read(_tenThousand, LenientNoLimit);

    private static void Check(MadmpReadResult result)
    {
        if (!result.IsValid)
        {
            throw new InvalidOperationException(
                "Benchmark input is invalid: " + string.Join("; ", result.Errors.Select(e => e.Path + " " + e.Message)));
        }
    }

    /// <summary>A realistic large plan: every dataset with a distribution, host, licence and security items.</summary>
    internal static byte[] GenerateDmp(int datasets)
    {
        var list = new JsonArray();
        for (var i = 0; i < datasets; i++)
        {
            list.Add(new JsonObject
            {
                ["title"] = $"Dataset {i}",
                ["description"] = "Generated dataset for throughput measurements.",
                ["dataset_id"] = new JsonObject { ["identifier"] = $"https://doi.org/10.0000/bench.{i}", ["type"] = "doi" },
                ["personal_data"] = i % 3 == 0 ? "yes" : "no",
                ["sensitive_data"] = i % 5 == 0 ? "yes" : "unknown",
                ["issued"] = "2025-01-31",
                ["keyword"] = new JsonArray("imaging", "cohort"),
                ["security_and_privacy"] = new JsonArray(
                    new JsonObject { ["title"] = "Pseudonymisation", ["description"] = "Keys held by the DPO." }),
                ["distribution"] = new JsonArray(new JsonObject
                {
                    ["title"] = $"Distribution {i}",
                    ["data_access"] = (i % 3) switch { 0 => "closed", 1 => "shared", _ => "open" },
                    ["byte_size"] = 1_000_000L * (i + 1),
                    ["available_until"] = "2035-12-31",
                    ["format"] = new JsonArray("application/dicom"),
                    ["host"] = new JsonObject
                    {
                        ["title"] = "Institute storage",
                        ["url"] = "https://storage.example.org",
                        ["geo_location"] = "FR",
                        ["storage_type"] = "disk",
                    },
                    ["license"] = new JsonArray(
                        new JsonObject { ["license_ref"] = "https://creativecommons.org/licenses/by/4.0/", ["start_date"] = "2026-01-01" }),
                }),
            });
        }

        var root = new JsonObject
        {
            ["$schema"] = "./JSON-schema/1.2/maDMP-schema-1.2.json",
            ["dmp"] = new JsonObject
            {
                ["title"] = "Generated DMP",
                ["language"] = "eng",
                ["created"] = "2025-01-31T09:00:00Z",
                ["modified"] = "2025-02-01T09:00:00Z",
                ["ethical_issues_exist"] = "unknown",
                ["dmp_id"] = new JsonObject { ["identifier"] = "https://doi.org/10.0000/bench", ["type"] = "doi" },
                ["contact"] = new JsonObject
                {
                    ["name"] = "Marie Curie",
                    ["mbox"] = "marie.curie@institut.org",
                    ["contact_id"] = new JsonObject { ["identifier"] = "https://orcid.org/0000-0002-1825-0097", ["type"] = "orcid" },
                },
                ["project"] = new JsonArray(new JsonObject { ["title"] = "Bench", ["start"] = "2025-01-01", ["end"] = "2029-12-31" }),
                ["dataset"] = list,
            },
        };
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }
}
