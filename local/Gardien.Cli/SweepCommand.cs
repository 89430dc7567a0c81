using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Gardien.Local.Hosting;
using Gardien.Workflows.Retention;
using Gardien.Workflows.Text;
using Spectre.Console;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien sweep [--dry-run] [--today YYYY-MM-DD] [--json]</c>: the daily retention sweep, run by hand. A real sweep
/// opens one retention case per dataset due (a second sweep the same day joins the first); a dry run lists what would
/// happen and changes nothing. Exit 0, 2 usage, configuration or I/O error (or the sweep did not finish).
/// </summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "List what the sweep would do; start nothing, notify nobody." };
        var today = new Option<string?>("--today")
        {
            Description = "Sweep as of this date (default: today, UTC).",
            HelpName = "YYYY-MM-DD",
        };
        var json = LocalHostCommand.JsonOption();
        var config = LocalHostCommand.ConfigOption();
        var command =
            new Command("sweep", "Run the retention sweep: datasets whose keep-until date is within the notice windows get a retention "
                + "case.") { dryRun, today, json, config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var date = DateOnly.FromDateTime(DateTime.UtcNow);
            if (parse.GetValue(today) is { } text
                && !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(
                    $"error: --today '{text}' is not a date; use YYYY-MM-DD, e.g. 2036-01-31.");
                return CliRunner.UsageOrIoError;
            }

            var remote = await RemoteCommands.ViaServiceAsync(parse, config, (service, output, error) =>
                RemoteCommands.SweepAsync(service, date, parse.GetValue(dryRun), parse.GetValue(json), output, error, cancellationToken),
                    cancellationToken);
            if (remote is { } viaService)
            {
                return viaService;
            }

            return await LocalHostCommand.RunAsync(parse, config, async (host, output, error) =>
            {
                var report = await SweepAsync(host, date, parse.GetValue(dryRun), error, cancellationToken);
                if (report is null)
                {
                    return CliRunner.UsageOrIoError;
                }

                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(report, LocalHostCommand.Json));
                }
                else
                {
                    Render(LocalHostCommand.Console(output), report);
                }

                return CliRunner.Ok;
            }, cancellationToken);
        });
        return command;
    }

    /// <summary>Runs a sweep to completion; null (reason written) when it is unavailable or did not finish.</summary>
    internal static async Task<RetentionSweepReport?> SweepAsync(
        GardienLocalHost host,
        DateOnly date,
        bool dryRun,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        if (!host.IsWorkflowRegistered(nameof(RetentionSweepWorkflow)))
        {
            await error.WriteLineAsync("error: the retention sweep workflow is not registered in this build of Gardien.");
            return null;
        }

        var id = dryRun
            ? RetentionSweepWorkflow.DryRunInstanceIdFor(date, Guid.NewGuid().ToString("N")[..8])
            : RetentionSweepWorkflow.InstanceIdFor(date);
        await host.Client.ScheduleNewAsync(
            nameof(RetentionSweepWorkflow), new RetentionSweepInput(date, dryRun), id, cancellationToken: cancellationToken);
        var done = await host.RunUntilCompletedAsync(id, cancellationToken);
        if (done is null)
        {
            await error.WriteLineAsync(
                $"error: the sweep {id} did not finish within Engine:IdleTimeout ({host.EngineOptions.IdleTimeout}); "
                + "it carries on at the next command ('gardien status').");
            return null;
        }

        if (done.Status != Runtime.WorkflowStatus.Completed || done.ReadOutputAs<RetentionSweepReport>() is not { } report)
        {
            await error.WriteLineAsync($"error: the sweep {id} ended {done.Status}: {done.FailureDetails?.ErrorMessage ?? "no report"}.");
            return null;
        }

        if (dryRun)
        {
            // Dry runs are throw-away: keep the task hub small.
            await host.Client.PurgeAsync(id, cancellationToken);
        }
        else
        {
            await LocalHostCommand.RunUntilIdleAsync(host, error, cancellationToken);
        }

        return report;
    }

    internal static void Render(IAnsiConsole console, RetentionSweepReport report)
    {
        console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"Retention sweep {(report.DryRun ? "(DRY RUN: nothing changed) " : string.Empty)}as of {report.Date:yyyy-MM-dd}, ")
            + string.Create(
                CultureInfo.InvariantCulture,
                $"notice horizon {report.HorizonDays} days: {report.Items.Count} dataset(s) due, {report.CasesStarted} case(s) started."));
        if (report.Items.Count > 0)
        {
            var table = new Table().AddColumn("DMP")
                .AddColumn("Dataset")
                .AddColumn(new TableColumn("Container").NoWrap())
                .AddColumn("Keep until")
                .AddColumn("Window")
                .AddColumn("Disposal")
                .AddColumn("Action");
            foreach (var item in report.Items)
            {
                table.AddRow(
                    LocalHostViews.Cell(LocalHostViews.ShortId(item.DmpId)),
                    LocalHostViews.Cell(LocalHostViews.ShortId(item.DatasetId)),
                    LocalHostViews.Cell(item.Container),
                    LocalHostViews.Cell(item.KeepUntil.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
                    LocalHostViews.Cell(
                        item.KeepUntil < report.Date
                            ? "past due"
                            : item.Window is { } w ? string.Create(CultureInfo.InvariantCulture, $"{w}-day notice") : "not yet"),
                    LocalHostViews.Cell(item.Disposal.ToString()),
                    LocalHostViews.Cell(item.Action + (item.CaseStatus is null ? string.Empty : $" ({item.CaseStatus})")));
            }

            console.Write(table);
        }

        foreach (var d in report.Discrepancies)
        {
            console.WriteLine(
                UntrustedText.Console(
                    $"discrepancy: {d.Kind} in {d.Container} (registry {d.RegistryKeepUntil ?? "none"}, tag {d.TagKeepUntil})"));
        }
    }
}
