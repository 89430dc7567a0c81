using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Madmp;
using Gardien.Workflows.Text;
using Spectre.Console;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien plan FILE|DIR|- ... [--policy FILE] [--today YYYY-MM-DD] [--json]</c>: reads maDMPs (lenient), evaluates
/// their governance plans under a policy (the built-in sample policy when --policy is omitted) and prints them.
/// Exit 0 every plan printed (findings do not change it), 1 a DMP is invalid, 2 usage, I/O or policy error.
/// </summary>
internal static class PlanCommand
{
    /// <param name="openStandardInput">Where "-" reads from; tests pass their own stream (default: the process's standard input).</param>
    /// <param name="width">Table width; default: the terminal's (see <see cref="LocalHostCommand.TerminalWidth"/>).</param>
    public static Command Create(Func<Stream>? openStandardInput = null, int? width = null)
    {
        openStandardInput ??= CliInputs.OpenProcessStandardInput;
        var file = new Argument<string[]>("file")
        {
            Description = "maDMP JSON files, directories (every *.json inside, at any depth), or - to read standard input.",
            Arity = ArgumentArity.OneOrMore,
        };
        var policyOption = new Option<string?>("--policy")
        {
            Description = "Institution policy JSON file (default: the built-in sample policy, same as policy.sample.json).",
            HelpName = "FILE",
        };
        var todayOption = new Option<string?>("--today")
        {
            Description = "Evaluate as of this date (default: today, UTC).",
            HelpName = "YYYY-MM-DD",
        };
        var jsonOption = new Option<bool>("--json")
        {
            Description =
                "Print the plan as JSON instead of tables; with several files, one line per file: {\"file\", \"valid\", "
                + "\"plan\"} or the validate shape.",
        };

        var command = new Command(
            "plan", "Compute the governance plan of maDMPs: classification, approvals, storage, access, retention, findings.")
        {
            file,
            policyOption,
            todayOption,
            jsonOption,
        };

        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(file)!,
            parse.GetValue(policyOption),
            parse.GetValue(todayOption),
            parse.GetValue(jsonOption),
            openStandardInput,
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            width,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        string[] files,
        string? policyPath,
        string? todayText,
        bool json,
        Func<Stream> openStandardInput,
        TextWriter output,
        TextWriter error,
        int? width,
        CancellationToken cancellationToken)
    {
        DateOnly today;
        if (todayText is null)
        {
            today = DateOnly.FromDateTime(DateTime.UtcNow);
        }
        else if (!DateOnly.TryParseExact(todayText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out today))
        {
            await error.WriteLineAsync($"error: --today '{todayText}' is not a date; use YYYY-MM-DD, e.g. 2026-01-31.");
            return CliRunner.UsageOrIoError;
        }

        GovernancePolicy policy;
        if (policyPath is null)
        {
            policy = GovernancePolicy.Default;
        }
        else if (Directory.Exists(policyPath))
        {
            await error.WriteLineAsync(
                $"error: --policy '{policyPath}' is a directory, not a file. Give the policy JSON file (see policy.sample.json).");
            return CliRunner.UsageOrIoError;
        }
        else
        {
            var loaded = PolicyFiles.Load(policyPath);
            if (loaded.Policy is null)
            {
                await error.WriteLineAsync($"error: policy '{policyPath}' is invalid ({loaded.Errors.Count} error(s)):");
                foreach (var issue in loaded.Errors)
                {
                    await error.WriteLineAsync("  " + Describe(issue));
                }

                return CliRunner.UsageOrIoError;
            }

            policy = loaded.Policy;
        }

        var (inputs, problems) = CliInputs.Expand(files);
        var several = inputs.Count + problems.Count > 1 || files.Any(Directory.Exists);
        var counts = new Counts();
        foreach (var (argument, problem) in problems)
        {
            await Unreadable(argument, problem, several && json, output, error);
            counts.Unreadable++;
        }

        foreach (var input in inputs)
        {
            var read = await ValidateCommand.ReadAsync(input, new MadmpReadOptions(), openStandardInput, cancellationToken);
            if (read.Errors.FirstOrDefault(e => e.Keyword == "io") is { } ioError)
            {
                await Unreadable(input.Name, ioError.Message, several && json, output, error);
                counts.Unreadable++;
                continue;
            }

            if (!read.IsValid || read.Document is null)
            {
                counts.Invalid++;
                if (json)
                {
                    // The same contract as 'gardien validate --json', so one script handles both.
                    await output.WriteLineAsync(several ? ValidateCommand.ToJsonLine(input.Name, read) : ValidateCommand.ToJson(read));
                }
                else
                {
                    await error.WriteLineAsync(
                        $"error: '{input.Name}' is not a valid maDMP ({read.Errors.Count} error(s)); no plan computed:");
                    foreach (var issue in read.Errors)
                    {
                        await error.WriteLineAsync("  " + Describe(issue));
                    }
                }

                continue;
            }

            var plan = GovernanceEvaluator.Evaluate(read.Document.Dmp, policy, today);
            counts.Add(plan);
            if (json)
            {
                await output.WriteLineAsync(several ? PlanLine(input.Name, plan) : GovernanceJson.Serialize(plan));
            }
            else
            {
                if (several)
                {
                    await output.WriteLineAsync($"{(counts.Planned > 1 ? Environment.NewLine : string.Empty)}== {input.Name} ==");
                }

                Render(plan, read, policyPath, LocalHostCommand.Console(output, width));
            }
        }

        if (several && !json)
        {
            await output.WriteLineAsync();
            await output.WriteLineAsync(counts.ToString());
        }

        return counts.Unreadable > 0 ? CliRunner.UsageOrIoError : counts.Invalid > 0 ? CliRunner.Invalid : CliRunner.Ok;
    }

