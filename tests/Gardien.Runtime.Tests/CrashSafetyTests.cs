using System.Collections.Concurrent;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Runtime.Tests;

/// <summary>
/// An engine dies (store unreachable from the k-th call on: nothing more is written, leases stay held) or is disposed
/// mid-flight; a fresh engine on the same store must finish every instance with the right output, and no activity
/// whose completion was persisted may run again.
/// </summary>
public sealed class CrashSafetyTests
{
    private const int Instances = 3;

    public static TheoryData<int> CrashPoints()
    {
        var points = new TheoryData<int>();
        foreach (var k in Enumerable.Range(0, 40).Select(i => i * 4))
        {
            points.Add(k);
        }

        return points;
    }

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public async Task EngineDyingAtStoreCallK_FreshEngineCompletesEverything_WithoutRerunningPersistedActivities(int crashAfterCalls)
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var inner = new InMemoryWorkflowStore(time);
        var dying = new DyingStore(inner, crashAfterCalls);
        var ledger = new SideEffectLedger(dying);
        var registry = Register(ledger);
        var client = new WorkflowEngineClient(inner, timeProvider: time, registry: registry);
        var ids = await ScheduleAsync(client);

        await using (var first = new WorkflowEngine(dying, registry, EngineHarness.TestOptions(time)))
        {
            await first.StartAsync();
            await EngineHarness.WaitUntilAsync(async () => dying.Crashed || await AllDoneAsync(client, ids), "crash or completion");
        }

        // Leases of the dead engine expire; a fresh engine takes over.
        time.Advance(EngineHarness.TestOptions(time).LockDuration + TimeSpan.FromMinutes(1));
        await using (var second = new WorkflowEngine(inner, registry, EngineHarness.TestOptions(time)))
        {
            await second.StartAsync();
            await AssertAllCompletedAsync(client, ids);
        }

