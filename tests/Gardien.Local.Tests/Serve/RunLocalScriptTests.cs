using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gardien.Local.Tests.Adapters;
using Gardien.Testing;

namespace Gardien.Local.Tests.Serve;

/// <summary>The README's main-job command itself, in its CI form: <c>./run-local.sh --once</c> on a fresh state folder.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RunLocalScriptTests
{
    [Fact]
    public async Task RunLocalOnce_FreshState_StartsTheServiceRunsTheDemoToActiveAndExitsZero()
    {
        using var folder = new TempFolder();
        var psi = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "run-local.sh"));
        psi.ArgumentList.Add("--once");
        psi.Environment["GARDIEN_STATE_DIR"] = folder.Combine("state");
        psi.Environment["GARDIEN_BIN_DIR"] = folder.Combine("bin");
        psi.Environment["Serve__Url"] = $"http://127.0.0.1:{FreePort()}";

        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(guard.Token);

        Assert.True(process.ExitCode == 0, await output + await error);
        Assert.Contains("The DMP is Active.", await output, StringComparison.Ordinal);
        Assert.Contains("Audit chain intact", await output, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.Combine("state", "azurite.pid")), "the Azurite the script started is stopped and forgotten");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