    private static string PlanLine(string file, GovernancePlan plan) => new JsonObject
    {
        ["file"] = file,
        ["valid"] = true,
        ["plan"] = JsonNode.Parse(GovernanceJson.Serialize(plan)),
    }.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static async Task Unreadable(string name, string problem, bool jsonLine, TextWriter output, TextWriter error)
    {
        if (jsonLine)
        {
            var failed = new MadmpReadResult(false, null, null, [new ValidationIssue("", problem, "io", IssueSeverity.Error)], []);
            await output.WriteLineAsync(ValidateCommand.ToJsonLine(name, failed));
        }

        await error.WriteLineAsync(
            $"error: {(problem.Contains(name, StringComparison.Ordinal) ? problem : $"cannot read '{name}': {problem}")}");
    }

    /// <summary>Counts over a multi-file run, printed as its last line.</summary>
    private sealed class Counts
    {
        public int Planned { get; private set; }

        public int Invalid { get; set; }

        public int Unreadable { get; set; }

        public int Findings { get; private set; }

        public int ErrorFindings { get; private set; }

        public void Add(GovernancePlan plan)
        {
            Planned++;
            var findings = plan.AllFindings().ToList();
            Findings += findings.Count;
            ErrorFindings += findings.Count(f => f.Severity == FindingSeverity.Error);
        }

        public override string ToString() =>
            $"{Planned + Invalid + Unreadable} file(s): {Planned} planned, {Invalid} invalid, {Unreadable} unreadable; "
            + $"{Findings} finding(s), {ErrorFindings} of them error(s).";
    }

    private static string Describe(ValidationIssue issue)
    {
        var where = issue.Path.Length == 0 ? "(document)" : issue.Path;
        var position = issue.Line is { } line ? $" (line {line}, column {issue.Column})" : string.Empty;
        return UntrustedText.Console($"{where}{position}: {issue.Message} [{issue.Keyword}]");
    }

    private static void Render(GovernancePlan plan, MadmpReadResult read, string? policyPath, IAnsiConsole console)
    {

        var pi = plan.PrincipalInvestigator;
        var header = new Grid().AddColumn().AddColumn();
        AddPair(header, "DMP", $"{plan.Title}");
        AddPair(header, "Identifier", $"{plan.DmpId.Value} ({plan.DmpId.Type})");
        AddPair(header, "Version read", read.Version?.ToVersionString() ?? "?");
        AddPair(header, "Modified", plan.Modified?.ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture) ?? "-");
        AddPair(header, "PI (contact)", $"{pi.Name} <{pi.Email}>{(pi.Orcid is null ? string.Empty : " orcid " + pi.Orcid)}");
        AddPair(header, "Project end", Date(plan.ProjectEnd));
        AddPair(header, "Access ends", Date(plan.AccessEndsOn));
        AddPair(
            header,
            "Policy",
            $"{plan.PolicyInstitution} (v{plan.PolicyVersion}){(policyPath is null ? ", built-in sample policy" : ", " + policyPath)}");
        AddPair(header, "Evaluated on", Date(plan.EvaluatedOn));
        console.Write(header);
        console.WriteLine();

        var approvals = new Table().Title("Required approvals").AddColumn("Approver").AddColumn("Asked").AddColumn("Reasons");
        foreach (var requirement in plan.RequiredApprovals)
        {
            var asked = plan.Approvers.FirstOrDefault(a => a.Role == requirement.Role) is { } who
                ? $"{UntrustedText.Console(who.Name)} <{UntrustedText.Console(who.Email)}>"
                    + (who.DelegateEmail is null
                        ? string.Empty
                        : $"{Environment.NewLine}escalation: {UntrustedText.Console(who.DelegateName ?? string.Empty)} "
                            + $"<{UntrustedText.Console(who.DelegateEmail)}>")
                : "nobody (see findings)";
            approvals.AddRow(
                Cell(Role(requirement.Role)),
                Cell(asked),
                Cell(string.Join(Environment.NewLine, requirement.Reasons.Select(UntrustedText.Console))));
        }

        console.Write(approvals);

