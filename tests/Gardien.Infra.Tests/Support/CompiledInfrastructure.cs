using System.Text.Json.Nodes;

namespace Gardien.Infra.Tests.Support;

/// <summary>
/// Compiles and lints every template and parameter file once per test run (Bicep takes seconds per file) and
/// shares the results with every test class in <see cref="InfraCollection"/>.
/// </summary>
public sealed class CompiledInfrastructure : IAsyncLifetime
{
    private readonly Dictionary<string, BicepRun> _runs = [];

    /// <summary>Every CLI run, keyed "build main.bicep", "lint main.prod.bicepparam", ...</summary>
    public IReadOnlyDictionary<string, BicepRun> Runs => _runs;

    public ArmTemplate Main { get; private set; } = null!;

    /// <summary>main.bicep with the values of main.dev.bicepparam applied to its root parameters.</summary>
    public ArmTemplate MainDev { get; private set; } = null!;

    /// <summary>main.bicep with the values of main.prod.bicepparam applied to its root parameters.</summary>
    public ArmTemplate MainProd { get; private set; } = null!;

    public IReadOnlyDictionary<string, JsonNode?> DevParameters { get; private set; } = null!;

    public IReadOnlyDictionary<string, JsonNode?> ProdParameters { get; private set; } = null!;

    public static string Key(string verb, string file) => $"{verb} {Path.GetFileName(file)}";

    public async Task InitializeAsync()
    {
        var jobs = new List<(string Key, Func<Task<BicepRun>> Run)>
        {
            (Key("build", InfraPaths.MainTemplate), () => BicepCli.BuildAsync(InfraPaths.MainTemplate)),
            (Key("build", InfraPaths.DevParameters), () => BicepCli.BuildParamsAsync(InfraPaths.DevParameters)),
            (Key("build", InfraPaths.ProdParameters), () => BicepCli.BuildParamsAsync(InfraPaths.ProdParameters)),
        };
        jobs.AddRange(InfraPaths.LintedFiles.Select(file => (Key("lint", file), (Func<Task<BicepRun>>)(() => BicepCli.LintAsync(file)))));

        // Two cores on the build machines: a few CLI processes at a time.
        using var gate = new SemaphoreSlim(3);
        var results = await Task.WhenAll(jobs.Select(async job =>
        {
            await gate.WaitAsync();
            try
            {
                return (job.Key, Run: await job.Run());
            }
            finally
            {
                gate.Release();
            }
        }));

        foreach (var (key, run) in results)
        {
            _runs[key] = run;
        }

        Main = ArmTemplate.Parse(TemplateJson(Key("build", InfraPaths.MainTemplate)), "main");
        DevParameters = ParameterValues(Key("build", InfraPaths.DevParameters));
        ProdParameters = ParameterValues(Key("build", InfraPaths.ProdParameters));
        MainDev = ArmTemplate.Parse(TemplateJson(Key("build", InfraPaths.MainTemplate)), "main(dev)", DevParameters);
        MainProd = ArmTemplate.Parse(TemplateJson(Key("build", InfraPaths.MainTemplate)), "main(prod)", ProdParameters);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private string TemplateJson(string key)
    {
        var run = _runs[key];
        if (run.ExitCode != 0 || string.IsNullOrWhiteSpace(run.StandardOutput))
        {
            throw new InvalidOperationException(run.Describe());
        }

        return run.StandardOutput;
    }

    private Dictionary<string, JsonNode?> ParameterValues(string key)
    {
        // build-params --stdout prints {"parametersJson": "<ARM parameters file>", ...}.
        var envelope = JsonNode.Parse(TemplateJson(key))!.AsObject();
        var parametersFile = JsonNode.Parse(envelope["parametersJson"]!.GetValue<string>())!.AsObject();
        return (parametersFile["parameters"] as JsonObject ?? [])
            .ToDictionary(pair => pair.Key, pair => pair.Value?["value"]?.DeepClone());
    }
}

[CollectionDefinition(Name)]
public sealed class InfraCollection : ICollectionFixture<CompiledInfrastructure>
{
    public const string Name = "Compiled infrastructure";
}
