using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

/// <summary>
/// Every template and parameter file builds and lints with no diagnostic at all: BCP warnings (e.g. a misspelled property) count as
/// failures.
/// </summary>
[Collection(InfraCollection.Name)]
public sealed class BicepCompilationTests(CompiledInfrastructure infra)
{
    public static TheoryData<string> CliRuns() =>
    [
        "build main.bicep",
        "build main.dev.bicepparam",
        "build main.prod.bicepparam",
        "lint main.bicep",
        "lint main.dev.bicepparam",
        "lint main.prod.bicepparam",
    ];

    [Theory]
    [MemberData(nameof(CliRuns))]
    public void Template_BuildAndLint_ReportNoErrorWarningOrInfo(string run)
    {
        var result = infra.Runs[run];

        Assert.True(result.IsClean, result.Describe());
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public async Task Cli_IsTheVersionPinnedInDirectoryPackagesProps()
    {
        var run = await BicepCli.RunAsync("--version");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("0.49.2", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void BicepConfig_SetsTheSecurityRelevantLinterRulesToError()
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(InfraPaths.BicepConfig))!;
        var rules = config["analyzers"]!["core"]!["rules"]!.AsObject();

        string[] required =
        [
            "secure-parameter-default",
            "no-hardcoded-env-urls",
            "no-unused-params",
            "no-unused-vars",
            "use-recent-api-versions",
            "outputs-should-not-contain-secrets",
            "use-resource-id-functions",
            "secure-secrets-in-params",
            "adminusername-should-not-be-literal",
            "no-unnecessary-dependson",
            "use-secure-value-for-secure-inputs",
            "protect-commandtoexecute-secrets",
        ];
        foreach (var rule in required)
        {
            Assert.True(rules.ContainsKey(rule), $"bicepconfig.json does not configure {rule}");
            Assert.Equal("error", rules[rule]!["level"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task MisspelledProperty_IsReportedAsBcpWarning_AndFailsTheCleanCheck()
    {
        using var copy = TemplateCopy.Of(Path.Combine(InfraPaths.Modules, "keyvault.bicep"));
        copy.Replace("enablePurgeProtection: true", "enablePurgeProtecton: true");

        var run = await BicepCli.BuildAsync(copy.FilePath);

        // Bicep still compiles (exit 0): only the clean check catches the typo.
        Assert.False(run.IsClean);
        Assert.Contains(
            run.Diagnostics,
            d => d.Level == "Warning"
                && d.Code.StartsWith("BCP", StringComparison.Ordinal)
                && d.Message.Contains("enablePurgeProtecton", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecureParameterWithDefault_IsALinterError()
    {
        using var copy = TemplateCopy.Of(Path.Combine(InfraPaths.Modules, "identity.bicep"));
        copy.Append("""

            @secure()
            @description('Not allowed: a secret with a default value.')
            param hmacKey string = 'hard-coded-secret'

            @description('Uses the parameter so only the default is wrong.')
            output keyLength int = length(hmacKey)
            """);

        var run = await BicepCli.LintAsync(copy.FilePath);

        Assert.False(run.IsClean);
        Assert.Contains(run.Diagnostics, d => d.Level == "Error" && d.Code == "secure-parameter-default");
    }

    [Fact]
    public async Task HardcodedCloudUrl_IsALinterError()
    {
        using var copy = TemplateCopy.Of(Path.Combine(InfraPaths.Modules, "identity.bicep"));
        copy.Append("""

            @description('Not allowed: a public-cloud host name.')
            output loginUrl string = 'https://login.microsoftonline.com/'
            """);

        var run = await BicepCli.LintAsync(copy.FilePath);

        Assert.Contains(run.Diagnostics, d => d.Level == "Error" && d.Code == "no-hardcoded-env-urls");
    }
}
