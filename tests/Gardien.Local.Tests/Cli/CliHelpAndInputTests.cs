using System.CommandLine;
using System.Diagnostics;
using Gardien.Cli;

namespace Gardien.Local.Tests.Cli;

public sealed class CliHelpAndInputTests : IDisposable
{
    private readonly string _temp = System.IO.Directory.CreateTempSubdirectory("gardien-cli-tests-").FullName;

    public void Dispose() => System.IO.Directory.Delete(_temp, recursive: true);

    private static IEnumerable<(string Path, Command Command)> AllCommands(Command command, string path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
        {
            foreach (var inner in AllCommands(sub, path.Length == 0 ? sub.Name : path + " " + sub.Name))
            {
                yield return inner;
            }
        }
    }

    public static TheoryData<string> CommandPaths() =>
        [.. AllCommands(CliCommands.CreateRoot("test"), string.Empty).Select(c => c.Path)];

    [Theory]
    [MemberData(nameof(CommandPaths))]
    public async Task Help_OfEveryCommand_ShowsItsExitCodesAndAnExample(string path)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        string[] args = [.. path.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"];

        var exit = await CliRunner.RunAsync(CliCommands.CreateRoot("test"), args, stdout, stderr);

        Assert.Equal(CliRunner.Ok, exit);
        var help = stdout.ToString();
        Assert.Contains("Exit codes: 0 ", help, StringComparison.Ordinal);
        Assert.Contains("Example:    gardien", help, StringComparison.Ordinal);
        Assert.Contains(CliCommands.Help[path].Example, help, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_HasAnEntryForEveryCommand_AndNoOther()
    {
        var paths = AllCommands(CliCommands.CreateRoot("test"), string.Empty).Select(c => c.Path).ToHashSet();

        Assert.Equal(paths.Order(StringComparer.Ordinal), CliCommands.Help.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReadInput_OfADirectory_SaysItIsADirectory()
    {
        using var error = new StringWriter();

        var text = await LocalHostCommand.ReadInputAsync(_temp, error, CancellationToken.None);

        Assert.Null(text);
        Assert.Contains("is a directory, not a file", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("denied", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void OpenFile_Missing_SaysItDoesNotExist()
    {
        var ex = Assert.Throws<CliInputException>(() => CliInputs.OpenFile(Path.Combine(_temp, "absent.json")));

        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Expand_ReadsDirectoriesInNameOrder_AndReportsStandardInputTwice()
    {
        System.IO.Directory.CreateDirectory(Path.Combine(_temp, "sub"));
        File.WriteAllText(Path.Combine(_temp, "b.json"), "{}");
        File.WriteAllText(Path.Combine(_temp, "sub", "a.json"), "{}");
        File.WriteAllText(Path.Combine(_temp, "notes.txt"), "");

        var (inputs, problems) = CliInputs.Expand([_temp, "-", "-"]);

        Assert.Equal([Path.Combine(_temp, "b.json"), Path.Combine(_temp, "sub", "a.json"), "<stdin>"], inputs.Select(i => i.Name));
        Assert.Contains("only once", Assert.Single(problems).Problem, StringComparison.Ordinal);
    }

    /// <summary>
    /// With file descriptor 0 closed, the runtime puts its own pipe there and a read would wait forever; the CLI must say
    /// that standard input is closed instead. Runs the real executable under bash (Linux only).
    /// </summary>
    [Fact]
    public async Task ClosedStandardInput_IsReportedAsClosed_NotAwaited()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/bash"))
        {
            return;
        }

        var dll = Path.Combine(AppContext.BaseDirectory, "gardien.dll");
        Assert.True(
            File.Exists(Path.Combine(AppContext.BaseDirectory, "gardien.runtimeconfig.json")),
            "the CLI's runtimeconfig is copied beside the tests");
        var start = new ProcessStartInfo("/bin/bash")
        {
            ArgumentList = { "-c", "exec dotnet \"$0\" validate - <&-", dll },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(hang.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("gardien waited on a closed standard input");
        }

        Assert.Equal(CliRunner.UsageOrIoError, process.ExitCode);
        Assert.Contains("standard input is closed", await stderr, StringComparison.Ordinal);
        Assert.Empty(await stdout);
    }
}
