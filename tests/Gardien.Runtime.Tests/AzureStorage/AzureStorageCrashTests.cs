using System.Collections.Concurrent;
using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Engine;
using Gardien.Testing;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>
/// An engine disposed mid-flight at many points, then a fresh engine and store object (a new process, as far as
/// the store can tell) on the same task hub: every instance completes with the right output, and no activity whose
/// completion was persisted in history before the crash runs again.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStorageCrashTests(AzuriteFixture fixture)
{
    private const int Instances = 3;

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(9)]
    [InlineData(15)]
    [InlineData(19)]
    public async Task EngineDisposedAfterNActivities_FreshEngineCompletesAll_WithoutRerunningPersistedActivities(int crashAfter)
    {
        var options = AzureStoreTestHubs.Options(fixture);
        var executions = new ConcurrentDictionary<(string Instance, int Task), int>();
        var executed = 0;
        var crashPoint = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Register(WorkflowRegistry registry) => registry
            .AddActivity<int, int>("Step", (ctx, x) =>
            {
                executions.AddOrUpdate((ctx.InstanceId, ctx.TaskId), 1, (_, n) => n + 1);
                if (Interlocked.Increment(ref executed) == crashAfter)
                {
                    crashPoint.TrySetResult();
                }

                return Task.FromResult(x + 1);
            })
            .AddWorkflow<int, int>("Mixed", async (ctx, x) =>
            {
                for (var i = 0; i < 3; i++)
                {
                    x = await ctx.CallActivityAsync<int>("Step", x);
                }

                var fan = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => ctx.CallActivityAsync<int>("Step", i)));
                return x + fan.Sum();
            });
        var ids = Enumerable.Range(0, Instances).Select(i => $"crash-{crashAfter}-{i}").ToList();
        await CrashThenRestartAsync(options, Register, "Mixed", 100, ids, crashPoint.Task, executions, 103 + 10);
        Assert.Equal(Instances * 7, executions.Count);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    [InlineData(75)]
    public async Task EngineDisposedDuringWideFanOuts_FreshEngineCompletesAll_WithoutRerunningPersistedActivities(int crashAfter)
    {
        // 45 activities per instance: a pack of 32 and one of 13, shared by several workers and cut at various points.
        const int width = 45;
        var options = AzureStoreTestHubs.Options(fixture);
        var executions = new ConcurrentDictionary<(string Instance, int Task), int>();
        var executed = 0;
        var crashPoint = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Register(WorkflowRegistry registry) => registry
            .AddActivity<int, int>("Cell", async (ctx, x) =>
            {
                executions.AddOrUpdate((ctx.InstanceId, ctx.TaskId), 1, (_, n) => n + 1);
                if (Interlocked.Increment(ref executed) == crashAfter)
                {
                    crashPoint.TrySetResult();
                }

                await Task.Yield();
                return x;
            })
            .AddWorkflow<int, int>("Wide", async (ctx, _) =>
            {
                var cells = await Task.WhenAll(Enumerable.Range(0, width).Select(i => ctx.CallActivityAsync<int>("Cell", i)));
                return cells.Sum();
            });
        var ids = new[] { $"wide-{crashAfter}-a", $"wide-{crashAfter}-b" };

        // Copies left by the crash (a pack whose lease was still running, singles moved out of it) come back after
        // the instances completed: they replay persisted outcomes, run nothing, and are consumed.
        await CrashThenRestartAsync(
            options, Register, "Wide", 0, ids, crashPoint.Task, executions, Enumerable.Range(0, width).Sum(), store =>
            EngineHarness.WaitUntilAsync(
                async () => (await store.Clients.WorkItems.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0,
                "the work-item queue to drain"));
        Assert.Equal(ids.Length * width, executions.Count);
    }

    [Fact]
    public async Task TwoEnginesWithTheirOwnStoreObjectsOnOneHub_CompleteEveryInstanceExactlyOnce()
    {
        var options = AzureStoreTestHubs.Options(fixture);
        var executions = new ConcurrentDictionary<(string Instance, int Task), int>();
        void Register(WorkflowRegistry registry) => registry
            .AddActivity<int, int>("Step", (ctx, x) =>
            {
                executions.AddOrUpdate((ctx.InstanceId, ctx.TaskId), 1, (_, n) => n + 1);
                return Task.FromResult(x + 1);
            })
            .AddWorkflow<int, int>("Mixed", async (ctx, x) =>
            {
                x = await ctx.CallActivityAsync<int>("Step", x);
                var fan = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => ctx.CallActivityAsync<int>("Step", i)));
                return x + fan.Sum();
            });

        await using var a = await EngineHarness.StartAsync(new AzureStorageWorkflowStore(options), TimeProvider.System, Register);
        await using var b = await EngineHarness.StartAsync(new AzureStorageWorkflowStore(options), TimeProvider.System, Register);
        var ids = Enumerable.Range(0, 6).Select(i => $"pair-{i}").ToList();
        foreach (var id in ids)
        {
            await (ids.IndexOf(id) % 2 == 0 ? a : b).Client.ScheduleNewAsync("Mixed", 100, id);
        }

        foreach (var id in ids)
        {
            var result = await a.CompletionAsync(id);
            Assert.Equal(WorkflowStatus.Completed, result.Status);
            Assert.Equal(101 + 10, result.ReadOutputAs<int>());
            var history = (await b.Client.GetInstanceAsync(id, getHistory: true))!.History!;
            Assert.Single(history, e => e.EventType == HistoryEventType.ExecutionCompleted);
            Assert.Equal(5, history.Count(e => e.EventType == HistoryEventType.TaskCompleted));
        }

        Assert.Equal(ids.Count * 5, executions.Count);
        Assert.All(executions.Values, runs => Assert.Equal(1, runs));
    }

    /// <summary>
    /// Starts the instances on a first engine, disposes it (with its store object) once the crash point is reached,
    /// then runs a fresh engine and store object on the same hub to completion: every instance ends Completed with
    /// <paramref name="expectedOutput"/> and no activity whose outcome was in history at the crash ran again.
    /// </summary>
    private static async Task CrashThenRestartAsync(
        AzureStorageStoreOptions options,
        Action<WorkflowRegistry> register,
        string workflow,
        int input,
        IReadOnlyList<string> ids,
        Task crashPoint,
        ConcurrentDictionary<(string Instance, int Task), int> executions,
        int expectedOutput,
        Func<AzureStorageWorkflowStore, Task>? afterCompletion = null)
    {
        static WorkflowEngineOptions Short(WorkflowEngineOptions o) => o with { LockDuration = TimeSpan.FromSeconds(5) };

        var firstStore = new AzureStorageWorkflowStore(options);
        var first = await EngineHarness.StartAsync(firstStore, TimeProvider.System, register, Short);
        foreach (var id in ids)
        {
            await first.Client.ScheduleNewAsync(workflow, input, id);
        }

        await crashPoint.WaitAsync(EngineHarness.HangGuard);
        await first.DisposeAsync();
        await firstStore.DisposeAsync();

        var secondStore = new AzureStorageWorkflowStore(options);
        var persisted = new HashSet<(string, int)>();
        foreach (var id in ids)
        {
            foreach (var completed in (await secondStore.GetHistoryAsync(id)).Where(e => e.EventType == HistoryEventType.TaskCompleted))
            {
                persisted.Add((id, completed.TaskScheduledId));
            }
        }

        var countsAtCrash = executions.ToDictionary(e => e.Key, e => e.Value);
        await using var second = await EngineHarness.StartAsync(secondStore, TimeProvider.System, register, Short);
        foreach (var id in ids)
        {
            var result = await second.CompletionAsync(id);
            Assert.Equal(WorkflowStatus.Completed, result.Status);
            Assert.Equal(expectedOutput, result.ReadOutputAs<int>());
        }

        if (afterCompletion is not null)
        {
            await afterCompletion(secondStore);
        }

        Assert.All(persisted, key => Assert.Equal(countsAtCrash[key], executions[key]));
    }
}
