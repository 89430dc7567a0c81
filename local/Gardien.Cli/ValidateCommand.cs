using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Workflows.Madmp;
using Gardien.Workflows.Text;

namespace Gardien.Cli;

/// <summary><c>gardien validate FILE|- [--strict] [--schema-version 1.0|1.1|1.2] [--json]</c>: 0 valid, 1 invalid, 2 usage or I/O error.</summary>
internal static class ValidateCommand
{
    /// <param name="openStandardInput">Where "-" reads from; tests pass their own stream (default: the process's standard input).</param>
    public static Command Create(Func<Stream>? openStandardInput = null)
    {
        openStandardInput ??= Console.OpenStandardInput;
        var file = new Argument<string>("file") { Description = "The maDMP JSON file to validate, or - to read standard input." };
        var strict = new Option<bool>("--strict") { Description = "Exactly the official schema's verdict (no tolerance for real-world deviations)." };
        var schemaVersion = new Option<string?>("--schema-version") { Description = "Validate against this RDA DMP Common Standard version instead of detecting it.", HelpName = "1.0|1.1|1.2" };
        schemaVersion.AcceptOnlyFromAmong("1.0", "1.1", "1.2");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON: {\"valid\", \"version\", \"errors\", \"warnings\"}." };

        var command = new Command("validate", "Validate a maDMP (RDA DMP Common Standard 1.0, 1.1 or 1.2) and list what to fix.")
        {
            file,
            strict,
            schemaVersion,
            json,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var path = parseResult.GetValue(file)!;
            var options = new MadmpReadOptions
            {
                Mode = parseResult.GetValue(strict) ? ValidationMode.Strict : ValidationMode.Lenient,
                SchemaVersion = parseResult.GetValue(schemaVersion) is { } v ? MadmpVersionExtensions.ParseVersion(v) : null,
            };

            MadmpReadResult result;
            if (path == "-")
            {
                using var stdin = openStandardInput();
                result = await MadmpReader.Default.ReadAsync(stdin, options, cancellationToken);
            }
            else
            {
                if (!File.Exists(path))
                {
                    await error.WriteLineAsync($"error: file not found: {path}");
                    return CliRunner.UsageOrIoError;
                }

                try
                {
                    await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
                    result = await MadmpReader.Default.ReadAsync(stream, options, cancellationToken);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    await error.WriteLineAsync($"error: cannot read {path}: {ex.Message}");
                    return CliRunner.UsageOrIoError;
                }
            }

            if (result.Errors.Any(e => e.Keyword == "io"))
            {
                await error.WriteLineAsync($"error: cannot read {path}: {result.Errors.First(e => e.Keyword == "io").Message}");
                return CliRunner.UsageOrIoError;
            }

            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(ToJson(result));
            }
            else
            {
                await WriteText(output, path == "-" ? "<stdin>" : path, options.Mode, result);
            }

            return result.IsValid ? CliRunner.Ok : CliRunner.Invalid;
        });

        return command;
    }

    /// <summary>
    /// The machine-readable verdict, exactly <c>{"valid", "version", "errors": [{"path", "message", "keyword"}], "warnings": [...]}</c>.
    /// Nothing else is added, so scripts can rely on the shape; the line and column of malformed JSON are in the message.
    /// </summary>
    internal static string ToJson(MadmpReadResult result)
    {
        var root = new JsonObject
        {
            ["valid"] = result.IsValid,
            ["version"] = result.Version?.ToVersionString(),
            ["errors"] = Issues(result.Errors),
            ["warnings"] = Issues(result.Warnings),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static JsonArray Issues(IReadOnlyList<ValidationIssue> issues)
    {
        var array = new JsonArray();
        foreach (var issue in issues)
        {
            array.Add(new JsonObject
            {
                ["path"] = issue.Path,
                ["message"] = issue.Message,
                ["keyword"] = issue.Keyword,
            });
        }

        return array;
    }

    private static async Task WriteText(TextWriter output, string source, ValidationMode mode, MadmpReadResult result)
    {
        var version = result.Version is { } v ? $"maDMP {v.ToVersionString()}" : "version unknown";
        var verdict = result.IsValid ? "valid" : "INVALID";
        await output.WriteLineAsync($"{source}: {verdict} ({version}, {(mode == ValidationMode.Strict ? "strict" : "lenient")})");
        await WriteList(output, "Errors", result.Errors);
        await WriteList(output, "Warnings", result.Warnings);
        await output.WriteLineAsync($"{result.Errors.Count} error(s), {result.Warnings.Count} warning(s).");
        if (result.IsValid && result.Document is { } document)
        {
            await output.WriteLineAsync($"\"{UntrustedText.Console(document.Dmp.Title)}\": {document.Dmp.Datasets.Count} dataset(s), {document.Dmp.Contributors.Count} contributor(s).");
        }
    }

    private static async Task WriteList(TextWriter output, string title, IReadOnlyList<ValidationIssue> issues)
    {
        if (issues.Count == 0)
        {
            return;
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync($"{title}:");
        foreach (var issue in issues)
        {
            var where = issue.Path.Length == 0 ? "(document)" : issue.Path;
            var position = issue.Line is { } line ? $" (line {line}, column {issue.Column})" : "";
            await output.WriteLineAsync($"  {UntrustedText.Console(where)}{position}  [{issue.Keyword}]");
            await output.WriteLineAsync($"      {UntrustedText.Console(issue.Message)}");
        }
    }
}
