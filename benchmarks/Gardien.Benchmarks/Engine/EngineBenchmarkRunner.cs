using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Gardien.Runtime;
using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Testing;

namespace Gardien.Benchmarks.Engine;

/// <summary>
/// The four per-instance scenarios the Durable Task Azure Storage provider publishes targets for (5 sequential
/// activities/s, 100 fan-out activities/s, 150 fan-in responses/s, 50 external events/s), run on the embedded engine
/// with the in-memory store and with the Azure Storage store on a local Azurite. Throughput, not per-call latency,
/// is what matters here, hence a custom runner rather than BenchmarkDotNet.
/// <para>Usage: <c>dotnet run -c Release --project benchmarks/Gardien.Benchmarks -- engine [memory|azurite|all] (azurite also runs the
/// Durable Task Framework backend) [--quick]</c></para>
/// </summary>
internal static partial class EngineBenchmarkRunner
{
    private static readonly (string Scenario, double Target)[] PublishedTargets =
    [
        ("Sequential activities/s", 5),
        ("Fan-out activities/s", 100),
        ("Fan-in responses/s", 150),
        ("External events/s", 50),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"{Environment.ProcessorCount} cores; load average (1/5/15 min) at the start: {LoadAverage()}"));
        var which = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
        var quick = args.Contains("--quick", StringComparer.Ordinal);
        var results = new List<ScenarioResult>();

        if (which is "all" or "memory")
        {
            Console.WriteLine("== in-memory store");
            var sizes = quick ? new Sizes(200, 500, 200) : new Sizes(1000, 2000, 1000);
            results.AddRange(
                await RunScenariosAsync(
                    "in-memory",
                    () => Task.FromResult<(IWorkflowStore, StorageRequestCounter?)>((new InMemoryWorkflowStore(), null)),
                    sizes)
                .ConfigureAwait(false));
            results.Add(await ParallelSequentialAsync(quick ? 20 : 50, 100).ConfigureAwait(false));
        }

        if (which is "all" or "azurite")
        {
            Console.WriteLine("== Azure Storage store on Azurite");
            await using var azurite = await AzuriteInstance.StartAsync().ConfigureAwait(false);
            var sizes = quick ? new Sizes(50, 100, 50) : new Sizes(200, 500, 200);
            results.AddRange(await RunScenariosAsync("azurite", async () =>
            {
                var counter = new StorageRequestCounter();
                var options = AzureStorageStoreOptions.ForConnectionString(
                    azurite.ConnectionString, "Bench" + Guid.NewGuid().ToString("N")[..10]) with
                {
                    AdditionalPolicies = RequestBreakdownPolicy.Enabled ? [counter, Breakdown] : [counter],
                };
                var store = new AzureStorageWorkflowStore(options);
                await store.CreateIfNotExistsAsync().ConfigureAwait(false);
                return (store, counter);
            }, sizes).ConfigureAwait(false));
            results.AddRange(await RunDurableTaskBackendAsync(azurite.ConnectionString, sizes).ConfigureAwait(false));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Load average (1/5/15 min) at the end: {LoadAverage()}"));
        Console.WriteLine(
            "| Store | Scenario | Items | Seconds | Rate (/s) | Published target | × target | Storage requests per item | Engine CPU µs "
            + "per item |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var target = PublishedTargets.FirstOrDefault(t => r.Scenario.StartsWith(t.Scenario, StringComparison.Ordinal)).Target;
            Console.WriteLine(
                string.Create(CultureInfo.InvariantCulture, $"| {r.Store} | {r.Scenario} | {r.Items} | {r.Seconds:F2} | {r.Rate:F0} | ")
                + $"{(target > 0 ? target.ToString(CultureInfo.InvariantCulture) : "-")} | "
                + (target > 0 ? (r.Rate / target).ToString(r.Rate / target < 10 ? "F1" : "F0", CultureInfo.InvariantCulture) + "×" : "-")
                + " | "
                + $"{(r.RequestsPerItem is { } q ? q.ToString("F1", CultureInfo.InvariantCulture) : "-")} | "
                + $"{(r.CpuMicrosecondsPerItem is { } u ? u.ToString("F0", CultureInfo.InvariantCulture) : "-")} |");
        }

        PrintBackendRatios(results);
        return 0;
    }

    private static readonly RequestBreakdownPolicy Breakdown = new();

    private sealed record Sizes(int Sequential, int FanOut, int Events);

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private sealed record ScenarioResult(string Store, string Scenario, int Items, double Seconds, double? RequestsPerItem)
    {
        /// <summary>CPU time of this process per item (all threads, µs): load-independent cost on a shared machine.</summary>
        public double? CpuMicrosecondsPerItem { get; init; }

        public double Rate => Items / Seconds;
    }

    private static async Task<List<ScenarioResult>> RunScenariosAsync(
        string storeName,
        Func<Task<(IWorkflowStore Store, StorageRequestCounter? Counter)>> newStore,
        Sizes sizes)
    {
        var results = new List<ScenarioResult>();
        var (store, counter) = await newStore().ConfigureAwait(false);
        var timestamps = new ConcurrentQueue<(long Started, long Ended)>();
        var registry = new WorkflowRegistry()
            .AddActivity<int, int>("Noop", (_, x) =>
            {
                var now = Stopwatch.GetTimestamp();
                timestamps.Enqueue((now, now));
                return Task.FromResult(x + 1);
            })
            .AddWorkflow<int, int>("Sequential", async (ctx, n) =>
            {
                var x = 0;
                for (var i = 0; i < n; i++)
                {
                    x = await ctx.CallActivityAsync<int>("Noop", x);
                }

                return x;
            })
            .AddWorkflow<int, int>("FanOutFanIn", async (ctx, n) =>
            {
                var results = await Task.WhenAll(Enumerable.Range(0, n).Select(i => ctx.CallActivityAsync<int>("Noop", i)));
                return results.Length;
            })
            .AddWorkflow<int, int>("Events", async (ctx, n) =>
            {
                var sum = 0;
                for (var i = 0; i < n; i++)
                {
                    sum += await ctx.WaitForExternalEvent<int>("Tick");
                }

                return sum;
            });

        await using var engine = new WorkflowEngine(store, registry, new WorkflowEngineOptions
        {
            MaxConcurrentActivities = 32,
            MaxConcurrentWorkflowSteps = 4,
            ReceiveTimeout = TimeSpan.FromSeconds(5),
        });
        await engine.StartAsync().ConfigureAwait(false);
        var client = engine.Client;

        // Warm-up: JIT, table and queue creation, connection pools.
        await RunToCompletionAsync(client, "Sequential", 5).ConfigureAwait(false);
        await RunToCompletionAsync(client, "FanOutFanIn", 10).ConfigureAwait(false);

        // 1. Sequential activities (one instance).
        var before = counter?.Snapshot();
        var cpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        await RunToCompletionAsync(client, "Sequential", sizes.Sequential).ConfigureAwait(false);
        results.Add(
            Report(
                storeName,
                $"Sequential activities/s (1 instance, chain of {sizes.Sequential})",
                sizes.Sequential,
                watch.Elapsed,
                counter,
                before,
                cpu));

        // 2 and 3. Fan-out then fan-in (one instance): fan-out ends when the last activity has run, fan-in starts when the first has.
        timestamps.Clear();
        if (counter is not null && RequestBreakdownPolicy.Enabled)
        {
            Breakdown.PrintAndReset("before fan-out (sequential)", sizes.Sequential);
        }

        before = counter?.Snapshot();
        cpu = Environment.CpuUsage.TotalTime;
        var start = Stopwatch.GetTimestamp();
        await RunToCompletionAsync(client, "FanOutFanIn", sizes.FanOut).ConfigureAwait(false);
        var end = Stopwatch.GetTimestamp();
        var runs = timestamps.ToArray();
        var fanOut = Stopwatch.GetElapsedTime(start, runs.Max(r => r.Started));
        var fanIn = Stopwatch.GetElapsedTime(runs.Min(r => r.Ended), end);
        var started = runs.Select(r => Stopwatch.GetElapsedTime(start, r.Started).TotalMilliseconds).Order().ToArray();
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"  fan-out timeline (ms after scheduling): first activity {started[0]:F0}, median {started[started.Length / 2]:F0}, ")
            + string.Create(
                CultureInfo.InvariantCulture,
                $"last {started[^1]:F0}, instance completed {Stopwatch.GetElapsedTime(start, end).TotalMilliseconds:F0}"));
        results.Add(
            Report(storeName, $"Fan-out activities/s (1 instance, {sizes.FanOut} activities)", sizes.FanOut, fanOut, counter, before, cpu));
        results.Add(Report(storeName, $"Fan-in responses/s (1 instance, {sizes.FanOut} responses)", sizes.FanOut, fanIn, null, null));
        if (counter is not null && RequestBreakdownPolicy.Enabled)
        {
            Breakdown.PrintAndReset("fan-out + fan-in", sizes.FanOut);
        }

        // 4. External events raised to one waiting instance.
        before = counter?.Snapshot();
        var id = await client.ScheduleNewAsync("Events", sizes.Events).ConfigureAwait(false);
        await client.WaitForStartAsync(id).ConfigureAwait(false);
        cpu = Environment.CpuUsage.TotalTime;
        watch.Restart();
        await Parallel.ForAsync(0, sizes.Events, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, ct) => await client.RaiseEventAsync(id, "Tick", 1, ct).ConfigureAwait(false)).ConfigureAwait(false);
        var done = await client.WaitForCompletionAsync(id).ConfigureAwait(false);
        Check(done, sizes.Events);
        results.Add(
            Report(storeName, $"External events/s (1 instance, {sizes.Events} events)", sizes.Events, watch.Elapsed, counter, before, cpu));
        if (counter is not null && RequestBreakdownPolicy.Enabled)
        {
            Breakdown.PrintAndReset("external events", sizes.Events);
        }

        await engine.StopAsync().ConfigureAwait(false);
        if (store is AzureStorageWorkflowStore azure)
        {
            await azure.DisposeAsync().ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>
    /// In-memory only: many instances at once, to show the engine's aggregate throughput beside the per-instance numbers.
    /// </summary>
    private static async Task<ScenarioResult> ParallelSequentialAsync(int instances, int activitiesEach)
    {
        var registry = new WorkflowRegistry()
            .AddActivity<int, int>("Noop", (_, x) => Task.FromResult(x + 1))
            .AddWorkflow<int, int>("Sequential", async (ctx, n) =>
            {
                var x = 0;
                for (var i = 0; i < n; i++)
                {
                    x = await ctx.CallActivityAsync<int>("Noop", x);
                }

                return x;
            });
        await using var engine = new WorkflowEngine(
            new InMemoryWorkflowStore(), registry, new WorkflowEngineOptions { MaxConcurrentActivities = 32 });
        await engine.StartAsync().ConfigureAwait(false);
        await RunToCompletionAsync(engine.Client, "Sequential", 10).ConfigureAwait(false);
        var cpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, instances).Select(_ => RunToCompletionAsync(engine.Client, "Sequential", activitiesEach)))
            .ConfigureAwait(false);
        return Report(
            "in-memory",
            $"Sequential activities/s ({instances} instances × {activitiesEach})",
            instances * activitiesEach,
            watch.Elapsed,
            null,
            null,
            cpu);
    }

    private static async Task RunToCompletionAsync(WorkflowEngineClient client, string workflow, int n)
    {
        var id = await client.ScheduleNewAsync(workflow, n).ConfigureAwait(false);
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        Check(await client.WaitForCompletionAsync(id, cancellationToken: guard.Token).ConfigureAwait(false), n);
    }

    private static void Check(WorkflowMetadata result, int expected)
    {
        if (result.Status != WorkflowStatus.Completed || result.ReadOutputAs<int>() != expected)
        {
            throw new InvalidOperationException(
                $"Benchmark instance {result.InstanceId} ended {result.Status} with output {result.SerializedOutput}: "
                + $"{result.FailureDetails}");
        }
    }

    private static ScenarioResult Report(
        string store,
        string scenario,
        int items,
        TimeSpan elapsed,
        StorageRequestCounter? counter,
        StorageRequestSnapshot? before,
        TimeSpan? cpuBefore = null)
    {
        double? perItem = counter is not null && before is { } b ? (double)(counter.Snapshot() - b).Total / items : null;
        var result = new ScenarioResult(store, scenario, items, elapsed.TotalSeconds, perItem)
        {
            CpuMicrosecondsPerItem = cpuBefore is { } c ? (Environment.CpuUsage.TotalTime - c).TotalMicroseconds / items : null,
        };
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"  {scenario}: {items} in {elapsed.TotalSeconds:F2}s = {result.Rate:F0}/s{(perItem is { } p ? $", {p:F1} storage requests "
                    + "per item" : string.Empty)}"));
        return result;
    }
}
