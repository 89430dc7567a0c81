using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace Gardien.Local.Serve;

/// <summary>
/// Starts Azurite for <c>gardien serve</c> when the configured storage is the local emulator and nothing answers there:
/// from the repository's own <c>node_modules</c> (installed with <c>npm ci</c> when missing), data in
/// <c>{state}/azurite</c>, on 127.0.0.1 and the configured ports. An Azurite that already answers is reused and left alone.
/// Stopped on dispose when this launcher started it.
/// </summary>
public sealed class AzuriteLauncher : IAsyncDisposable
{
    private readonly Process _process;

    private AzuriteLauncher(Process process) => _process = process;

    /// <summary>Null when nothing had to be started (an Azurite answers, or the storage is not a local emulator).</summary>
    public static async Task<AzuriteLauncher?> EnsureAsync(IConfiguration configuration, string stateDirectory, TextWriter log,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(log);
        var connection = configuration["Local:StorageConnectionString"];
        if (configuration["Local:BlobServiceUri"] is not null || configuration["Engine:StorageConnectionString"] is not null
            || LocalPorts(string.IsNullOrWhiteSpace(connection) ? "UseDevelopmentStorage=true" : connection) is not { } ports)
        {
            return null;
        }

        if (await AnswersAsync(ports, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var root = RepositoryRoot();
        if (root is null)
        {
            return null;
        }

        var script = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            await log.WriteLineAsync($"Azurite is not installed: npm ci in {root}...").ConfigureAwait(false);
            await RunAsync("npm", root, cancellationToken, "ci", "--no-audit", "--no-fund", "--loglevel=error").ConfigureAwait(false);
        }

        var data = Path.GetFullPath(Path.Combine(stateDirectory, "azurite"));
        System.IO.Directory.CreateDirectory(data);
        var psi = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            script, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--location", data,
            "--blobHost", "127.0.0.1", "--blobPort", ports.Blob.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", ports.Queue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", ports.Table.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            psi.ArgumentList.Add(argument);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start node for Azurite.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var launcher = new AzuriteLauncher(process);
        for (var attempt = 0; attempt < 150 && !process.HasExited; attempt++)
        {
            if (await AnswersAsync(ports, cancellationToken).ConfigureAwait(false))
            {
                await log.WriteLineAsync($"Started Azurite from {root}/node_modules (pid {process.Id}, data in "
                    + $"{data}).").ConfigureAwait(false);
                return launcher;
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        await launcher.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
    }

    /// <summary>The blob, queue and table ports of a connection string whose three endpoints are on this machine; null otherwise.</summary>
    internal static (int Blob, int Queue, int Table)? LocalPorts(string connectionString)
    {
        if (connectionString.Replace(" ", string.Empty, StringComparison.Ordinal).Equals("UseDevelopmentStorage=true",
            StringComparison.OrdinalIgnoreCase))
        {
            return (10000, 10001, 10002);
        }

        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim(),
                StringComparer.OrdinalIgnoreCase);
        int? Port(string name) => parts.TryGetValue(name, out var value) && Uri.TryCreate(value, UriKind.Absolute,
            out var uri) && uri.IsLoopback ? uri.Port : null;
        return Port("BlobEndpoint") is { } blob && Port("QueueEndpoint") is { } queue && Port("TableEndpoint") is { } table ? (blob, queue,
            table) : null;
    }

    private static async Task<bool> AnswersAsync((int Blob, int Queue, int Table) ports, CancellationToken cancellationToken)
    {
        foreach (var port in new[] { ports.Blob, ports.Queue, ports.Table })
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The repository holding Azurite as a dev dependency: from the current directory up, then from the CLI's own folder
    /// up.</summary>
    private static string? RepositoryRoot()
    {
        foreach (var start in new[] { System.IO.Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var package = Path.Combine(dir.FullName, "package.json");
                if (File.Exists(package) && File.ReadAllText(package).Contains("\"azurite\"", StringComparison.Ordinal))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    private static async Task RunAsync(string tool, string directory, CancellationToken cancellationToken, params string[] arguments)
    {
        var psi = new ProcessStartInfo(tool) { WorkingDirectory = directory, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {tool}.");
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
    }
}
