using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien status [DMP_ID|INTAKE_ID] [--json]</c>: without an argument, every intake and where it stands; with one,
/// the DMP's intake, approvals, datasets with their containers, and grants. Exit 0, 1 unknown DMP, 2 configuration or I/O error.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var dmp = new Argument<string?>("dmp")
        {
            Description = "The dmp_id (or the intake instance id); omit to list every intake.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = LocalHostCommand.JsonOption();
        var config = LocalHostCommand.ConfigOption();
        var command = new Command("status", "Show the intakes, or one DMP's approvals, containers and grants.") { dmp, json, config };
        command.SetAction(async (parse, cancellationToken) => await RemoteCommands.ViaServiceAsync(parse, config, (service, output,
            error) =>
                RemoteCommands.StatusAsync(service, parse.GetValue(dmp), parse.GetValue(json), output, error, cancellationToken),
                    cancellationToken)
            ?? await LocalHostCommand.RunAsync(parse, config, async (host, output, error) =>
        {
            await LocalHostCommand.RunUntilIdleAsync(host, error, cancellationToken);
            var console = LocalHostCommand.Console(output);
            if (parse.GetValue(dmp) is { } id)
            {
                var snapshot = await LocalHostViews.LoadAsync(host, id, cancellationToken);
                if (snapshot is null)
                {
                    await error.WriteLineAsync(
                        $"error: no intake and no registry record for '{id}'. 'gardien status' lists the known DMPs.");
                    return CliRunner.Invalid;
                }

                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(snapshot, LocalHostCommand.Json));
                }
                else
                {
                    LocalHostViews.Render(console, snapshot);
                }

                return CliRunner.Ok;
            }

            var intakes = new List<IntakeSnapshot>();
            foreach (var instance in await LocalHostViews.ListIntakesAsync(host, cancellationToken))
            {
                if (await LocalHostViews.LoadAsync(host, instance.InstanceId, cancellationToken) is { } snapshot)
                {
                    intakes.Add(snapshot);
                }
            }

            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(intakes.Select(s => new
                {
                    s.DmpId,
                    s.InstanceId,
                    status = LocalHostViews.Describe(s),
                    registryState = s.Registry?.State,
                    s.Awaiting,
                    datasets = s.Datasets.Count,
                    activeGrants = s.Grants.Count(g => g.State == Workflows.Ports.GrantState.Active),
                }), LocalHostCommand.Json));
                return CliRunner.Ok;
            }

            if (intakes.Count == 0)
            {
                await output.WriteLineAsync("No intakes yet: 'gardien submit FILE' submits a DMP ('gardien demo' runs the whole sample).");
                return CliRunner.Ok;
            }

            var table = new Table().Title("Intakes")
                .AddColumn("DMP")
                .AddColumn("Title")
                .AddColumn("Status")
                .AddColumn("Awaiting")
                .AddColumn("Containers")
                .AddColumn("Active grants");
            foreach (var s in intakes)
            {
                table.AddRow(
                    LocalHostViews.Cell(s.DmpId), LocalHostViews.Cell(s.Registry?.Title), LocalHostViews.Cell(LocalHostViews.Describe(s)),
                    LocalHostViews.Cell(LocalHostViews.DescribeAwaiting(s)),
                    LocalHostViews.Cell(
                        s.Datasets.Count(d => d.Container is not null).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    LocalHostViews.Cell(
                        s.Grants.Count(g => g.State == Workflows.Ports.GrantState.Active)
                            .ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            console.Write(table);
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}
