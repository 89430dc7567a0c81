using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Cli;
using Gardien.Testing;
using Gardien.Workflows.Governance;

namespace Gardien.Local.Tests.Cli;

public sealed class PlanCommandTests : IDisposable
{
    private readonly string _temp = System.IO.Directory.CreateTempSubdirectory("gardien-plan-tests-").FullName;

    private static string Sample => Path.Combine(RepoPaths.Root, "samples", "dmp-health-study.json");

    private static string Policy => Path.Combine(RepoPaths.Root, "policy.sample.json");

    public void Dispose() => System.IO.Directory.Delete(_temp, recursive: true);

    private static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => RunWithStdinAsync(null, args);

    private static async Task<(int Exit, string Out, string Err)> RunWithStdinAsync(byte[]? stdin, params string[] args)
    {
        var root = new RootCommand("test") { PlanCommand.Create(() => new MemoryStream(stdin ?? [])) };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliRunner.RunAsync(root, ["plan", .. args], stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_temp, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Plan_Sample_PrintsTablesAndExitsZero()
    {
        var (exit, output, error) = await RunAsync(Sample, "--policy", Policy, "--today", "2026-01-15");

        Assert.Equal(CliRunner.Ok, exit);
        Assert.Equal(string.Empty, error);
        Assert.Contains("Required approvals", output, StringComparison.Ordinal);
        Assert.Contains("Restricted", output, StringComparison.Ordinal);
        Assert.Contains("cmkhealth", output, StringComparison.Ordinal);
        Assert.Contains("3650 days", output, StringComparison.Ordinal);
        Assert.Contains("SensitiveDataWithoutCertifiedHost", output, StringComparison.Ordinal);
        Assert.Contains("Claire Dubois", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_Json_IsTheSerialisedPlan()
    {
        var (exit, output, _) = await RunAsync(Sample, "--policy", Policy, "--today", "2026-01-15", "--json");

        Assert.Equal(CliRunner.Ok, exit);
        var plan = GovernanceJson.DeserializePlan(output)!;
        Assert.Equal(4, plan.Datasets.Count);
        Assert.Equal(new DateOnly(2026, 1, 15), plan.EvaluatedOn);
        Assert.All(plan.Datasets, d => Assert.True(ContainerNaming.IsValidContainerName(d.Storage.ContainerName)));
        var node = JsonNode.Parse(output)!;
        Assert.Equal("restricted", (string?)node["datasets"]![0]!["classification"]!["classification"]);
        Assert.Equal("data_protection_officer", (string?)node["required_approvals"]![2]!["role"]);
    }

    [Fact]
    public async Task Plan_WithoutPolicy_UsesTheBuiltInSample()
    {
        var withPolicy = await RunAsync(Sample, "--policy", Policy, "--today", "2026-01-15", "--json");
        var builtIn = await RunAsync(Sample, "--today", "2026-01-15", "--json");
        Assert.Equal(CliRunner.Ok, builtIn.Exit);
        Assert.Equal(withPolicy.Out, builtIn.Out);
    }

    [Fact]
    public async Task Plan_InvalidDmp_ExitsOneWithTheValidationErrors()
    {
        var dmp = JsonNode.Parse(File.ReadAllText(Sample))!;
        dmp["dmp"]!.AsObject().Remove("contact");
        var path = Write("invalid.json", dmp.ToJsonString());

        var (exit, output, error) = await RunAsync(path, "--today", "2026-01-15");

        Assert.Equal(CliRunner.Invalid, exit);
        Assert.Equal(string.Empty, output);
        Assert.Contains("/dmp/contact", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_InvalidDmpWithJson_PrintsTheErrorsAsJson()
    {
        var path = Write("broken.json", "{ \"dmp\": ");

        var (exit, output, _) = await RunAsync(path, "--json");

        Assert.Equal(CliRunner.Invalid, exit);
        var node = JsonNode.Parse(output)!;
        Assert.False((bool)node["valid"]!);
        Assert.NotEmpty(node["errors"]!.AsArray());
    }

    [Fact]
    public async Task Plan_MissingFile_ExitsTwo()
    {
        var (exit, _, error) = await RunAsync(Path.Combine(_temp, "nope.json"));
        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_InvalidPolicy_ExitsTwoWithThePolicyErrors()
    {
        var policy = JsonNode.Parse(File.ReadAllText(Policy))!;
        policy["storage"]!["container_prefix"] = "Not_Valid";
        policy["approvals"]!.AsObject().Remove("data_protection_officer");
        var path = Write("policy.json", policy.ToJsonString());

        var (exit, output, error) = await RunAsync(Sample, "--policy", path);

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Equal(string.Empty, output);
        Assert.Contains("/storage/container_prefix", error, StringComparison.Ordinal);
        Assert.Contains("/approvals/data_protection_officer", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_MalformedPolicy_ReportsLineAndColumn()
    {
        var path = Write("policy.json", "{\n  \"institution\": \"x\",\n}");
        var (exit, _, error) = await RunAsync(Sample, "--policy", path);
        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("line 3", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("15/01/2026")]
    [InlineData("2026-13-01")]
    [InlineData("tomorrow")]
    public async Task Plan_BadToday_ExitsTwo(string today)
    {
        var (exit, _, error) = await RunAsync(Sample, "--today", today);
        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("YYYY-MM-DD", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_NoFileArgument_ExitsTwo()
    {
        var (exit, _, _) = await RunAsync();
        Assert.Equal(CliRunner.UsageOrIoError, exit);
    }

    [Fact]
    public async Task Plan_TitleWithMarkupCharacters_IsPrintedVerbatim()
    {
        var dmp = JsonNode.Parse(File.ReadAllText(Sample))!;
        dmp["dmp"]!["title"] = "Étude [red]IRM[/] 脳 [";
        var path = Write("markup.json", dmp.ToJsonString());

        var (exit, output, _) = await RunAsync(path, "--today", "2026-01-15");

        Assert.Equal(CliRunner.Ok, exit);
        Assert.Contains("Étude [red]IRM[/] 脳 [", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_HostsOutsideTheAllowedCountries_ListTheCountriesOnceAfterTheFindings()
    {
        var dmp = JsonNode.Parse(File.ReadAllText(Sample))!;
        dmp["dmp"]!["dataset"]![0]!["distribution"]![0]!["host"]!["geo_location"] = "US";
        dmp["dmp"]!["dataset"]![1]!["distribution"]![0]!["host"]!["geo_location"] = "US";
        var path = Write("outside.json", dmp.ToJsonString());

        var output = await RenderAsync(200, path, "--today", "2026-01-15");

        Assert.Equal(2, output.Split("HostOutsideAllowedRegions").Length - 1);
        const string Allowed = "Host countries allowed for restricted data: AT, BE,";
        Assert.Single(output.Split('\n'), line => line.StartsWith(Allowed, StringComparison.Ordinal));
        Assert.Equal(1, output.Split("AT, BE").Length - 1);
    }

    [Fact]
    public async Task Plan_FrenchExportWithDayFirstDates_ShowsTheProjectEndAndTheRawAcquisitions()
    {
        var file = Path.Combine(RepoPaths.TestData, "plans", "opidor-irm-fr.json");
        var (exit, output, _) = await RunAsync(file, "--today", "2026-01-15", "--json");

        Assert.Equal(CliRunner.Ok, exit);
        var plan = GovernanceJson.DeserializePlan(output)!;
        Assert.Equal(new DateOnly(2028, 12, 31), plan.ProjectEnd);
        Assert.Equal(3650, plan.Datasets[0].Storage.ImmutabilityDays);
        Assert.Single(plan.Findings, f => f.Code == "PersonalDataInOpenDistribution");
    }

    [Fact]
    public async Task Plan_SameInputTwice_PrintsTheSameJson()
    {
        var first = await RunAsync(Sample, "--today", "2026-01-15", "--json");
        var second = await RunAsync(Sample, "--today", "2026-01-15", "--json");
        Assert.Equal(first.Out, second.Out);
        Assert.NotNull(JsonSerializer.Deserialize<GovernancePlan>(first.Out, GovernanceJson.Options));
    }

    [Fact]
    public async Task Plan_Dash_ReadsTheDmpFromStandardInput()
    {
        var bytes = await File.ReadAllBytesAsync(Sample);

        var fromStdin = await RunWithStdinAsync(bytes, "-", "--today", "2026-01-15", "--json");
        var fromFile = await RunAsync(Sample, "--today", "2026-01-15", "--json");

        Assert.Equal(CliRunner.Ok, fromStdin.Exit);
        Assert.Equal(fromFile.Out, fromStdin.Out);
    }

    [Fact]
    public async Task Plan_InvalidDmpWithJson_HasTheValidateContractShape()
    {
        var (exit, output, _) = await RunWithStdinAsync("""{ "dmp": { "title": "no id" } }"""u8.ToArray(), "-", "--json");

        Assert.Equal(CliRunner.Invalid, exit);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(["valid", "version", "errors", "warnings"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.All(json.RootElement.GetProperty("errors").EnumerateArray(), issue =>
            Assert.Equal(["path", "message", "keyword"], issue.EnumerateObject().Select(p => p.Name)));
        Assert.Contains(json.RootElement.GetProperty("errors").EnumerateArray(), e => e.GetProperty("path").GetString() == "/dmp/dmp_id");
    }

    private static async Task<string> RenderAsync(int width, params string[] args)
    {
        var root = new RootCommand("test") { PlanCommand.Create(() => new MemoryStream(), width) };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliRunner.RunAsync(root, ["plan", .. args], stdout, stderr);
        Assert.Equal(CliRunner.Ok, exit);
        return stdout.ToString();
    }

    private static HashSet<string> Words(string rendered) =>
        [.. rendered.Split(
            ['\n', ' ', '│', '┌', '┐', '└', '┘', '├', '┤', '┬', '┴', '┼', '─'],
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public async Task Plan_TakesTheWidth_AndNeverBreaksAWord(int width)
    {
        string[] args = [Sample, "--policy", Policy, "--today", "2026-01-15"];
        var wide = Words(await RenderAsync(1000, args));

        var rendered = await RenderAsync(width, args);

        // Every word at this width is a whole word of the unwrapped rendering: a word cut in two would leave fragments.
        var fragments = Words(rendered).Where(w => !wide.Contains(w)).ToList();
        Assert.True(fragments.Count == 0, "broken words: " + string.Join(", ", fragments));
        foreach (var line in rendered.Split('\n'))
        {
            var trimmed = line.TrimEnd();
            Assert.True(
                trimmed.Length <= width || !trimmed.Trim().Contains(' ', StringComparison.Ordinal), $"line longer than {width}: {trimmed}");
        }

        Assert.Contains("claire.dubois@neuro-institute.example", rendered, StringComparison.Ordinal);
        Assert.Contains("SensitiveDataWithoutCertifiedHost", rendered, StringComparison.Ordinal);
        Assert.Contains("/dmp/dataset/0/distribution/0/host/certified_with", rendered, StringComparison.Ordinal);
        Assert.Contains(wide.Where(w => w.StartsWith("gdn-", StringComparison.Ordinal)).First(), rendered, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_WideTerminal_KeepsTheDatasetsTable()
    {
        var rendered = await RenderAsync(400, Sample, "--policy", Policy, "--today", "2026-01-15");

        Assert.Contains("│ Dataset ", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("\n  Dataset ", rendered, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_SeveralFiles_PrintsEachPlanAndASummaryLine()
    {
        var invalid = Write("invalid.json", "{\"dmp\": {}}");
        var folder = System.IO.Directory.CreateDirectory(Path.Combine(_temp, "export")).FullName;
        File.Copy(Sample, Path.Combine(folder, "a.json"));
        File.Copy(Sample, Path.Combine(folder, "b.json"));

        var (exit, output, error) = await RunAsync(folder, invalid, "--today", "2026-01-15");

        Assert.Equal(CliRunner.Invalid, exit);
        Assert.Contains("== " + Path.Combine(folder, "a.json") + " ==", output, StringComparison.Ordinal);
        Assert.Contains("== " + Path.Combine(folder, "b.json") + " ==", output, StringComparison.Ordinal);
        Assert.StartsWith("3 file(s): 2 planned, 1 invalid, 0 unreadable; ", output.TrimEnd().Split('\n')[^1], StringComparison.Ordinal);
        Assert.Contains("invalid.json' is not a valid maDMP", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_Json_SeveralFiles_GivesOneLinePerFile()
    {
        var invalid = Write("invalid.json", "{\"dmp\": {}}");

        var (exit, output, _) = await RunAsync(Sample, invalid, "--today", "2026-01-15", "--json");

        Assert.Equal(CliRunner.Invalid, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(Sample, (string?)lines[0]["file"]);
        Assert.True((bool)lines[0]["valid"]!);
        Assert.Equal(4, lines[0]["plan"]!["datasets"]!.AsArray().Count);
        Assert.False((bool)lines[1]["valid"]!);
        Assert.NotEmpty(lines[1]["errors"]!.AsArray());
    }

    [Fact]
    public async Task Plan_PolicyThatIsADirectory_SaysSo()
    {
        var (exit, _, error) = await RunAsync(Sample, "--policy", _temp);

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("is a directory, not a file", error, StringComparison.Ordinal);
    }
}