        var datasets = new Table().Title("Datasets")
            .AddColumn("Dataset").AddColumn("Class").AddColumn("Approvals").AddColumn(new TableColumn("Container").NoWrap())
            .AddColumn("Tier").AddColumn("Encryption").AddColumn("Immutable").AddColumn("Quota")
            .AddColumn("Regions").AddColumn("Keep until").AddColumn("Disposal").AddColumn("Embargo");
        foreach (var dataset in plan.Datasets)
        {
            var c = dataset.Classification;
            datasets.AddRow(
                Cell(UntrustedText.Console(dataset.Title)),
                Cell(
                    $"{c.Classification}{Environment.NewLine}({Lower(c.EffectiveAccess)}{Answer(", personal", c.PersonalDataAnswer)}"
                    + $"{Answer(", sensitive", c.SensitiveDataAnswer)})"),
                Cell(string.Join(", ", dataset.RequiredApprovals.Select(r => Role(r.Role)))),
                Cell(dataset.Storage.ContainerName),
                Cell(Lower(dataset.Storage.Tier)),
                Cell(dataset.Storage.EncryptionScope ?? "-"),
                Cell(dataset.Storage.ImmutabilityDays is { } days ? days.ToString(CultureInfo.InvariantCulture) + " days" : "-"),
                Cell(Bytes(dataset.Storage.QuotaBytes)),
                Cell(dataset.Storage.HostRegions.Count == 0 ? "-" : string.Join(", ", dataset.Storage.HostRegions)),
                Cell($"{Date(dataset.Retention.KeepUntil)}{Environment.NewLine}({Source(dataset.Retention.Source)})"),
                Cell(Lower(dataset.Retention.Disposal)),
                Cell(Date(dataset.Retention.EmbargoUntil)));
        }

        console.Write(datasets);

        // Grants are the same on every dataset (a DMP does not assign people to datasets); show them once.
        var access = new Table().Title("Access (every dataset's container)")
            .AddColumn("Person")
            .AddColumn("Identity")
            .AddColumn("Role")
            .AddColumn("Because")
            .AddColumn("Until");
        foreach (var grant in plan.Datasets.FirstOrDefault()?.Access ?? [])
        {
            access.AddRow(
                Cell(UntrustedText.Console(grant.Principal.Name)),
                Cell(
                    grant.Principal.Orcid is { } orcid
                        ? $"orcid {UntrustedText.Console(orcid)}"
                            + (grant.Principal.Email is { } mail ? $"{Environment.NewLine}{UntrustedText.Console(mail)}" : string.Empty)
                        : UntrustedText.Console(grant.Principal.Email ?? "-")),
                Cell(Lower(grant.Role)),
                Cell(UntrustedText.Console(string.Join("; ", grant.Because))),
                Cell(Date(grant.Until)));
        }

        console.Write(access);

        var findings = plan.AllFindings().ToList();
        if (findings.Count > 0)
        {
            var table = new Table().Title("Findings").AddColumn("Severity").AddColumn("Code").AddColumn("Where").AddColumn("What to do");
            foreach (var finding in findings.OrderByDescending(f => f.Severity))
            {
                table.AddRow(
                    Cell(finding.Severity.ToString().ToUpperInvariant()),
                    Cell(finding.Code),
                    Cell(UntrustedText.Console(finding.Path)),
                    Cell(UntrustedText.Console(finding.Message)));
            }

            console.Write(table);

            // The findings do not repeat the policy's country lists; the classes they concern get theirs once, here.
            var outside = plan.Datasets.Where(d => d.Findings.Any(f => f.Code == "HostOutsideAllowedRegions"))
                .Select(d => d.Classification.Classification).Distinct();
            foreach (var classification in outside.Order())
            {
                var allowed = string.Join(", ", plan.AllowedRegions.For(classification));
                console.WriteLine($"Host countries allowed for {Lower(classification)} data: {allowed}.");
            }
        }
        else
        {
            console.WriteLine("No findings.");
        }

        if (read.Warnings.Count > 0)
        {
            console.WriteLine($"Read with {read.Warnings.Count} warning(s) (run 'gardien validate' to see them).");
        }
    }

    private static string Answer(string label, YesNoUnknown answer) => answer switch
    {
        YesNoUnknown.Yes => label,
        YesNoUnknown.Unknown => label + "?",
        _ => string.Empty,
    };

    private static void AddPair(Grid grid, string name, string value) => grid.AddRow(Cell(name + ":"), Cell(UntrustedText.Console(value)));

    // Plain Text, never markup: DMP content may contain [brackets]. One-line values are neutralised by the callers.
    private static Text Cell(string text) => new(text);

    private static string Date(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-";

    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static string Role(ApprovalRole role) => role switch
    {
        ApprovalRole.PrincipalInvestigator => "PI",
        ApprovalRole.DataSteward => "Data steward",
        _ => "DPO",
    };

    private static string Source(RetentionSource source) => source switch
    {
        RetentionSource.AvailableUntil => "available_until",
        RetentionSource.PreservationUntil => "preservation end",
        RetentionSource.ProjectEndPlusPolicy => "project end + policy",
        _ => "evaluation date + policy",
    };

    private static string Bytes(long? bytes)
    {
        if (bytes is not { } value)
        {
            return "-";
        }

        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        double size = value;
        var unit = 0;
        while (size >= 1000 && unit < units.Length - 1)
        {
            size /= 1000;
            unit++;
        }

        return size.ToString(unit == 0 ? "0" : "0.#", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
