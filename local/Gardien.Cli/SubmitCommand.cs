using System.CommandLine;
using System.Text.Json;
using Gardien.Local.Hosting;
using Gardien.Runtime;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Text;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien submit FILE|- [--as EMAIL] [--json]</c>: submits a maDMP version on the local host and runs the workflows
/// until they wait (for approvals). Every version goes through the router: a new DMP is taken in, a newer version of a
/// governed DMP is applied as an update, a revised DMP after a rejection or failure is taken in again, the same version
/// joins what already handles it, a version newer than a running intake waits for it, an older one is refused. The
/// output says which. Exit 0 accepted (even if the work then waits), 1 refused (stale, rejected as it is, invalid), 2
/// usage, configuration or I/O error.
/// </summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The maDMP JSON file, or - to read standard input." };
        var submitter = new Option<string?>("--as")
        {
            Description = "Who submits (recorded in the audit trail); default: the local user.",
            HelpName = "EMAIL",
        };
        var json = LocalHostCommand.JsonOption();
        var config = LocalHostCommand.ConfigOption();
        var command =
            new Command("submit", "Submit a maDMP (or a new version of one) for governance: validate, plan, "
                + "request the approvals (see 'gardien inbox').") { file, submitter, json, config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var text = await LocalHostCommand.ReadInputAsync(parse.GetValue(file)!, parse.InvocationConfiguration.Error, cancellationToken);
            if (text is null)
            {
                return CliRunner.UsageOrIoError;
            }

            var by = "user:" + (parse.GetValue(submitter) ?? Environment.UserName);
            return await RemoteCommands.ViaServiceAsync(parse, config, (service, output, error) =>
                    RemoteCommands.SubmitAsync(service, text, by, parse.GetValue(json), output, error, cancellationToken),
                        cancellationToken)
                ?? await LocalHostCommand.RunAsync(parse, config, async (host, output, error) =>
                    (await SubmitAsync(host, text, by, parse.GetValue(json), output, error, cancellationToken)).Exit, cancellationToken);
        });
        return command;
    }

    internal static async Task<(int Exit, DmpSubmissionResult Result)> SubmitAsync(
        GardienLocalHost host,
        string dmpJson,
        string submittedBy,
        bool json,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        var result = await host.Submissions.SubmitAsync(dmpJson, submittedBy, cancellationToken: cancellationToken);
        if (!result.Accepted)
        {
            if (json)
            {
                await output.WriteLineAsync(
                    JsonSerializer.Serialize(
                        new
                        {
                            dmpId = result.DmpId,
                            outcome = result.Outcome,
                            accepted = false,
                            message = result.Message,
                            instanceId = result.InstanceId,
                        },
                        LocalHostCommand.Json));
            }

            await error.WriteLineAsync(
                $"error: {(result.Outcome == DmpRouteOutcome.Stale ? "stale version: " : string.Empty)}"
                + $"{UntrustedText.Console(result.Error)}");
            return (CliRunner.Invalid, result);
        }

        await LocalHostCommand.RunUntilIdleAsync(host, error, cancellationToken);
        var snapshot = result.InstanceId is null ? null : await LocalHostViews.LoadAsync(host, result.InstanceId, cancellationToken);
        var invalid = snapshot?.Result?.State is IntakeState.Invalid || snapshot?.UpdateResult?.State is UpdateState.Invalid;
        var exit = await LocalHostCommand.ReportAuditDamageAsync(host, result.InstanceId, error, cancellationToken)
            ?? (snapshot?.RuntimeStatus is WorkflowStatus.Failed or WorkflowStatus.Terminated ? CliRunner.UsageOrIoError
            : invalid ? CliRunner.Invalid : CliRunner.Ok);
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(new
            {
                dmpId = result.DmpId,
                outcome = result.Outcome,
                accepted = true,
                message = result.Message,
                instanceId = result.InstanceId,
                joinedExisting = result.JoinedExisting,
                waitsFor = result.WaitsFor,
                status = snapshot is null ? null : LocalHostViews.Describe(snapshot),
                state = snapshot?.Result?.State,
                updateState = snapshot?.UpdateResult?.State,
                awaiting = snapshot?.Awaiting,
            }, LocalHostCommand.Json));
            return (exit, result);
        }

        var headline = result.Outcome switch
        {
            DmpRouteOutcome.Started when result.Route == DmpRoute.Update => $"Submitted {result.DmpId} as an update",
            DmpRouteOutcome.Started => $"Submitted {result.DmpId}",
            DmpRouteOutcome.Queued => $"Queued {result.DmpId}",
            DmpRouteOutcome.Joined => $"{result.DmpId} was already submitted in this version",
            _ => $"{result.DmpId}: nothing to do",
        };
        await output.WriteLineAsync(UntrustedText.Console($"{headline}: {result.Message}."));
        if (snapshot is not null)
        {
            await output.WriteLineAsync("Status:   " + UntrustedText.Console(LocalHostViews.Describe(snapshot)));
            if (snapshot.Awaiting.Count > 0)
            {
                await output.WriteLineAsync(
                    "Awaiting: " + string.Join("\n          ", LocalHostViews.DescribeAwaiting(snapshot).Select(UntrustedText.Console)));
                await output.WriteLineAsync("Next: 'gardien inbox' shows the approval requests; 'gardien approve LINK' decides one.");
            }
        }

        return (exit, result);
    }
}
