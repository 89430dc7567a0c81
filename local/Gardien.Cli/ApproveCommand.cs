using System.CommandLine;
using System.Text.Json;
using Gardien.Local.Hosting;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien approve TOKEN|LINK [--reject] [--comment TEXT] [--as EMAIL] [--json]</c>: decides an approval request as
/// its link would (the token is verified, then used up), and runs the workflows on. Exit 0 recorded, 1 refused (used,
/// expired, forged or closed request: the message says which), 2 usage, configuration or I/O error.
/// </summary>
internal static class ApproveCommand
{
    public static Command Create()
    {
        var token = new Argument<string>("token") { Description = "The token of the approval link (from 'gardien inbox'), or the whole link." };
        var reject = new Option<bool>("--reject") { Description = "Reject instead of approve." };
        var comment = new Option<string?>("--comment") { Description = "A comment recorded with the decision (shown to the PI on rejection).", HelpName = "TEXT" };
        var actor = new Option<string?>("--as") { Description = "Who decides (recorded as user:EMAIL); default: the approver the link was sent to.", HelpName = "EMAIL" };
        var json = LocalHostCommand.JsonOption();
        var config = LocalHostCommand.ConfigOption();
        var command = new Command("approve", "Approve (or --reject) an approval request with the token of its link.") { token, reject, comment, actor, json, config };
        command.SetAction((parse, cancellationToken) => LocalHostCommand.RunAsync(parse, config, (host, output, error) => DecideAsync(
            host,
            LocalHostViews.TokenFromLink(parse.GetValue(token)!),
            parse.GetValue(reject),
            parse.GetValue(comment),
            parse.GetValue(actor) is { } email ? "user:" + email : null,
            parse.GetValue(json),
            output,
            error,
            cancellationToken), cancellationToken));
        return command;
    }

    internal static async Task<int> DecideAsync(GardienLocalHost host, string token, bool reject, string? comment, string? actor, bool json, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var result = await host.Decisions.SubmitAsync(token, reject ? "reject" : "approve", comment, actor, cancellationToken);
        IntakeSnapshot? intake = null;
        if (result.Accepted)
        {
            await LocalHostCommand.RunUntilIdleAsync(host, error, cancellationToken);
            var approval = result.InstanceId is null ? null : await host.Client.GetInstanceAsync(result.InstanceId, getInputsAndOutputs: false, cancellationToken: cancellationToken);
            if (approval?.ParentInstanceId is { } parent && parent.StartsWith("intake-", StringComparison.Ordinal))
            {
                intake = await LocalHostViews.LoadAsync(host, parent, cancellationToken);
            }
        }

        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(new
            {
                accepted = result.Accepted,
                message = result.Message,
                failure = result.Accepted ? null : result.Failure.ToString(),
                approvalInstanceId = result.InstanceId,
                intake = intake is null ? null : new { intake.InstanceId, intake.DmpId, status = LocalHostViews.Describe(intake), state = intake.Result?.State, intake.Awaiting },
            }, LocalHostCommand.Json));
        }
        else if (result.Accepted)
        {
            await output.WriteLineAsync(result.Message);
            if (intake is not null)
            {
                await output.WriteLineAsync($"Intake {intake.InstanceId}: {LocalHostViews.Describe(intake)}");
                foreach (var line in LocalHostViews.DescribeAwaiting(intake))
                {
                    await output.WriteLineAsync("  still awaiting " + line);
                }
            }
        }
        else
        {
            await error.WriteLineAsync($"refused: {result.Message}");
        }

        return result.Accepted ? CliRunner.Ok : CliRunner.Invalid;
    }
}
