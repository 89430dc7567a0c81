using Gardien.Runtime.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Runtime.Tests;

/// <summary>Durable timers on a fake clock: nothing waits for real time.</summary>
public sealed class FakeTimeTests
{
    [Fact]
    public async Task NinetyDayWait_CompletesAsSoonAsFakeTimeAdvances()
    {
        await using var harness = await EngineHarness.StartFakeTimeAsync(r => r.AddWorkflow<string, DateTime>("Retention", async (ctx, _) =>
        {
            await ctx.CreateTimer(TimeSpan.FromDays(90), CancellationToken.None);
            return ctx.CurrentUtcDateTime;
        }));
        var id = await harness.Client.ScheduleNewAsync("Retention", "x", "retention-1");
        await harness.WaitForHistoryAsync(id, HistoryEventType.TimerCreated);
        Assert.Equal(WorkflowStatus.Running, (await harness.Client.GetInstanceAsync(id))!.Status);

        harness.FakeTime.Advance(TimeSpan.FromDays(90));
        var done = await harness.CompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(EngineHarness.Epoch.UtcDateTime.AddDays(90), done.ReadOutputAs<DateTime>());
    }

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
        Assert.Single((await harness.Client.GetInstanceAsync(id, getHistory: true))!.History!, e => e.EventType == HistoryEventType.TimerFired);
    }

    [Fact]
    public async Task RetryPolicy_WaitsBackoffIntervalsOnDurableTimers_CappedAtMaxInterval()
    {
        var attempts = 0;
        await using var harness = await EngineHarness.StartFakeTimeAsync(r => r
            .AddActivity<string, int>("Flaky", (_, _) => Interlocked.Increment(ref attempts) <= 3 ? throw new IOException("transient") : Task.FromResult(attempts))
            .AddWorkflow<string, int>("Retrier", (ctx, _) =>
                ctx.CallActivityAsync<int>("Flaky", null, new RetryPolicy(5, TimeSpan.FromSeconds(10), 2.0, TimeSpan.FromSeconds(15)))));
        var id = await harness.Client.ScheduleNewAsync("Retrier", "x", "retry-1");

        var expectedDelays = new[] { TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15) };
        for (var i = 0; i < expectedDelays.Length; i++)
        {
            await harness.WaitForHistoryAsync(id, HistoryEventType.TimerCreated, i + 1);
            Assert.Equal(i + 1, attempts);
            harness.FakeTime.Advance(expectedDelays[i]);
        }

        var done = await harness.CompletionAsync(id);

        Assert.Equal(4, done.ReadOutputAs<int>());
        var history = (await harness.Client.GetInstanceAsync(id, getHistory: true))!.History!;
        var timers = history.Where(e => e.EventType == HistoryEventType.TimerCreated).Select(e => e.FireAt!.Value - e.Timestamp);
        Assert.Equal(expectedDelays, timers);
        Assert.Equal(4, history.Count(e => e.EventType == HistoryEventType.TaskScheduled));
    }

    [Fact]
    public async Task WaitForExternalEventWithTimeout_TimesOutWhenFakeTimePassesTheTimeout()
    {
        await using var harness = await EngineHarness.StartFakeTimeAsync(r => r.AddWorkflow<string, string>("Approval", async (ctx, _) =>
        {
            try
            {
                return await ctx.WaitForExternalEvent<string>("DpoApproval", TimeSpan.FromDays(14));
            }
            catch (TimeoutException ex)
            {
                return ex.Message;
            }
        }));
        var id = await harness.Client.ScheduleNewAsync("Approval", "x", "approval-1");
        await harness.WaitForHistoryAsync(id, HistoryEventType.TimerCreated);

        harness.FakeTime.Advance(TimeSpan.FromDays(14));
        var done = await harness.CompletionAsync(id);

        Assert.Contains("did not receive event 'DpoApproval'", done.ReadOutputAs<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DelayedStart_RunsAtItsStartTime_AndReceivesEventsRaisedBefore()
    {
        await using var harness = await EngineHarness.StartFakeTimeAsync(r => r.AddWorkflow<string, string>("Later", async (ctx, s) =>
            s + ":" + await ctx.WaitForExternalEvent<string>("Early") + "@" + ctx.CurrentUtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
        var startAt = EngineHarness.Epoch.AddDays(2);

        var id = await harness.Client.ScheduleNewAsync("Later", "start", "later-1", startAt);
        await harness.Client.RaiseEventAsync(id, "Early", "queued");
        Assert.Equal(WorkflowStatus.Pending, (await harness.Client.GetInstanceAsync(id))!.Status);
        harness.FakeTime.Advance(TimeSpan.FromDays(2));
        await EngineHarness.WaitUntilAsync(
            async () =>
            {
                harness.FakeTime.Advance(TimeSpan.FromSeconds(1));
                return (await harness.Client.GetInstanceAsync(id))!.Status == WorkflowStatus.Completed;
            },
            "delayed instance completes");

        var done = await harness.Client.GetInstanceAsync(id);
        Assert.StartsWith("start:queued@", done!.ReadOutputAs<string>(), StringComparison.Ordinal);
        Assert.True(DateTime.Parse(done.ReadOutputAs<string>()!.Split('@')[1], System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime() >= startAt.UtcDateTime);
    }

    private sealed class WeekCappedStore(IWorkflowStore inner) : DelegatingWorkflowStore(inner)
    {
        private int _reArmed;

        public int ReArmed => Volatile.Read(ref _reArmed);

        public override TimeSpan? MaxMessageDelay => TimeSpan.FromDays(7);

        public override async Task CompleteWorkflowWorkItemAsync(WorkflowWorkItem workItem, WorkflowStepResult result, CancellationToken cancellationToken = default)
        {
            var timers = result.WorkflowMessages.Count(m => m.Event.EventType == HistoryEventType.TimerFired);
            var created = result.NewHistory.Count(e => e.EventType == HistoryEventType.TimerCreated);
            await base.CompleteWorkflowWorkItemAsync(workItem, result, cancellationToken);
            Interlocked.Add(ref _reArmed, timers - created);
        }
    }
}
