using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Gardien.Functions.Durable;
using Gardien.Functions.Tests.Backend;
using Gardien.Runtime;
using Gardien.Runtime.AzureStorage;

namespace Gardien.Benchmarks.Engine;

/// <summary>
/// The same four scenarios on the Durable Task Framework's Azure Storage provider (the Durable Functions backend), on
/// the same Azurite, through the Functions app's adapter: 4 partitions, 32 concurrent activities, 1 s maximum polling,
/// ControlQueueBufferThreshold 256, extended sessions off and on. Prints our engine's rate over the backend's.
/// </summary>
internal static partial class EngineBenchmarkRunner
{
    private static async Task<List<ScenarioResult>> RunDurableTaskBackendAsync(string connectionString, Sizes sizes)
    {
        var results = new List<ScenarioResult>();
        foreach (var extendedSessions in new[] { false, true })
        {
            var name = extendedSessions ? "DTF Azure Storage, extended sessions" : "DTF Azure Storage";
            Console.WriteLine("== " + name + " on Azurite");
            var counter = new StorageRequestCounter();
            var timestamps = new ConcurrentQueue<(long Started, long Ended)>();
            var registry = BenchmarkRegistry(timestamps);
            await using var backend = await DtfAzureStorageBackend.StartAsync(
                connectionString,
                "Bench" + Guid.NewGuid().ToString("N")[..10],
                registry,
                _ => EmptyServices.Instance,
                extendedSessions,
                policy: counter).ConfigureAwait(false);
            var client = backend.Client;

            await RunToCompletionAsync(client, "Sequential", 5).ConfigureAwait(false);
            await RunToCompletionAsync(client, "FanOutFanIn", 10).ConfigureAwait(false);

            var before = counter.Snapshot();
            var cpu = Environment.CpuUsage.TotalTime;
            var watch = Stopwatch.StartNew();
            await RunToCompletionAsync(client, "Sequential", sizes.Sequential).ConfigureAwait(false);
            results.Add(
                Report(
                    name,
                    $"Sequential activities/s (1 instance, chain of {sizes.Sequential})",
                    sizes.Sequential,
                    watch.Elapsed,
                    counter,
                    before,
                    cpu));

            timestamps.Clear();
            before = counter.Snapshot();
            cpu = Environment.CpuUsage.TotalTime;
            var start = Stopwatch.GetTimestamp();
            await RunToCompletionAsync(client, "FanOutFanIn", sizes.FanOut).ConfigureAwait(false);
            var end = Stopwatch.GetTimestamp();
            var runs = timestamps.ToArray();
            results.Add(
                Report(
                    name,
                    $"Fan-out activities/s (1 instance, {sizes.FanOut} activities)",
                    sizes.FanOut,
                    Stopwatch.GetElapsedTime(start, runs.Max(r => r.Started)),
                    counter,
                    before,
                    cpu));
            results.Add(
                Report(
                    name,
                    $"Fan-in responses/s (1 instance, {sizes.FanOut} responses)",
                    sizes.FanOut,
                    Stopwatch.GetElapsedTime(runs.Min(r => r.Ended), end),
                    null,
                    null));

            before = counter.Snapshot();
            var id = await client.ScheduleNewAsync("Events", sizes.Events).ConfigureAwait(false);
            await client.WaitForStartAsync(id).ConfigureAwait(false);
            cpu = Environment.CpuUsage.TotalTime;
            watch.Restart();
            await Parallel.ForAsync(0, sizes.Events, new ParallelOptions { MaxDegreeOfParallelism = 8 },
                async (i, ct) => await client.RaiseEventAsync(id, "Tick", 1, ct).ConfigureAwait(false)).ConfigureAwait(false);
            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(10));
            Check(await client.WaitForCompletionAsync(id, cancellationToken: guard.Token).ConfigureAwait(false), sizes.Events);
            results.Add(
                Report(name, $"External events/s (1 instance, {sizes.Events} events)", sizes.Events, watch.Elapsed, counter, before, cpu));
        }

        return results;
    }

    /// <summary>Our Azure Storage store's rate over each backend run's, per scenario (above 1: ours is faster).</summary>
    private static void PrintBackendRatios(List<ScenarioResult> results)
    {
        var ours = results.Where(r => r.Store == "azurite").ToList();
        var backends = results.Where(r => r.Store.StartsWith("DTF", StringComparison.Ordinal)).ToList();
        if (ours.Count == 0 || backends.Count == 0)
        {
            return;
        }

        Console.WriteLine();
        Console.WriteLine(
            "| Scenario | Backend run | Our rate / backend rate | Storage requests per item (ours / backend) "
            + "| CPU µs per item (ours / backend) |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var b in backends)
        {
            var scenario = b.Scenario[..b.Scenario.IndexOf('(', StringComparison.Ordinal)];
            if (ours.FirstOrDefault(o => o.Scenario.StartsWith(scenario, StringComparison.Ordinal)) is not { } o)
            {
                continue;
            }

            Console.WriteLine(
                string.Create(CultureInfo.InvariantCulture, $"| {scenario.Trim()} | {b.Store} | {o.Rate / b.Rate:F1}× | ")
                + $"{Format(o.RequestsPerItem)} / {Format(b.RequestsPerItem)} | "
                + $"{Format(o.CpuMicrosecondsPerItem, "F0")} / {Format(b.CpuMicrosecondsPerItem, "F0")} |");
        }
    }

    private static string Format(double? value, string format = "F1") =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static WorkflowRegistry BenchmarkRegistry(ConcurrentQueue<(long Started, long Ended)> timestamps) => new WorkflowRegistry()
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

    private static async Task RunToCompletionAsync(DurableWorkflowClient client, string workflow, int n)
    {
        var id = await client.ScheduleNewAsync(workflow, n).ConfigureAwait(false);
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        Check(await client.WaitForCompletionAsync(id, cancellationToken: guard.Token).ConfigureAwait(false), n);
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static EmptyServices Instance { get; } = new();

        public object? GetService(Type serviceType) => null;
    }
}
