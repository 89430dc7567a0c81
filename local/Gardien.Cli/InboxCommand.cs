using System.CommandLine;
using System.Text.Json;
using Gardien.Local.Hosting;
using Gardien.Local.Serve;
using Gardien.Workflows.Text;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien inbox [--to EMAIL] [--open] [--json]</c>: the local notification inbox (what Gardien would e-mail), oldest
/// first, with the tokens of approval links ready for <c>gardien approve</c>. Exit 0, or 2 on a configuration or I/O error.
/// </summary>
internal static class InboxCommand
{
    public static Command Create()
    {
        var to = new Option<string?>("--to") { Description = "Only the messages sent to this address.", HelpName = "EMAIL" };
        var open = new Option<bool>("--open") { Description = "Only approval requests still waiting for a decision." };
        var json = LocalHostCommand.JsonOption();
        var config = LocalHostCommand.ConfigOption();
        var command =
            new Command("inbox", "List the messages Gardien sent (approval requests with their links, summaries, rejections, alerts).")
            {
                to,
                open,
                json,
                config,
            };
        command.SetAction(async (parse, cancellationToken) => await RemoteCommands.ViaServiceAsync(parse, config, (service, output, _) =>
                RemoteCommands.InboxAsync(service, parse.GetValue(to), parse.GetValue(open), parse.GetValue(json), output,
                    cancellationToken), cancellationToken)
            ?? await LocalHostCommand.RunAsync(parse, config, async (host, output, error) =>
        {
            await LocalHostCommand.RunUntilIdleAsync(host, error, cancellationToken);
            var entries = await LocalHostViews.LoadInboxAsync(host, parse.GetValue(to), cancellationToken);
            if (parse.GetValue(open))
            {
                entries = [.. entries.Where(e => e.RequestOpen == true)];
            }

            await WriteAsync(host, entries, parse.GetValue(json), output);
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    internal static async Task WriteAsync(GardienLocalHost host, IReadOnlyList<InboxEntry> entries, bool json, TextWriter output)
    {
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(entries.Select(InboxEntryJson.From), LocalHostCommand.Json));
            return;
        }

        if (entries.Count == 0)
        {
            await output.WriteLineAsync($"The inbox is empty ({Path.GetFullPath(host.LocalOptions.InboxPath)}).");
            return;
        }

        var n = 0;
        foreach (var entry in entries)
        {
            var m = entry.Message;
            var state = entry.RequestOpen switch { true => " [open]", false => " [closed]", null => string.Empty };
            await output.WriteLineAsync($"#{++n} {LocalHostViews.Time(m.SentAt)} {m.Kind} to {UntrustedText.Console(m.Recipient)}{state}");
            await output.WriteLineAsync("   " + UntrustedText.Console(m.Subject));
            if (entry.RequestOpen == true && (entry.ApproveToken ?? entry.RejectToken) is { } token)
            {
                if (entry.ApproveToken is not null && entry.RejectToken is not null && entry.ApproveToken != entry.RejectToken)
                {
                    await output.WriteLineAsync($"   approve: gardien approve {entry.ApproveToken}");
                    await output.WriteLineAsync($"   reject:  gardien approve {entry.RejectToken} --reject --comment \"why\"");
                }
                else
                {
                    await output.WriteLineAsync($"   decide:  gardien approve {token}   (or add --reject --comment \"why\")");
                }
            }
        }

        await output.WriteLineAsync(
            $"{entries.Count} message(s); full texts in {Path.GetFullPath(host.LocalOptions.InboxPath)} (one .md per message).");
    }
}
