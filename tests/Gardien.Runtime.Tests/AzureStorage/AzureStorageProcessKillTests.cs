using System.Diagnostics;
using Gardien.Runtime.AzureStorage;
using Gardien.Testing;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>
/// The real crash: an engine host process (tests/Gardien.Runtime.CrashHost) is killed with SIGKILL in the middle
/// of its run and started again on the same task hub. Every instance completes, and no activity whose completion
/// was persisted before the kill appends its side effect again.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStorageProcessKillTests(AzuriteFixture fixture)
{
    private const int Instances = 3;
    private const int ActivitiesPerInstance = 10;

    [Fact]
    public async Task HostKilledMidRun_RestartedHostCompletesAll_WithoutRepeatingPersistedSideEffects()
    {
        var hub = AzureStoreTestHubs.NewHubName();
        var log = Path.Combine(Path.GetTempPath(), $"gardien-crash-{Guid.NewGuid():N}.log");
        try
        {
            using (var doomed = StartHost(hub, log))
            {
                await WaitUntilAsync(() => LineCount(log) >= 8 || doomed.HasExited, "the host to run a few activities");
                Assert.False(
                    doomed.HasExited, "The host finished before it could be killed: " + await doomed.StandardError.ReadToEndAsync());
                doomed.Kill(entireProcessTree: true); // SIGKILL on Linux: no finally blocks, no graceful shutdown.
                await doomed.WaitForExitAsync();
            }

            var store = new AzureStorageWorkflowStore(AzureStorageStoreOptions.ForConnectionString(fixture.ConnectionString, hub));
            var ids = Enumerable.Range(0, Instances).Select(i => "crash-" + i).ToList();
            var persisted = new HashSet<string>(StringComparer.Ordinal);
            foreach (var id in ids)
            {
                foreach (var completed in (await store.GetHistoryAsync(id)).Where(e => e.EventType == HistoryEventType.TaskCompleted))
                {
                    persisted.Add($"{id}|{completed.TaskScheduledId}");
                }
            }

            var linesBeforeRestart = LineCount(log);
            using (var restarted = StartHost(hub, log))
            {
                using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
                await restarted.WaitForExitAsync(guard.Token);
                Assert.True(
                    restarted.ExitCode == 0,
                    $"Restarted host exited {restarted.ExitCode}: {await restarted.StandardError.ReadToEndAsync()}");
            }

            foreach (var id in ids)
            {
                Assert.Equal(WorkflowStatus.Completed, (await store.GetInstanceAsync(id))!.Status);
            }

            var lines = (await File.ReadAllLinesAsync(log)).Where(l => l.Length > 0).ToList();
            var tasks = lines.Select(l => string.Join('|', l.Split('|')[..2])).ToList();
            Assert.Equal(Instances * ActivitiesPerInstance, tasks.Distinct().Count());
            var rerunAfterRestart = tasks.Skip(linesBeforeRestart).Where(persisted.Contains).ToList();
            Assert.Empty(rerunAfterRestart);
        }
        finally
        {
            File.Delete(log);
        }
    }

    private Process StartHost(string hub, string log)
    {
        var host = Path.Combine(AppContext.BaseDirectory, "Gardien.Runtime.CrashHost.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "exec",
            host,
            fixture.ConnectionString,
            hub,
            log,
            Instances.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            psi.ArgumentList.Add(arg);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("Could not start the crash host.");
    }

    private static int LineCount(string path) => File.Exists(path) ? File.ReadAllLines(path).Count(l => l.Length > 0) : 0;

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Gave up waiting for " + what);
            }

            await Task.Delay(20);
        }
    }
}