        Assert.Empty(ledger.RerunsAfterPersistedCompletion);
        Assert.All(ledger.Runs.Values, runs => Assert.InRange(runs, 1, 2));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(12)]
    public async Task EngineDisposedAfterTheNthActivityStarted_FreshEngineCompletesEverything(int activitiesBeforeStop)
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var store = new InMemoryWorkflowStore(time);
        var observed = new ObservingStore(store);
        var ledger = new SideEffectLedger(observed);
        var registry = Register(ledger);
        var client = new WorkflowEngineClient(store, timeProvider: time, registry: registry);
        var ids = await ScheduleAsync(client);

        await using (var first = new WorkflowEngine(observed, registry, EngineHarness.TestOptions(time)))
        {
            await first.StartAsync();
            await EngineHarness.WaitUntilAsync(
                async () => ledger.TotalRuns >= activitiesBeforeStop || await AllDoneAsync(client, ids), "activities started");
        }

        await using (var second = new WorkflowEngine(observed, registry, EngineHarness.TestOptions(time)))
        {
            await second.StartAsync();
            await AssertAllCompletedAsync(client, ids);
        }

        Assert.Empty(ledger.RerunsAfterPersistedCompletion);
    }

    [Fact]
    public async Task TwoEnginesOnOneStore_CompleteEveryInstanceExactlyOnce()
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var store = new ObservingStore(new InMemoryWorkflowStore(time));
        var ledger = new SideEffectLedger(store);
        var registry = Register(ledger);
        var client = new WorkflowEngineClient(store, timeProvider: time, registry: registry);
        var ids = await ScheduleAsync(client, count: 8);

        await using var a = new WorkflowEngine(store, registry, EngineHarness.TestOptions(time));
        await using var b = new WorkflowEngine(store, registry, EngineHarness.TestOptions(time));
        await a.StartAsync();
        await b.StartAsync();
        await AssertAllCompletedAsync(client, ids);

        Assert.Empty(ledger.RerunsAfterPersistedCompletion);
        Assert.All(ledger.Runs.Values, runs => Assert.Equal(1, runs));
        foreach (var id in ids)
        {
            var history = (await client.GetInstanceAsync(id, getHistory: true))!.History!;
            Assert.Single(history, e => e.EventType == HistoryEventType.ExecutionCompleted);
        }
    }

    private static WorkflowRegistry Register(SideEffectLedger ledger) => new WorkflowRegistry()
        .AddActivity<string, string>("SideEffect", (ctx, s) => Task.FromResult(ledger.Run(ctx, s)))
        .AddWorkflow<int, int>("Child", async (ctx, n) =>
        {
            await ctx.CallActivityAsync<string>("SideEffect", $"child{n}-a");
            await ctx.CallActivityAsync<string>("SideEffect", $"child{n}-b");
            return n;
        })
        .AddWorkflow<int, string>("Provision", async (ctx, n) =>
        {
            var a = await ctx.CallActivityAsync<string>("SideEffect", $"{n}-a");
            var children = await Task.WhenAll(
                ctx.CallSubWorkflowAsync<int>("Child", (n * 10) + 1), ctx.CallSubWorkflowAsync<int>("Child", (n * 10) + 2));
            var approval = await ctx.WaitForExternalEvent<string>("Approve");
            var fanOut = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => ctx.CallActivityAsync<string>("SideEffect", $"{n}-f{i}")));
            return $"{a}|{children.Sum()}|{approval}|{string.Join(",", fanOut)}";
        });

    private static async Task<string[]> ScheduleAsync(WorkflowEngineClient client, int count = Instances)
    {
        var ids = new string[count];
        for (var n = 0; n < count; n++)
        {
            ids[n] = await client.ScheduleNewAsync("Provision", n, $"crash-{n}");
            await client.RaiseEventAsync(ids[n], "Approve", "dpo");
        }

        return ids;
    }

    private static async Task<bool> AllDoneAsync(WorkflowEngineClient client, string[] ids)
    {
        foreach (var id in ids)
        {
            if ((await client.GetInstanceAsync(id))?.IsCompleted != true)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task AssertAllCompletedAsync(WorkflowEngineClient client, string[] ids)
    {
        using var guard = new CancellationTokenSource(EngineHarness.HangGuard);
        for (var n = 0; n < ids.Length; n++)
        {
            var done = await client.WaitForCompletionAsync(ids[n], cancellationToken: guard.Token);
            Assert.Equal(WorkflowStatus.Completed, done.Status);
            Assert.Equal($"{n}-a|{(n * 20) + 3}|dpo|{n}-f0,{n}-f1,{n}-f2", done.ReadOutputAs<string>());
        }
    }

    /// <summary>Counts activity runs per idempotency key and flags runs of keys whose completion the store already persisted.</summary>
    private sealed class SideEffectLedger(IPersistedCompletions persisted)
    {
        public ConcurrentDictionary<string, int> Runs { get; } = new();

        public ConcurrentBag<string> RerunsAfterPersistedCompletion { get; } = [];

        public int TotalRuns => Runs.Values.Sum();

        public string Run(ActivityContext context, string input)
        {
            if (persisted.Contains(context.IdempotencyKey))
            {
                RerunsAfterPersistedCompletion.Add(context.IdempotencyKey);
            }

            Runs.AddOrUpdate(context.IdempotencyKey, 1, (_, n) => n + 1);
            return input;
        }
    }

    private interface IPersistedCompletions
    {
        bool Contains(string idempotencyKey);
    }

    /// <summary>Records every activity completion the inner store accepted.</summary>
    private class ObservingStore(IWorkflowStore inner) : DelegatingWorkflowStore(inner), IPersistedCompletions
    {
        private readonly ConcurrentDictionary<string, bool> _persisted = new();

        public bool Contains(string idempotencyKey) => _persisted.ContainsKey(idempotencyKey);

        public override async Task CompleteActivityWorkItemAsync(
            ActivityWorkItem workItem,
            WorkflowMessage response,
            CancellationToken cancellationToken = default)
        {
            await base.CompleteActivityWorkItemAsync(workItem, response, cancellationToken);
            _persisted[$"{workItem.Message.InstanceId}:{workItem.Message.ExecutionId}:{workItem.Message.Event.EventId}"] = true;
        }
    }

    /// <summary>Behaves like the process died at the k-th store call: that call and every later one never reach the store.</summary>
    private sealed class DyingStore(IWorkflowStore inner, int crashAfterCalls) : ObservingStore(inner)
    {
        private int _calls;

        public bool Crashed => Volatile.Read(ref _calls) > crashAfterCalls;

        public override Task<bool> CreateInstanceAsync(
            WorkflowInstanceState instance,
            WorkflowMessage executionStarted,
            CancellationToken cancellationToken = default) =>
            Gate(() => base.CreateInstanceAsync(instance, executionStarted, cancellationToken));

        public override Task SendMessageAsync(WorkflowMessage message, CancellationToken cancellationToken = default) =>
            Gate(() => base.SendMessageAsync(message, cancellationToken));

        public override async Task<WorkflowWorkItem?> LockNextWorkflowWorkItemAsync(
            TimeSpan lockDuration,
            TimeSpan receiveTimeout,
            CancellationToken cancellationToken)
        {
            var item = await Gate(() => base.LockNextWorkflowWorkItemAsync(lockDuration, receiveTimeout, cancellationToken));
            return Crashed ? throw Dead() : item;
        }

        public override Task CompleteWorkflowWorkItemAsync(
            WorkflowWorkItem workItem,
            WorkflowStepResult result,
            CancellationToken cancellationToken = default) =>
            Gate(() => base.CompleteWorkflowWorkItemAsync(workItem, result, cancellationToken));

        public override Task AbandonWorkflowWorkItemAsync(
            WorkflowWorkItem workItem,
            string? reason,
            TimeSpan retryDelay,
            CancellationToken cancellationToken = default) =>
            Gate(() => base.AbandonWorkflowWorkItemAsync(workItem, reason, retryDelay, cancellationToken));

        public override async Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(
            TimeSpan lockDuration,
            TimeSpan receiveTimeout,
            CancellationToken cancellationToken)
        {
            var item = await Gate(() => base.LockNextActivityWorkItemAsync(lockDuration, receiveTimeout, cancellationToken));
            return Crashed ? throw Dead() : item;
        }

        public override Task CompleteActivityWorkItemAsync(
            ActivityWorkItem workItem,
            WorkflowMessage response,
            CancellationToken cancellationToken = default) =>
            Gate(() => base.CompleteActivityWorkItemAsync(workItem, response, cancellationToken));

        public override Task AbandonActivityWorkItemAsync(
            ActivityWorkItem workItem,
            string? reason,
            TimeSpan retryDelay,
            CancellationToken cancellationToken = default) =>
            Gate(() => base.AbandonActivityWorkItemAsync(workItem, reason, retryDelay, cancellationToken));

        public override Task RenewActivityWorkItemAsync(
            ActivityWorkItem workItem,
            TimeSpan lockDuration,
            CancellationToken cancellationToken = default) =>
            Gate(() => base.RenewActivityWorkItemAsync(workItem, lockDuration, cancellationToken));

        private Task<T> Gate<T>(Func<Task<T>> call) =>
            Interlocked.Increment(ref _calls) > crashAfterCalls ? Task.FromException<T>(Dead()) : call();

        private Task Gate(Func<Task> call) => Interlocked.Increment(ref _calls) > crashAfterCalls ? Task.FromException(Dead()) : call();

        private static IOException Dead() => new("The store is unreachable: simulated process death.");
    }
}
