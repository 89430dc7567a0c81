using Gardien.Runtime.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Runtime.Tests;

/// <summary>Durable timers on a fake clock: nothing waits for real time.</summary>
public sealed class FakeTimeTests
{
    [Fact]
    public async Task TimerLongerThanTheStoreMaxDelay_IsReArmedInHopsAndFiresOnlyAtItsTime()
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var store = new WeekCappedStore(new InMemoryWorkflowStore(time));
        await using var harness = await EngineHarness.StartAsync(store, time, r => r.AddWorkflow<string, string>("Long", async (ctx, _) =>
        {
            await ctx.CreateTimer(TimeSpan.FromDays(20), CancellationToken.None);
            return "fired";
        }));
        var id = await harness.Client.ScheduleNewAsync("Long", "x", "long-1");
        await harness.WaitForHistoryAsync(id, HistoryEventType.TimerCreated);

        for (var hop = 1; hop <= 2; hop++)
        {
            time.Advance(TimeSpan.FromDays(7));
            var expected = hop;
            await EngineHarness.WaitUntilAsync(() => Task.FromResult(store.ReArmed >= expected), $"re-arm #{hop}");
            Assert.Equal(WorkflowStatus.Running, (await harness.Client.GetInstanceAsync(id))!.Status);
        }

        time.Advance(TimeSpan.FromDays(6));
        var done = await harness.CompletionAsync(id);

        Assert.Equal("fired", done.ReadOutputAs<string>());
        Assert.Equal(2, store.ReArmed);
        Assert.Single(
            (await harness.Client.GetInstanceAsync(id, getHistory: true))!.History!, e => e.EventType == HistoryEventType.TimerFired);
    }

    private sealed class WeekCappedStore(IWorkflowStore inner) : DelegatingWorkflowStore(inner)
    {
        private int _reArmed;

        public int ReArmed => Volatile.Read(ref _reArmed);

        public override TimeSpan? MaxMessageDelay => TimeSpan.FromDays(7);

        public override async Task CompleteWorkflowWorkItemAsync(
            WorkflowWorkItem workItem,
            WorkflowStepResult result,
            CancellationToken cancellationToken = default)
        {
            var timers = result.WorkflowMessages.Count(m => m.Event.EventType == HistoryEventType.TimerFired);
            var created = result.NewHistory.Count(e => e.EventType == HistoryEventType.TimerCreated);
            await base.CompleteWorkflowWorkItemAsync(workItem, result, cancellationToken);
            Interlocked.Add(ref _reArmed, timers - created);
        }
    }
}
