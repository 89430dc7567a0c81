using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Runtime.Tests.Port;

/// <summary>
/// The workflow port (context and client members) and <see cref="WorkflowEngine.WaitForIdleAsync"/>, run on every
/// store: a concrete subclass per store supplies it. Time is fake throughout.
/// </summary>
public abstract partial class EnginePortTests
{
    protected abstract Task<IWorkflowStore> CreateStoreAsync(TimeProvider timeProvider);

    private async Task<EngineHarness> StartAsync(
        Action<WorkflowRegistry> register,
        Func<WorkflowEngineOptions, WorkflowEngineOptions>? configure = null)
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var store = await CreateStoreAsync(time);
        return await EngineHarness.StartAsync(
            store, time, register, o => (configure?.Invoke(o) ?? o) with { IdlePollInterval = TimeSpan.FromMilliseconds(20) });
    }

    private static async Task WaitForIdleAsync(EngineHarness harness)
    {
        using var guard = new CancellationTokenSource(EngineHarness.HangGuard);
        await harness.Engine.WaitForIdleAsync(guard.Token);
    }

    [Fact]
    public async Task WaitForIdle_ReturnsOnceWorkflowsAwaitEventsAndFutureTimers_AfterRunningTheirActivities()
    {
        var sideEffects = 0;
        await using var harness = await StartAsync(r => r
            .AddActivity<int, int>("Record", (_, x) => Task.FromResult(Interlocked.Increment(ref sideEffects) + x * 0))
            .AddWorkflow<string, string>("AwaitApproval", async (ctx, _) =>
            {
                for (var i = 0; i < 3; i++)
                {
                    await ctx.CallActivityAsync<int>("Record", i);
                }

                return await ctx.WaitForExternalEvent<string>("Approved");
            })
            .AddWorkflow<string, string>("AwaitTimer", async (ctx, _) =>
            {
                await ctx.CallActivityAsync<int>("Record", 0);
                await ctx.CreateTimer(TimeSpan.FromDays(30), CancellationToken.None);
                return "fired";
            }));

        await harness.Client.ScheduleNewAsync("AwaitApproval", "dmp", "idle-approval");
        await harness.Client.ScheduleNewAsync("AwaitTimer", "dmp", "idle-timer");
        await WaitForIdleAsync(harness);

        Assert.Equal(4, sideEffects);
        var approval = (await harness.Client.GetInstanceAsync("idle-approval", getHistory: true))!;
        Assert.Equal(WorkflowStatus.Running, approval.Status);
        Assert.Equal(3, approval.History!.Count(e => e.EventType == HistoryEventType.TaskCompleted));
        var timer = (await harness.Client.GetInstanceAsync("idle-timer", getHistory: true))!;
        Assert.Equal(WorkflowStatus.Running, timer.Status);
        Assert.Contains(timer.History!, e => e.EventType == HistoryEventType.TimerCreated);
    }

    [Fact]
    public async Task WaitForIdle_AfterAnEventOrADueTimer_WaitsForTheWorkflowToProcessIt()
    {
        await using var harness = await StartAsync(r => r
            .AddWorkflow<string, string>("AwaitApproval", (ctx, _) => ctx.WaitForExternalEvent<string>("Approved"))
            .AddWorkflow<string, string>("AwaitTimer", async (ctx, _) =>
            {
                await ctx.CreateTimer(TimeSpan.FromDays(30), CancellationToken.None);
                return "fired";
            }));
        await harness.Client.ScheduleNewAsync("AwaitApproval", "dmp", "idle-event");
        await harness.Client.ScheduleNewAsync("AwaitTimer", "dmp", "idle-due");
        await WaitForIdleAsync(harness);

        await harness.Client.RaiseEventAsync("idle-event", "Approved", "yes");
        harness.FakeTime.Advance(TimeSpan.FromDays(30));
        await WaitForIdleAsync(harness);

        var approved = (await harness.Client.GetInstanceAsync("idle-event"))!;
        Assert.Equal(WorkflowStatus.Completed, approved.Status);
        Assert.Equal("yes", approved.ReadOutputAs<string>());
        Assert.Equal(WorkflowStatus.Completed, (await harness.Client.GetInstanceAsync("idle-due"))!.Status);
    }

    [Fact]
    public async Task WaitForIdle_OnAnEngineThatWasNotStarted_ThrowsWithTheFix()
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        await using var engine = new WorkflowEngine(await CreateStoreAsync(time), new WorkflowRegistry(), EngineHarness.TestOptions(time));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => engine.WaitForIdleAsync());

        Assert.Contains("StartAsync", error.Message, StringComparison.Ordinal);
    }
}
