using System.CommandLine;

namespace Gardien.Cli;

/// <summary>Runs the command tree so that no exception ever reaches the user as a stack trace.</summary>
internal static class CliRunner
{
    public const int Ok = 0;
    public const int Invalid = 1;
    public const int UsageOrIoError = 2;

    public static async Task<int> RunAsync(RootCommand root, string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        // Whatever a command prints (DMP titles, names, comments, messages quoting them), no raw control or bidi character reaches the
        // terminal.
        using var output = new TerminalSafeWriter(stdout ?? Console.Out);
        using var error = new TerminalSafeWriter(stderr ?? Console.Error);
        try
        {
            // Ctrl-C cancels the command's token; a service then has this long to drain before the process ends.
            return await RunAsync(root, args, new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = TimeSpan.FromMinutes(1),
            });
        }
        finally
        {
            await output.FlushAsync();
            await error.FlushAsync();
        }
    }

    private static async Task<int> RunAsync(RootCommand root, string[] args, InvocationConfiguration config)
    {

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await config.Error.WriteLineAsync($"error: {error.Message}");
            }

            await config.Error.WriteLineAsync("Run 'gardien --help' for usage.");
            return UsageOrIoError;
        }

        try
        {
            return await parse.InvokeAsync(config);
        }
#pragma warning disable CA1031 // The CLI's contract is that nothing escapes as a crash: report and exit 2.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await config.Error.WriteLineAsync($"error: {ex.Message}");
            return UsageOrIoError;
        }
    }
}
