using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Workflows.Madmp;
using Gardien.Workflows.Text;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien validate FILE|DIR|- ... [--strict] [--schema-version 1.0|1.1|1.2] [--json]</c>: 0 every document valid,
/// 1 any invalid, 2 usage or I/O error (a file that cannot be read). Several files and directories are read in one
/// process, with one summary line (text) or one JSON line per file (<c>--json</c>).
/// </summary>
internal static class ValidateCommand
{
    /// <param name="openStandardInput">Where "-" reads from; tests pass their own stream (default: the process's standard input).</param>
    public static Command Create(Func<Stream>? openStandardInput = null)
    {
        openStandardInput ??= CliInputs.OpenProcessStandardInput;
        var file = new Argument<string[]>("file")
        {
            Description = "maDMP JSON files, directories (every *.json inside, at any depth), or - to read standard input.",
            Arity = ArgumentArity.OneOrMore,
        };
        var strict = new Option<bool>("--strict")
        {
            Description = "Exactly the official schema's verdict (no tolerance for real-world deviations).",
        };
        var schemaVersion = new Option<string?>("--schema-version")
        {
            Description = "Validate against this RDA DMP Common Standard version instead of detecting it.",
            HelpName = "1.0|1.1|1.2",
        };
        schemaVersion.AcceptOnlyFromAmong("1.0", "1.1", "1.2");
        var json = new Option<bool>("--json")
        {
            Description =
                "Print the result as JSON: {\"valid\", \"version\", \"errors\", \"warnings\"}; with several files, "
                + "one line per file with \"file\" first.",
        };

        var command = new Command("validate", "Validate maDMPs (RDA DMP Common Standard 1.0, 1.1 or 1.2) and list what to fix.")
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
            var options = new MadmpReadOptions
            {
                Mode = parseResult.GetValue(strict) ? ValidationMode.Strict : ValidationMode.Lenient,
                SchemaVersion = parseResult.GetValue(schemaVersion) is { } v ? MadmpVersionExtensions.ParseVersion(v) : null,
            };
            var asJson = parseResult.GetValue(json);
            var arguments = parseResult.GetValue(file)!;
            var (inputs, problems) = CliInputs.Expand(arguments);
            var several = inputs.Count + problems.Count > 1 || arguments.Any(Directory.Exists);
            var summary = new Summary();

            foreach (var (argument, problem) in problems)
            {
                await ReportUnreadable(argument, problem, several && asJson, output, error);
                summary.Unreadable++;
            }

            foreach (var input in inputs)
            {
                var result = await ReadAsync(input, options, openStandardInput, cancellationToken);
                if (result.Errors.FirstOrDefault(e => e.Keyword == "io") is { } io)
                {
                    await ReportUnreadable(input.Name, io.Message, several && asJson, output, error);
                    summary.Unreadable++;
                    continue;
                }

                summary.Add(result);
                if (asJson)
                {
                    await output.WriteLineAsync(several ? ToJsonLine(input.Name, result) : ToJson(result));
                }
                else
                {
                    if (several && summary.Files > 1)
                    {
                        await output.WriteLineAsync();
                    }

                    await WriteText(output, input.Name, options.Mode, result);
                }
            }

            if (several && !asJson)
            {
                await output.WriteLineAsync();
                await output.WriteLineAsync(summary.ToString());
            }

            return summary.Unreadable > 0 ? CliRunner.UsageOrIoError : summary.Invalid > 0 ? CliRunner.Invalid : CliRunner.Ok;
        });

        return command;
    }

    /// <summary>Reads one input; a problem opening it comes back as an "io" error, like a failing stream.</summary>
    internal static async Task<MadmpReadResult> ReadAsync(
        CliInput input,
        MadmpReadOptions options,
        Func<Stream> openStandardInput,
        CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = CliInputs.Open(input, openStandardInput);
            return await MadmpReader.Default.ReadAsync(stream, options, cancellationToken);
        }
        catch (CliInputException ex)
        {
            return new MadmpReadResult(false, null, null, [new ValidationIssue("", ex.Message, "io", IssueSeverity.Error)], []);
        }
    }

    private static async Task ReportUnreadable(string name, string problem, bool jsonLine, TextWriter output, TextWriter error)
    {
        if (jsonLine)
        {
            var failed = new MadmpReadResult(false, null, null, [new ValidationIssue("", problem, "io", IssueSeverity.Error)], []);
            await output.WriteLineAsync(ToJsonLine(name, failed));
        }

        await error.WriteLineAsync(
            $"error: {(problem.Contains(name, StringComparison.Ordinal) ? problem : $"cannot read {name}: {problem}")}");
    }

    /// <summary>Counts over a multi-file run, printed as its last line.</summary>
    private sealed class Summary
    {
        public int Files { get; private set; }

        public int Valid { get; private set; }

        public int Invalid { get; private set; }

        public int Unreadable { get; set; }

        public int Errors { get; private set; }

        public int Warnings { get; private set; }

        public void Add(MadmpReadResult result)
        {
            Files++;
            if (result.IsValid)
            {
                Valid++;
            }
            else
            {
                Invalid++;
            }

            Errors += result.Errors.Count;
            Warnings += result.Warnings.Count;
        }

        public override string ToString() =>
            $"{Files + Unreadable} file(s): {Valid} valid, {Invalid} invalid, {Unreadable} unreadable; {Errors} error(s), "
            + $"{Warnings} warning(s).";
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
        return root.ToJsonString(
            new JsonSerializerOptions
            {
                WriteIndented = true,
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            });
    }

    /// <summary>One compact line of a multi-file run: <c>{"file", "valid", "version", "errors", "warnings"}</c>.</summary>
    internal static string ToJsonLine(string file, MadmpReadResult result)
    {
        var root = new JsonObject
        {
            ["file"] = file,
            ["valid"] = result.IsValid,
            ["version"] = result.Version?.ToVersionString(),
            ["errors"] = Issues(result.Errors),
            ["warnings"] = Issues(result.Warnings),
        };
        return root.ToJsonString(
            new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
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
            await output.WriteLineAsync(
                $"\"{UntrustedText.Console(document.Dmp.Title)}\": {document.Dmp.Datasets.Count} dataset(s), "
                + $"{document.Dmp.Contributors.Count} contributor(s).");
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
