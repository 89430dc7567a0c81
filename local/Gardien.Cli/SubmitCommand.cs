using System.CommandLine;
using System.Text.Json;
using Gardien.Local.Hosting;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien submit FILE|- [--as EMAIL] [--json]</c>: submits a maDMP for intake on the local host and runs the workflows
/// until they wait (for approvals). Submitting the same DMP again joins its intake. Exit 0 accepted (even if the intake
/// then waits), 1 refused or found invalid, 2 usage, configuration or I/O error.
/// </summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The maDMP JSON file, or - to read standard input." };
        var submitter = new Option<string?>("--as") { Description = "Who submits (recorded in the audit trail); default: the local user.", HelpName = "EMAIL" };
        var json = LocalHostCommand.JsonOption();
        var config = LocalHostCommand.ConfigOption();
        var command = new Command("submit", "Submit a maDMP for governance: validate, plan, request the approvals (see 'gardien inbox').") { file, submitter, json, config };
        command.SetAction((parse, cancellationToken) => LocalHostCommand.RunAsync(parse, config, async (host, output, error) =>
        {
            var text = await LocalHostCommand.ReadInputAsync(parse.GetValue(file)!, error, cancellationToken);
            if (text is null)
            {
                return CliRunner.UsageOrIoError;
            }

            var by = "user:" + (parse.GetValue(submitter) ?? Environment.UserName);
            return await SubmitAsync(host, text, by, parse.GetValue(json), output, error, cancellationToken);
        }, cancellationToken));
        return command;
    }

    internal static async Task<int> SubmitAsync(GardienLocalHost host, string dmpJson, string submittedBy, bool json, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var result = await host.Submissions.SubmitAsync(dmpJson, submittedBy, cancellationToken: cancellationToken);
        if (!result.Accepted)
        {
            await error.WriteLineAsync("error: " + result.Error);
            return CliRunner.Invalid;
        }

        await LocalHostCommand.RunUntilIdleAsync(host, error, cancellationToken);
        var snapshot = await LocalHostViews.LoadAsync(host, result.InstanceId!, cancellationToken);
        var invalid = snapshot?.Result?.State is Workflows.Intake.IntakeState.Invalid;
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(new
            {
                dmpId = result.DmpId,
                instanceId = result.InstanceId,
                joinedExisting = result.JoinedExisting,
                status = snapshot is null ? null : LocalHostViews.Describe(snapshot),
                state = snapshot?.Result?.State,
                awaiting = snapshot?.Awaiting,
            }, LocalHostCommand.Json));
            return invalid ? CliRunner.Invalid : CliRunner.Ok;
        }

        await output.WriteLineAsync(result.JoinedExisting
            ? $"{result.DmpId} was already submitted: joined its intake {result.InstanceId} (nothing is provisioned twice)."
            : $"Submitted {result.DmpId}: intake {result.InstanceId}.");
        if (snapshot is not null)
        {
            await output.WriteLineAsync("Status:   " + LocalHostViews.Describe(snapshot));
            if (snapshot.Awaiting.Count > 0)
            {
                await output.WriteLineAsync("Awaiting: " + string.Join("\n          ", LocalHostViews.DescribeAwaiting(snapshot)));
                await output.WriteLineAsync("Next: 'gardien inbox' shows the approval requests; 'gardien approve TOKEN' decides one.");
            }
        }

        return invalid ? CliRunner.Invalid : CliRunner.Ok;
    }
}
