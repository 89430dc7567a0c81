using System.CommandLine;

namespace Gardien.Cli;

/// <summary>The gardien command tree, shared by the executable and the tests that drive it.</summary>
internal static class CliCommands
{
    /// <summary>
    /// What every command's --help ends with: its exit codes and one example. Kept here, beside the tree, so that a
    /// command and its help cannot drift apart unnoticed (a test checks that every command has an entry).
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, (string ExitCodes, string Example)> Help =
        new Dictionary<string, (string, string)>(StringComparer.Ordinal)
        {
            [""] = (
                "0 success, 1 invalid input or refused, 2 usage, configuration or I/O error (per command: gardien COMMAND --help)",
                "gardien validate samples/dmp-health-study.json"),
            ["validate"] = (
                "0 every document valid, 1 any document invalid, 2 usage or I/O error (a file that cannot be read)",
                "gardien validate exports/ --strict --json > verdicts.jsonl"),
            ["plan"] = (
                "0 every plan printed (findings do not change it), 1 a DMP is invalid, 2 usage, policy or I/O error",
                "gardien plan samples/dmp-health-study.json --policy policy.sample.json"),
            ["audit"] = ("0 success, 1 broken chain, 2 usage or I/O error", "gardien audit verify"),
            ["audit verify"] = ("0 intact, 1 broken, 2 usage or I/O error", "gardien audit verify --json"),
            ["audit show"] = ("0 printed, 2 usage or I/O error", "gardien audit show --last 20"),
            ["submit"] = (
                "0 accepted (even if the intake then waits for approvals), 1 refused or invalid, 2 usage, configuration or I/O error",
                "gardien submit samples/dmp-health-study.json --as claire.dubois@neuro-institute.example"),
            ["inbox"] = ("0 listed, 2 configuration or I/O error", "gardien inbox --open"),
            ["approve"] = (
                "0 recorded, 1 refused (used, expired, forged or closed request), 2 usage, configuration or I/O error",
                "gardien approve TOKEN --comment \"Checked with the DPO\""),
            ["status"] = (
                "0 shown, 1 unknown DMP, 2 configuration or I/O error", "gardien status https://doi.org/10.99999/neurocog-mri.dmp"),
            ["sweep"] = (
                "0 swept, 2 usage, configuration or I/O error (or the sweep did not finish)", "gardien sweep --dry-run --today 2049-01-01"),
            ["demo"] = ("0 intake Active and audit intact, 1 otherwise, 2 configuration or I/O error", "gardien demo"),
            ["serve"] = (
                "0 stopped cleanly (with --once: the DMP Active, its containers present, audit intact), 1 --once did not get there, "
                + "2 configuration or I/O error",
                "gardien serve --demo"),
        };

    public static RootCommand CreateRoot(string description)
    {
        var root = new RootCommand(description)
        {
            ValidateCommand.Create(),
            PlanCommand.Create(),
            AuditCommand.Create(),
            SubmitCommand.Create(),
            InboxCommand.Create(),
            ApproveCommand.Create(),
            StatusCommand.Create(),
            SweepCommand.Create(),
            DemoCommand.Create(),
            ServeCommand.Create(),
        };
        AddHelp(root, string.Empty);
        return root;
    }

    /// <summary>
    /// Appends the exit codes and the example of <see cref="Help"/> to the descriptions of a command and its subcommands.
    /// </summary>
    internal static void AddHelp(Command command, string path)
    {
        if (Help.TryGetValue(path, out var help))
        {
            command.Description =
                $"{command.Description}{Environment.NewLine}{Environment.NewLine}Exit codes: "
                + $"{help.ExitCodes}.{Environment.NewLine}Example:    {help.Example}";
        }

        foreach (var sub in command.Subcommands)
        {
            AddHelp(sub, path.Length == 0 ? sub.Name : path + " " + sub.Name);
        }
    }
}
