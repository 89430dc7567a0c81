using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Local.Hosting;
using Gardien.Testing;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;

namespace Gardien.Benchmarks.Intake;

/// <summary>
/// End-to-end intake of one large DMP on the local host (embedded engine on Azurite, table registry, blob containers,
/// JSON-file directory, append-blob audit, file inbox): submit, approve every request from the inbox, run to Active.
/// Measures wall time per stage, CPU time, allocations and peak memory of this process (Azurite runs in its own
/// process). On a shared machine wall time follows the load; CPU time and allocations are the steadier figures.
/// <para>Usage: <c>dotnet run -c Release --project benchmarks/Gardien.Benchmarks -- intake [--datasets 1000] [--people 5]</c></para>
/// </summary>
internal static class IntakeBenchmarkRunner
{
    private const string DmpIdPrefix = "https://doi.org/10.99999/bench-";

    public static async Task<int> RunAsync(string[] args)
    {
        var datasets = IntValue(args, "--datasets", 1000);
        var people = Math.Max(1, IntValue(args, "--people", 5));
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"{Environment.ProcessorCount} cores; load average (1/5/15 min) at the start: {LoadAverage()}"));
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"Intake of a DMP with {datasets} datasets and {people} people (PI + {people - 1} contributors): ")
            + string.Create(CultureInfo.InvariantCulture, $"{datasets * people} grants."));

        await using var azurite = await AzuriteInstance.StartAsync().ConfigureAwait(false);
        var folder = Path.Combine(Path.GetTempPath(), "gardien-bench-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(folder);
        try
        {
            var id = Guid.NewGuid().ToString("N")[..10];
            var configPath = WriteConfiguration(folder, id, azurite.ConnectionString, people);
            var dmpJson = Dmp(DmpIdPrefix + id, datasets, people);
            await using var host = GardienLocalHost.Create(GardienLocalConfiguration.Build(configPath), consoleLogging: false);
            await host.StartAsync().ConfigureAwait(false);

            using var sampler = new MemorySampler();
            GC.Collect();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var total = Stopwatch.StartNew();

            var submitted = await host.Submissions.SubmitAsync(dmpJson, "user:bench").ConfigureAwait(false);
            var instanceId = submitted.InstanceId
                ?? throw new InvalidOperationException("The submission started no intake: " + submitted.Error);
            await host.RunUntilIdleAsync().ConfigureAwait(false);
            var toApprovals = total.Elapsed;

            var decided = 0;
            foreach (var message in await host.Inbox.ListAsync().ConfigureAwait(false))
            {
                if (message.Kind != NotificationKind.ApprovalRequest
                    || !message.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal))
                {
                    continue;
                }

                var link = message.Links.First(l => l.Label == "Approve").Url;
                var token = Uri.UnescapeDataString(link.AbsolutePath[(link.AbsolutePath.LastIndexOf('/') + 1)..]);
                var result = await host.Decisions.SubmitAsync(token, "approve", "benchmark", "user:" + message.To[0]).ConfigureAwait(false);
                decided += result.Accepted ? 1 : 0;
            }

            var approved = total.Elapsed;
            var done = await host.RunUntilCompletedAsync(instanceId).ConfigureAwait(false);
            total.Stop();
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            var output = done?.ReadOutputAs<IntakeDmpOutput>();

            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"Approvals decided: {decided}; state: {output?.State.ToString() ?? "not finished"} {output?.Reason}"));
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"Containers: {output?.Containers.Count}; grants: {output?.Grants.Count}; warnings: {output?.Warnings.Count}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Load average (1/5/15 min) at the end: {LoadAverage()}"));
            Console.WriteLine(
                "| Datasets | Grants | Submit → approvals requested (s) | Approved → Active (s) | Total (s) | CPU of this process (s) "
                + "| Allocated (MB) | Peak working set (MB) | Peak managed heap (MB) | Directory file (KB) |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {datasets} | {output?.Grants.Count} | {toApprovals.TotalSeconds:F1} | ")
                + string.Create(
                    CultureInfo.InvariantCulture,
                    $"{(total.Elapsed - approved).TotalSeconds:F1} | {total.Elapsed.TotalSeconds:F1} | {cpu.TotalSeconds:F1} | ")
                + string.Create(
                    CultureInfo.InvariantCulture,
                    $"{allocated / 1e6:F0} | {sampler.PeakWorkingSet / 1e6:F0} | ")
                + string.Create(
                    CultureInfo.InvariantCulture,
                    $"{sampler.PeakManagedHeap / 1e6:F0} | {new FileInfo(Path.Combine(folder, "directory.json")).Length / 1024} |"));
            return output?.State == IntakeState.Active ? 0 : 1;
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder left behind is harmless.
            }
        }
    }

    private static string WriteConfiguration(string folder, string id, string connectionString, int people)
    {
        var users = new JsonArray();
        foreach (var (name, email) in People(people).Append(("Research Data Service", "data-steward@neuro-institute.example"))
            .Append(("Data Protection Officer", "dpo@neuro-institute.example")))
        {
            users.Add(new JsonObject { ["id"] = "u-" + email.Split('@')[0], ["displayName"] = name, ["email"] = email });
        }

        var seed = Path.Combine(folder, "directory.seed.json");
        File.WriteAllText(
            seed, new JsonObject { ["users"] = users, ["groups"] = new JsonArray(), ["roleAssignments"] = new JsonArray() }.ToJsonString());
        var settings = new Dictionary<string, object>
        {
            ["Engine"] = new Dictionary<string, object>
            {
                ["TaskHubName"] = "Bench" + id,
                ["IdleTimeout"] = "01:00:00",
                ["ConnectTimeout"] = "00:00:05",
            },
            ["Local"] = new Dictionary<string, object>
            {
                ["StorageConnectionString"] = connectionString,
                ["InboxPath"] = Path.Combine(folder, "inbox"),
                ["DirectoryPath"] = Path.Combine(folder, "directory.json"),
                ["DirectorySeedPath"] = seed,
                ["DmpFolder"] = Path.Combine(folder, "dmps"),
                ["TablePrefix"] = "b" + id,
                ["AuditContainer"] = "audit-" + id,
            },
            ["Workflows"] = new Dictionary<string, object> { ["PolicyPath"] = Path.Combine(RepoPaths.Root, "policy.sample.json") },
            ["Secrets"] = new Dictionary<string, object>
            {
                ["approval-signing-key-k1"] = "benchmark-only-approval-signing-key-0123456789abcdef",
            },
        };
        var path = Path.Combine(folder, "gardien.local.json");
        File.WriteAllText(path, JsonSerializer.Serialize(settings));
        return path;
    }

    private static IEnumerable<(string Name, string Email)> People(int count) =>
        Enumerable.Range(0, count)
            .Select(
                i => i == 0
                    ? ("Claire Dubois", "claire.dubois@neuro-institute.example")
                    : ($"Researcher {i}", $"researcher{i}@neuro-institute.example"));

    /// <summary>Datasets cycle through the four classes; every dataset is hosted in France with a certified host.</summary>
    internal static string Dmp(string dmpId, int datasets, int people)
    {
        var all = People(people).ToList();
        var contributors = new JsonArray();
        foreach (var (name, email) in all.Skip(1))
        {
            contributors.Add(new JsonObject { ["name"] = name, ["mbox"] = email, ["role"] = new JsonArray("DataManager") });
        }

        var array = new JsonArray();
        for (var i = 0; i < datasets; i++)
        {
            var (personal, sensitive, access) = (i % 4) switch
            {
                0 => ("yes", "yes", "closed"),
                1 => ("yes", "no", "closed"),
                2 => ("no", "no", "shared"),
                _ => ("no", "no", "open"),
            };
            var distribution = new JsonObject
            {
                ["title"] = "files",
                ["data_access"] = access,
                ["byte_size"] = 1_000_000,
                ["host"] = new JsonObject
                {
                    ["title"] = "Institute storage",
                    ["url"] = "https://storage.neuro.example",
                    ["geo_location"] = "FR",
                    ["certified_with"] = "coretrustseal",
                },
            };
            if (access == "open")
            {
                distribution["license"] = new JsonArray(
                    new JsonObject { ["license_ref"] = "https://creativecommons.org/licenses/by/4.0/", ["start_date"] = "2025-01-01" });
            }

            array.Add(new JsonObject
            {
                ["title"] = "Dataset " + i.ToString(CultureInfo.InvariantCulture),
                ["type"] = "dataset",
                ["personal_data"] = personal,
                ["sensitive_data"] = sensitive,
                ["dataset_id"] = new JsonObject
                {
                    ["identifier"] = "https://doi.org/10.99999/bench.ds." + i.ToString(CultureInfo.InvariantCulture),
                    ["type"] = "doi",
                },
                ["distribution"] = new JsonArray(distribution),
            });
        }

        var (piName, piEmail) = all[0];
        return new JsonObject
        {
            ["dmp"] = new JsonObject
            {
                ["title"] = "Benchmark DMP",
                ["language"] = "eng",
                ["created"] = "2026-01-01T09:00:00Z",
                ["modified"] = "2026-01-10T09:00:00Z",
                ["ethical_issues_exist"] = "no",
                ["dmp_id"] = new JsonObject { ["identifier"] = dmpId, ["type"] = "doi" },
                ["contact"] = new JsonObject { ["name"] = piName, ["mbox"] = piEmail },
                ["contributor"] = contributors,
                ["project"] = new JsonArray(
                    new JsonObject { ["title"] = "Benchmark project", ["start"] = "2025-01-01", ["end"] = "2028-12-31" }),
                ["dataset"] = array,
            },
        }.ToJsonString();
    }

    private static int IntValue(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0
            && index + 1 < args.Length
            && int.TryParse(args[index + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    /// <summary>Samples this process's working set and managed heap every 100 ms; the peaks are what a host must provision.</summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _peakWorkingSet;
        private long _peakManagedHeap;

        public MemorySampler() => _loop = Task.Run(LoopAsync);

        /// <summary>The sampled peak, or the kernel's high-water mark of the process when it saw a higher one between samples.</summary>
        public long PeakWorkingSet
        {
            get
            {
                using var process = Process.GetCurrentProcess();
                return Math.Max(Interlocked.Read(ref _peakWorkingSet), process.PeakWorkingSet64);
            }
        }

        public long PeakManagedHeap => Interlocked.Read(ref _peakManagedHeap);

        public void Dispose()
        {
            _stop.Cancel();
            try
            {
                _loop.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }

            _stop.Dispose();
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var (workingSet, heap) = Sample();
                if (workingSet > Interlocked.Read(ref _peakWorkingSet))
                {
                    Interlocked.Exchange(ref _peakWorkingSet, workingSet);
                }

                if (heap > Interlocked.Read(ref _peakManagedHeap))
                {
                    Interlocked.Exchange(ref _peakManagedHeap, heap);
                }

                await Task.Delay(100, _stop.Token).ConfigureAwait(false);
            }
        }

        private static (long WorkingSet, long Heap) Sample()
        {
            using var process = Process.GetCurrentProcess();
            return (process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false));
        }
    }
}
