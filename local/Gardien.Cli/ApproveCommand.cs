using System.CommandLine;
using System.Text.Json;
using Gardien.Local.Hosting;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Text;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien approve TOKEN|LINK [--approve|--reject] [--comment TEXT] [--as EMAIL] [--json]</c>: decides an approval
/// request as its link would (the token is verified, then used up), and runs the workflows on. A whole link carries its
/// decision (the Reject link rejects); <c>--approve</c>/<c>--reject</c> decide for a bare token and are refused when they
/// contradict the link. Exit 0 recorded, 1 refused (used, expired, forged or closed request, or a person who may not
/// decide: the message says which), 2 usage (contradicting decisions, not a link), configuration or I/O error.
/// </summary>
internal static class ApproveCommand
{
    public static Command Create()
    {
        var token = new Argument<string>("token")
        {
            Description = "The whole approval link (Approve or Reject, from 'gardien inbox' or the message), or its bare token.",
        };
        var approve = new Option<bool>("--approve") { Description = "Approve (the default for a bare token); refused with a Reject link." };
        var reject = new Option<bool>("--reject") { Description = "Reject (needed for a bare token); refused with an Approve link." };
        var comment = new Option<string?>("--comment")
        {
            Description = "A comment recorded with the decision (shown to the PI on rejection).",
            HelpName = "TEXT",
        };
        var actor = new Option<string?>("--as")
        {
            Description =
                "Who decides (recorded as user:EMAIL): the approver the link was sent to, one of their delegates, "
                + "or someone the policy lets act on their behalf; anyone else is refused. Default: the approver the link was sent to.",
            HelpName = "EMAIL",
        };
        var json = LocalHostCommand.JsonOption();
        var config = LocalHostCommand.ConfigOption();
        var command =
            new Command("approve", "Decide an approval request with its link (the Approve link approves, the Reject link rejects) "
                + "or its token.") { token, approve, reject, comment, actor, json, config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(approve) && parse.GetValue(reject))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(
                    "error: --approve and --reject contradict each other; give one (or none with a whole link, "
                    + "which carries its decision).");
                return CliRunner.UsageOrIoError;
            }

            var (decision, source) = parse.GetValue(reject)
                ? ("reject", "--reject")
                : parse.GetValue(approve) ? ("approve", "--approve") : ((string?)null, (string?)null);
            var remote = await RemoteCommands.ViaServiceAsync(parse, config, (service, output, error) => RemoteCommands.ApproveAsync(
                service, parse.GetValue(token)!, decision, parse.GetValue(comment), parse.GetValue(actor), parse.GetValue(json), output,
                    error, cancellationToken),
                cancellationToken);
            if (remote is { } viaService)
            {
                return viaService;
            }

            return await LocalHostCommand.RunAsync(parse, config, (host, output, error) => DecideAsync(
                host,
                new ApprovalDecisionRequest(
                    parse.GetValue(token)!,
                    decision,
                    parse.GetValue(comment),
                    parse.GetValue(actor) is { } email ? "user:" + email : null,
                    source,
                    DefaultDecision: "approve"),
                parse.GetValue(json),
                output,
                error,
                cancellationToken), cancellationToken);
        });
        return command;
    }

    internal static Task<int> DecideAsync(
        GardienLocalHost host,
        string token,
        bool reject,
        string? comment,
        string? actor,
        bool json,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken) =>
        DecideAsync(
            host,
            new ApprovalDecisionRequest(
                token, reject ? "reject" : null, comment, actor, reject ? "--reject" : null, DefaultDecision: "approve"),
            json,
            output,
            error,
            cancellationToken);

    internal static async Task<int> DecideAsync(
        GardienLocalHost host,
        ApprovalDecisionRequest request,
        bool json,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        var result = await host.Decisions.SubmitAsync(request, cancellationToken);
        IntakeSnapshot? intake = null;
        if (result.Accepted)
        {
            await LocalHostCommand.RunUntilIdleAsync(host, error, cancellationToken);
            var approval = result.InstanceId is null
                ? null
                : await host.Client.GetInstanceAsync(result.InstanceId, getInputsAndOutputs: false, cancellationToken: cancellationToken);
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
                decision = result.Decision,
                message = result.Message,
                failure = result.Accepted ? null : result.Failure.ToString(),
                approvalInstanceId = result.InstanceId,
                intake = intake is null
                    ? null
                    : new
                    {
                        intake.InstanceId,
                        intake.DmpId,
                        status = LocalHostViews.Describe(intake),
                        state = intake.Result?.State,
                        intake.Awaiting,
                    },
            }, LocalHostCommand.Json));
        }
        else if (result.Accepted)
        {
            await output.WriteLineAsync(UntrustedText.Console(result.Message));
            if (intake is not null)
            {
                await output.WriteLineAsync($"Intake {intake.InstanceId}: {UntrustedText.Console(LocalHostViews.Describe(intake))}");
                foreach (var line in LocalHostViews.DescribeAwaiting(intake))
                {
                    await output.WriteLineAsync("  still awaiting " + UntrustedText.Console(line));
                }
            }
        }
        else
        {
            await error.WriteLineAsync($"refused: {UntrustedText.Console(result.Message)}");
        }

        if (result.Accepted
            && await LocalHostCommand.ReportAuditDamageAsync(
                host, intake?.InstanceId ?? result.InstanceId, error, cancellationToken) is { } damaged)
        {
            return damaged;
        }

        return result.Accepted ? CliRunner.Ok
            : result.Failure is ApprovalTokenFailure.DecisionContradictsLink or ApprovalTokenFailure.NotALink ? CliRunner.UsageOrIoError
            : CliRunner.Invalid;
    }
}
