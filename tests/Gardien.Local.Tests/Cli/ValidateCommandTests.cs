using System.CommandLine;
using System.Text.Json;
using Gardien.Cli;
using Gardien.Testing;

namespace Gardien.Local.Tests.Cli;

public sealed class ValidateCommandTests : IDisposable
{
    private readonly string _temp = System.IO.Directory.CreateTempSubdirectory("gardien-validate-tests-").FullName;

    private static string Example(string relative) => Path.Combine(RepoPaths.MadmpData, "examples", relative);

    private static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => RunWithStdinAsync(null, args);

    private static async Task<(int Exit, string Out, string Err)> RunWithStdinAsync(byte[]? stdin, params string[] args)
    {
        var root = new RootCommand("test") { ValidateCommand.Create(() => new MemoryStream(stdin ?? [])) };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliRunner.RunAsync(root, ["validate", .. args], stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    public void Dispose() => System.IO.Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task ValidFile_ExitsZeroWithSummary()
    {
        var (exit, output, _) = await RunAsync(Example("rda-1.2/ex9-dmp-long.json"));

        Assert.Equal(CliRunner.Ok, exit);
        Assert.Contains("valid (maDMP 1.2, lenient)", output, StringComparison.Ordinal);
        Assert.Contains("0 error(s)", output, StringComparison.Ordinal);
        Assert.Contains("3 dataset(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidFile_ExitsOneAndListsPathMessageKeyword()
    {
        var (exit, output, _) = await RunAsync(Example("rda-1.1/ex9-dmp-long.json"), "--strict", "--schema-version", "1.2");

        Assert.Equal(CliRunner.Invalid, exit);
        Assert.Contains("INVALID (maDMP 1.2, strict)", output, StringComparison.Ordinal);
        Assert.Contains("/dmp/project/0/project_id", output, StringComparison.Ordinal);
        Assert.Contains("[type]", output, StringComparison.Ordinal);
        Assert.Contains("1 error(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_PrintsCamelCaseContract()
    {
        var file = Path.Combine(_temp, "no-mbox.json");
        var text = await File.ReadAllTextAsync(Example("rda-1.2/ex8-dmp-minimal-content.json"));
        var node = System.Text.Json.Nodes.JsonNode.Parse(text)!;
        node["dmp"]!["contact"]!.AsObject().Remove("mbox");
        await File.WriteAllTextAsync(file, node.ToJsonString());

        var (exit, output, _) = await RunAsync(file, "--json");

        Assert.Equal(CliRunner.Invalid, exit);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.False(root.GetProperty("valid").GetBoolean());
        Assert.Equal("1.2", root.GetProperty("version").GetString());
        var error = Assert.Single(root.GetProperty("errors").EnumerateArray());
        Assert.Equal("/dmp/contact/mbox", error.GetProperty("path").GetString());
        Assert.Equal("required", error.GetProperty("keyword").GetString());
        Assert.Equal(
            "The contact's e-mail address (mbox) is missing. Add \"mbox\": \"name@institute.org\" to /dmp/contact.",
            error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("warnings").ValueKind);
    }

    [Fact]
    public async Task Json_HasExactlyTheDocumentedShape()
    {
        var (_, output, _) = await RunAsync(Example("rda-1.0/ex1-header-fundedProject.json"), "--json", "--strict");

        using var json = JsonDocument.Parse(output);
        Assert.Equal(["valid", "version", "errors", "warnings"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.False, json.RootElement.GetProperty("valid").ValueKind);
        Assert.NotEmpty(json.RootElement.GetProperty("errors").EnumerateArray());
        Assert.All(
            json.RootElement.GetProperty("errors").EnumerateArray().Concat(json.RootElement.GetProperty("warnings").EnumerateArray()),
            issue =>
            {
                Assert.Equal(["path", "message", "keyword"], issue.EnumerateObject().Select(p => p.Name));
                Assert.All(issue.EnumerateObject(), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind));
            });
    }

    [Fact]
    public async Task Json_MalformedFile_GivesLineAndColumnInTheMessage()
    {
        var file = Path.Combine(_temp, "broken.json");
        await File.WriteAllTextAsync(file, "{\n  \"dmp\": {\n    \"title\": \"x\"\n    \"language\": \"eng\"\n  }\n}");

        var (exit, output, _) = await RunAsync(file, "--json");

        Assert.Equal(CliRunner.Invalid, exit);
        using var json = JsonDocument.Parse(output);
        var error = Assert.Single(json.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal("json", error.GetProperty("keyword").GetString());
        Assert.Equal("", error.GetProperty("path").GetString());
        Assert.Contains("line 4, column 5", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("version").ValueKind);
    }

    [Fact]
    public async Task Dash_ReadsTheDocumentFromStandardInput()
    {
        var bytes = await File.ReadAllBytesAsync(Example("rda-1.2/ex9-dmp-long.json"));

        var (exit, output, error) = await RunWithStdinAsync(bytes, "-", "--json");

        Assert.Equal(CliRunner.Ok, exit);
        Assert.Empty(error);
        using var json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal("1.2", json.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Dash_InvalidStandardInput_ExitsOneAndNamesStdin()
    {
        var (exit, output, _) = await RunWithStdinAsync("[1, 2]"u8.ToArray(), "-");

        Assert.Equal(CliRunner.Invalid, exit);
        Assert.Contains("<stdin>: INVALID", output, StringComparison.Ordinal);
        Assert.Contains("[type]", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_ValidFile_OmitsLineAndReportsWarnings()
    {
        var (exit, output, _) = await RunAsync(Example("rda-1.2/ex9-dmp-long.json"), "--schema-version", "1.1", "--json");

        Assert.Equal(CliRunner.Ok, exit);
        using var json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal("1.1", json.RootElement.GetProperty("version").GetString());
        var warning = Assert.Single(json.RootElement.GetProperty("warnings").EnumerateArray());
        Assert.Equal("/$schema", warning.GetProperty("path").GetString());
        Assert.False(warning.TryGetProperty("line", out _));
    }

    [Fact]
    public async Task Strict_RejectsWhatLenientAccepts()
    {
        var lenient = await RunAsync(Example("rda-1.2/ex9-dmp-long.json"), "--schema-version", "1.1");
        var strict = await RunAsync(Example("rda-1.2/ex9-dmp-long.json"), "--schema-version", "1.1", "--strict");

        Assert.Equal(CliRunner.Ok, lenient.Exit);
        Assert.Equal(CliRunner.Invalid, strict.Exit);
        Assert.Contains("[additionalProperties]", strict.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFile_ExitsTwoWithClearMessage()
    {
        var (exit, output, error) = await RunAsync(Path.Combine(_temp, "absent.json"));

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
        Assert.Contains("absent.json", error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Theory]
    [InlineData("--schema-version", "2.0")]
    [InlineData("--unknown")]
    public async Task BadUsage_ExitsTwo(params string[] extra)
    {
        var (exit, _, error) = await RunAsync([Example("rda-1.2/ex9-dmp-long.json"), .. extra]);

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("error:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoFileArgument_ExitsTwo()
    {
        var (exit, _, _) = await RunAsync();

        Assert.Equal(CliRunner.UsageOrIoError, exit);
    }

    [Fact]
    public async Task EmptyFile_ExitsOneNotTwo()
    {
        var file = Path.Combine(_temp, "empty.json");
        await File.WriteAllTextAsync(file, "");

        var (exit, output, _) = await RunAsync(file);

        Assert.Equal(CliRunner.Invalid, exit);
        Assert.Contains("empty", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralFilesAndADirectory_AreCheckedInOneRun_WithASummaryLine()
    {
        var invalid = Path.Combine(_temp, "invalid.json");
        await File.WriteAllTextAsync(invalid, "{\"dmp\": {}}");

        var (exit, output, _) = await RunAsync(Example("rda-1.2"), invalid);

        Assert.Equal(CliRunner.Invalid, exit);
        var files = System.IO.Directory.GetFiles(Example("rda-1.2"), "*.json").Length;
        Assert.Equal(
            files + 1,
            output.Split('\n')
                .Count(l => l.Contains(": valid (", StringComparison.Ordinal) || l.Contains(": INVALID (", StringComparison.Ordinal)));
        Assert.StartsWith(
            $"{files + 1} file(s): {files} valid, 1 invalid, 0 unreadable; ", output.TrimEnd().Split('\n')[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_SeveralFiles_GivesOneLinePerFile_WithTheFileFirst()
    {
        var missing = Path.Combine(_temp, "missing.json");

        var (exit, output, error) = await RunAsync(Example("rda-1.2/ex1-header-fundedProject.json"), Example("rda-1.1"), missing, "--json");

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + System.IO.Directory.GetFiles(Example("rda-1.1"), "*.json").Length + 1, lines.Length);
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line);
            Assert.Equal(["file", "valid", "version", "errors", "warnings"], document.RootElement.EnumerateObject().Select(p => p.Name));
        }

        var unreadable = JsonDocument.Parse(lines.Single(l => l.Contains("missing.json", StringComparison.Ordinal))).RootElement;
        Assert.Equal("io", unreadable.GetProperty("errors")[0].GetProperty("keyword").GetString());
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostileFiles_GiveNoInternalErrorAndSayWhere()
    {
        var (exit, output, _) = await RunAsync(Path.Combine(RepoPaths.TestData, "hostile"), "--json");

        Assert.Equal(CliRunner.Invalid, exit);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line);
            foreach (var issue in document.RootElement.GetProperty("errors").EnumerateArray())
            {
                Assert.NotEqual("internal", issue.GetProperty("keyword").GetString());
                Assert.True(
                    issue.GetProperty("path").GetString()!.Length > 0
                        || issue.GetProperty("message").GetString()!.Contains("ine ", StringComparison.Ordinal),
                    line);
            }
        }
    }

    [Fact]
    public async Task EmptyDirectory_SaysItHoldsNoJsonFile()
    {
        var empty = System.IO.Directory.CreateDirectory(Path.Combine(_temp, "export")).FullName;

        var (exit, _, error) = await RunAsync(empty);

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("is a directory with no .json file", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StandardInputThatCannotBeOpened_SaysWhy_AndTheOtherFilesAreStillRead()
    {
        var root = new RootCommand("test") { ValidateCommand.Create(() => throw new CliInputException("standard input is closed")) };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exit = await CliRunner.RunAsync(root, ["validate", "-", Example("rda-1.2/ex9-dmp-long.json")], stdout, stderr);

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("<stdin>: standard input is closed", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("ex9-dmp-long.json: valid", stdout.ToString(), StringComparison.Ordinal);
    }
}
