using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Gardien.Infra.Tests.Support;

/// <summary>One diagnostic the Bicep CLI reported (compiler BCPxxx or linter rule).</summary>
public sealed record BicepDiagnostic(string File, int Line, int Column, string Level, string Code, string Message)
{
    public override string ToString() => $"{Path.GetFileName(File)}({Line},{Column}) {Level} {Code}: {Message}";
}

/// <summary>Result of one CLI run: exit code, raw streams and the diagnostics parsed from stderr.</summary>
public sealed record BicepRun(
    string Command,
    int ExitCode,
    string StandardOutput,
    string StandardError,
    IReadOnlyList<BicepDiagnostic> Diagnostics)
{
    /// <summary>True when the run exited 0 and printed nothing on stderr: no error, no warning (BCP or linter), no info.</summary>
    public bool IsClean => ExitCode == 0 && string.IsNullOrWhiteSpace(StandardError);

    /// <summary>A readable failure message listing everything the CLI complained about.</summary>
    public string Describe() =>
        $"`bicep {Command}` exited {ExitCode}.{Environment.NewLine}{StandardError.Trim()}";
}

/// <summary>
/// Runs the Bicep CLI delivered by the NuGet package Azure.Bicep.CommandLine.linux-x64 (restored with the test
/// project; its path is baked into the assembly as metadata "BicepPath"). BICEP_PATH overrides it.
/// </summary>
public static partial class BicepCli
{
    /// <summary>Client ID the .bicepparam files read from GARDIEN_API_CLIENT_ID; a well-formed placeholder for compilation.</summary>
    public const string PlaceholderApiClientId = "00000000-0000-4000-8000-000000000001";

    /// <summary>Mailbox the .bicepparam files read from GARDIEN_MAIL_SENDER.</summary>
    public const string PlaceholderMailSender = "gardien@example.org";

    private static readonly Lazy<string> LazyPath = new(Locate);

    public static string ExecutablePath => LazyPath.Value;

    public static Task<BicepRun> BuildAsync(string bicepFile) => RunAsync("build", bicepFile, "--stdout");

    public static Task<BicepRun> BuildParamsAsync(string bicepParamFile) => RunAsync("build-params", bicepParamFile, "--stdout");

    public static Task<BicepRun> LintAsync(string file) => RunAsync("lint", file);

    public static async Task<BicepRun> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GARDIEN_API_CLIENT_ID"] = PlaceholderApiClientId;
        start.Environment["GARDIEN_MAIL_SENDER"] = PlaceholderMailSender;
        // No telemetry, no update checks, no registry: the checks must be reproducible offline.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + ExecutablePath);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var error = await stderr;
        return new BicepRun(string.Join(' ', arguments), process.ExitCode, await stdout, error, ParseDiagnostics(error));
    }

    public static IReadOnlyList<BicepDiagnostic> ParseDiagnostics(string standardError) =>
        standardError
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => DiagnosticLine().Match(line))
            .Where(match => match.Success)
            .Select(match => new BicepDiagnostic(
                match.Groups["file"].Value,
                int.Parse(match.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(match.Groups["col"].Value, System.Globalization.CultureInfo.InvariantCulture),
                match.Groups["level"].Value,
                match.Groups["code"].Value,
                match.Groups["message"].Value))
            .ToList();

    private static string Locate()
    {
        var configured = Environment.GetEnvironmentVariable("BICEP_PATH");
        var path = !string.IsNullOrWhiteSpace(configured)
            ? configured
            : typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(attribute => attribute.Key == "BicepPath")?.Value;

        if (string.IsNullOrWhiteSpace(path) || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"Bicep CLI not found at '{path}'. Restore tests/Gardien.Infra.Tests (it references Azure.Bicep.CommandLine.linux-x64) "
                + "or set BICEP_PATH.");
        }

        // NuGet extraction does not always keep the executable bit.
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & UnixFileMode.UserExecute) == 0)
            {
                File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
            }
        }

        return path;
    }

    [GeneratedRegex(@"^(?<file>.+)\((?<line>\d+),(?<col>\d+)\) : (?<level>Error|Warning|Info) (?<code>[^:]+): (?<message>.*)$")]
    private static partial Regex DiagnosticLine();
}
