using System.CommandLine;
using System.Globalization;
using Gardien.Local.Hosting;
using Gardien.Runtime;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Text;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien demo [--file FILE]</c>: the main job end to end on the local host, for real on Azurite: submit the sample
/// DMP, approve every open request from the inbox AS ITS ADDRESSEE (a demo shortcut, labelled as such), run until the
/// intake is Active, then show the containers, grants, inbox, the audit chain check and a dry-run retention sweep.
/// Running it again joins the existing intake (nothing is provisioned twice). Exit 0 Active and audit intact, 1 otherwise,
/// 2 configuration or I/O error.
/// </summary>
internal static class DemoCommand
{
    public const string DefaultSample = "samples/dmp-health-study.json";
    private const int MaxApprovalRounds = 5;

    public static Command Create()
    {
        var file = new Option<string>("--file")
        {
            Description = "The maDMP to run through Gardien.",
            DefaultValueFactory = _ => DefaultSample,
            HelpName = "FILE",
        };
        var config = LocalHostCommand.ConfigOption();
        var command =
            new Command("demo", "Run the main job on a sample DMP: intake, approvals from the inbox (approved on the addressees' behalf), "
                + "provisioning, grants, audit.") { file, config };
        command.SetAction((parse, cancellationToken) => LocalHostCommand.RunAsync(parse, config, async (host, output, error) =>
        {
            var text = await LocalHostCommand.ReadInputAsync(parse.GetValue(file)!, error, cancellationToken);
            return text is null ? CliRunner.UsageOrIoError : await RunAsync(host, text, output, error, cancellationToken);
        }, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        GardienLocalHost host,
        string dmpJson,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        var console = LocalHostCommand.Console(output);
        await output.WriteLineAsync(
            $"Gardien local demo: embedded engine (task hub '{host.EngineOptions.TaskHubName}') and local adapters on "
            + $"{host.BlobEndpoint.GetLeftPart(UriPartial.Authority)}, inbox {Path.GetFullPath(host.LocalOptions.InboxPath)}.");

        await Section(output, "1. Submit the DMP (intake: validate, plan, record, request approvals)");
        var (submitted, submission) = await SubmitCommand.SubmitAsync(
            host, dmpJson, "user:demo@gardien.local", json: false, output, error, cancellationToken);
        if (submitted != CliRunner.Ok)
        {
            return submitted;
        }

        var instanceId = submission.InstanceId ?? IntakeDmpWorkflow.InstanceIdFor(DmpSubmissionService.ExtractDmpId(dmpJson)!);

        await Section(
            output, "2. Approvals from the inbox (DEMO SHORTCUT: each open request is approved on behalf of the person it was sent to)");
        var decided = 0;
        for (var round = 0; round < MaxApprovalRounds; round++)
        {
            // One decision per open request: its latest message (an escalation supersedes the first request).
            var open = (await LocalHostViews.LoadInboxAsync(host, null, cancellationToken))
                .Where(
                    e => e.RequestOpen == true
                        && e.ApproveToken is not null
                        && e.Message.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal))
                .GroupBy(e => e.Message.CorrelationId, StringComparer.Ordinal)
                .Select(g => g.OrderBy(e => e.Message.SentAt).Last())
                .ToList();
            if (open.Count == 0)
            {
                break;
            }

            foreach (var entry in open)
            {
                var addressee = entry.Message.To.Count == 1 ? entry.Message.To[0] : entry.Message.Recipient;
                await output.WriteLineAsync(
                    $"[demo] approving as {UntrustedText.Console(addressee)}: {UntrustedText.Console(entry.Message.Subject)}");
                var result = await host.Decisions.SubmitAsync(
                    entry.ApproveToken!, "approve", "Approved in the local demo (gardien demo).", "user:" + addressee, cancellationToken);
                await output.WriteLineAsync("       " + UntrustedText.Console(result.Message));
                decided += result.Accepted ? 1 : 0;
            }

            await LocalHostCommand.RunUntilIdleAsync(host, error, cancellationToken);
        }

        if (decided == 0)
        {
            await output.WriteLineAsync("No open approval request (already decided in an earlier run).");
        }

        var done = await host.RunUntilCompletedAsync(instanceId, cancellationToken);
        await LocalHostCommand.RunUntilIdleAsync(host, error, cancellationToken);

        await Section(output, "3. Result: intake, approvals, containers (metadata as stored on Azurite), grants");
        var snapshot = await LocalHostViews.LoadAsync(host, instanceId, cancellationToken);
        if (snapshot is not null)
        {
            LocalHostViews.Render(console, snapshot);
        }

        if (done is null)
        {
            await output.WriteLineAsync(
                $"The intake did not finish within Engine:IdleTimeout ({host.EngineOptions.IdleTimeout}); run 'gardien status' later.");
        }

        await Section(output, "4. Inbox (what Gardien sent; full texts as .md files)");
        await InboxCommand.WriteAsync(host, await LocalHostViews.LoadInboxAsync(host, null, cancellationToken), json: false, output);

        await Section(output, "5. Audit trail: gardien audit verify");
        var verification = await host.AuditLog.VerifyAsync(cancellationToken);
        await output.WriteLineAsync(verification.Intact
            ? $"Audit chain intact: {verification.EntriesChecked} entries checked; last hash {verification.LastHash}."
            : $"Audit chain BROKEN at entry {verification.FirstBrokenLink!.Sequence}: "
                + $"{UntrustedText.Console(verification.FirstBrokenLink.Problem)}");

        await Section(output, "6. Retention sweep, dry run");
        var firstKeepUntil = snapshot?.Datasets.Select(d => d.Dataset.KeepUntil).Where(d => d is not null).Min();
        var sweepDate = firstKeepUntil is { } keepUntil ? keepUntil.AddDays(-30) : DateOnly.FromDateTime(DateTime.UtcNow);
        if (firstKeepUntil is not null)
        {
            await output.WriteLineAsync(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"As of {sweepDate:yyyy-MM-dd} (30 days before the first keep-until date, to show what the daily sweep will do then; ")
                + "'gardien sweep --dry-run' sweeps as of today).");
        }

        var report = await SweepCommand.SweepAsync(host, sweepDate, dryRun: true, error, cancellationToken);
        if (report is not null)
        {
            SweepCommand.Render(console, report);
        }

        var active = snapshot?.Result?.State == IntakeState.Active;
        await output.WriteLineAsync();
        await output.WriteLineAsync(active && verification.Intact
            ? "Done: the DMP is governed (Active). Try 'gardien status', 'gardien inbox', 'gardien audit show'."
            : $"Done, but the intake is {(snapshot is null ? "unknown" : UntrustedText.Console(LocalHostViews.Describe(snapshot)))}"
                + $"{(verification.Intact ? string.Empty : " and the audit chain is broken")}.");
        return active && verification.Intact && done?.Status == WorkflowStatus.Completed ? CliRunner.Ok : CliRunner.Invalid;
    }

    private static async Task Section(TextWriter output, string title)
    {
        await output.WriteLineAsync();
        await output.WriteLineAsync("== " + title);
    }
}
