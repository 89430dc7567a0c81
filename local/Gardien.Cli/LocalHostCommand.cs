using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Identity;
using Gardien.Local.Hosting;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Text;
using Spectre.Console;

namespace Gardien.Cli;

/// <summary>
/// What the commands that run the workflows share: the <c>--config</c> option, building and starting the local host
/// (engine on Azure Storage + local adapters), and turning every failure into a clear message with exit code 2.
/// </summary>
internal static class LocalHostCommand
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>A fresh <c>--config</c> option (System.CommandLine options belong to one command).</summary>
    public static Option<string?> ConfigOption() => new("--config")
    {
        Description =
            $"Configuration file (default: ${GardienLocalConfiguration.FileEnvironmentVariable}, else ./"
            + $"{GardienLocalConfiguration.DefaultFileName} when present). Environment variables Section__Key override it.",
        HelpName = "FILE",
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print the result as JSON." };

    /// <summary>
    /// Starts the host from the configuration, runs <paramref name="action"/>, stops the host. The action returns the
    /// exit code; a misconfiguration or an unreachable store is reported on standard error with exit code 2.
    /// </summary>
    public static async Task<int> RunAsync(
        ParseResult parse,
        Option<string?> config,
        Func<GardienLocalHost, TextWriter, TextWriter, Task<int>> action,
        CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        try
        {
            var configuration = GardienLocalConfiguration.Build(parse.GetValue(config));
            await using var host = GardienLocalHost.Create(configuration);
            await host.StartAsync(cancellationToken);
            await ResumeAfterAuditRepairAsync(host, error, cancellationToken);
            return await action(host, output, error);
        }
        catch (GardienLocalHostException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message);
            return CliRunner.UsageOrIoError;
        }
        catch (RequestFailedException ex)
        {
            await error.WriteLineAsync(
                $"error: a storage request failed: {ex.Status} {ex.ErrorCode ?? ex.Message.Split('\n')[0]}. Is Azurite (or the account) "
                + "still running?");
            return CliRunner.UsageOrIoError;
        }
        catch (AuthenticationFailedException ex)
        {
            await error.WriteLineAsync($"error: could not authenticate to Azure Storage: {ex.Message.Split('\n')[0]}");
            return CliRunner.UsageOrIoError;
        }
        catch (PortException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message);
            return CliRunner.UsageOrIoError;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("Interrupted: the work in progress is durable and carries on at the next command.");
            return CliRunner.UsageOrIoError;
        }
    }

    /// <summary>Runs the engine until idle; says so when the idle timeout ran out first.</summary>
    public static async Task RunUntilIdleAsync(GardienLocalHost host, TextWriter error, CancellationToken cancellationToken)
    {
        if (!await host.RunUntilIdleAsync(cancellationToken))
        {
            await error.WriteLineAsync(
                $"note: work was still running after Engine:IdleTimeout ({host.EngineOptions.IdleTimeout}); "
                + "it carries on at the next gardien command.");
        }
    }

    /// <summary>
    /// Workflows stopped at an audited step by a damaged audit trail carry on as soon as it verifies again: every command
    /// checks (the trail is read only when something waits for it) and tells them.
    /// </summary>
    private static async Task ResumeAfterAuditRepairAsync(GardienLocalHost host, TextWriter error, CancellationToken cancellationToken)
    {
        var resumption = await host.AuditTrail.ResumeIfRepairedAsync(cancellationToken);
        if (resumption.Resumed.Count > 0)
        {
            await error.WriteLineAsync(
                $"note: the audit trail verifies again ({resumption.Verification!.EntriesChecked} entries): "
                + $"{resumption.Resumed.Count} workflow(s) that waited for it carry on.");
        }
    }

    /// <summary>
    /// After work ran: when the DMP's workflows stopped at a damaged audit trail, says where the damage is, how to repair
    /// it and that nothing was lost, and returns the exit code for it (2); null when nothing waits.
    /// </summary>
    public static async Task<int?> ReportAuditDamageAsync(
        GardienLocalHost host,
        string? instanceId,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        if (instanceId is null)
        {
            return null;
        }

        var waiting = (await host.AuditTrail.ListWaitingAsync(cancellationToken)).Where(
            w => w.InstanceId.StartsWith(instanceId, StringComparison.Ordinal)).ToList();
        if (waiting.Count == 0)
        {
            return null;
        }

        await error.WriteLineAsync("error: " + UntrustedText.Console(waiting[0].Damage ?? "the audit trail cannot be appended to."));
        await error.WriteLineAsync(
            $"The work is not lost: {string.Join(", ", waiting.Select(w => w.InstanceId))} wait{(waiting.Count == 1 ? "s" : string.Empty)}"
            + $" for the trail and carr{(waiting.Count == 1 ? "ies" : "y")} on by itself at the next gardien command once 'gardien audit "
            + "verify' reports it intact.");
        return CliRunner.UsageOrIoError;
    }

    /// <summary>Width used when the output is not a terminal and COLUMNS is not set (a log, a pipe, a test).</summary>
    public const int DefaultWidth = 160;

    /// <summary>
    /// A plain (no colour, no ANSI) console writing to <paramref name="output"/>, so that tables read well in logs and
    /// tests, whose tables never break a word (<see cref="WordSafeConsole"/>). Its width is <paramref name="width"/>,
    /// else <see cref="TerminalWidth"/>.
    /// </summary>
    public static IAnsiConsole Console(TextWriter output, int? width = null)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = width ?? TerminalWidth(output);
        return new WordSafeConsole(console, output);
    }

    /// <summary>
    /// The width to lay tables out in: the COLUMNS environment variable when set (as most command-line tools honour it),
    /// else the terminal's width when <paramref name="output"/> is the terminal, else <see cref="DefaultWidth"/>.
    /// </summary>
    public static int TerminalWidth(TextWriter output)
    {
        if (int.TryParse(
            Environment.GetEnvironmentVariable("COLUMNS"),
            System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture,
            out var columns) && columns >= 20)
        {
            return columns;
        }

        if (ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected)
        {
            try
            {
                var terminal = System.Console.WindowWidth;
                if (terminal >= 20)
                {
                    return terminal;
                }
            }
            catch (IOException)
            {
                // No terminal after all (a detached process): the default below.
            }
        }

        return DefaultWidth;
    }

    /// <summary>Reads a file, or standard input for "-"; null (with the reason written) when it cannot.</summary>
    public static async Task<string?> ReadInputAsync(string file, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            using var reader = new StreamReader(file == "-" ? CliInputs.OpenProcessStandardInput() : CliInputs.OpenFile(file));
            return await reader.ReadToEndAsync(cancellationToken);
        }
        catch (CliInputException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message);
            return null;
        }
        catch (IOException ex)
        {
            await error.WriteLineAsync($"error: cannot read '{file}': {ex.Message}");
            return null;
        }
    }
}
