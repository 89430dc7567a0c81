using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Runtime.Tests.Port;

/// <summary>Replay, versioning, fake-time timers, retries, poison messages and large payloads, on every store.</summary>
public abstract partial class EnginePortTests
{
    [Fact]
    public async Task ChangedWorkflowCode_FailsTheInstanceWithANonDeterminismErrorNamingTheStepAndBothActions()
    {
        var callB = false;
        await using var harness = await StartAsync(r => r
            .AddActivity<string, string>("ProvisionStorage", (_, s) => Task.FromResult(s))
            .AddActivity<string, string>("GrantAccess", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string>("Governance", async (ctx, s) =>
            {
                await ctx.CallActivityAsync<string>(callB ? "GrantAccess" : "ProvisionStorage", s);
                return await ctx.WaitForExternalEvent<string>("Approved");
            }));
        var id = await harness.Client.ScheduleNewAsync("Governance", "plan-1", "nd-1");
        await harness.WaitForHistoryAsync(id, HistoryEventType.TaskCompleted);

        // A deployment of changed code: the new process replays the history with it.
        callB = true;
        await harness.RestartAsync();
        await harness.Client.RaiseEventAsync(id, "Approved", "yes");
        var done = await harness.CompletionAsync(id);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(typeof(WorkflowNonDeterminismException).FullName, done.FailureDetails!.ErrorType);
        Assert.Contains("step #0", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("CallActivityAsync(\"ProvisionStorage\")", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("CallActivityAsync(\"GrantAccess\")", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkflowThatStopsTakingARecordedAction_IsDetectedAsNonDeterministic()
    {
        var skipTimer = false;
        await using var harness = await StartAsync(r => r.AddWorkflow<string, string>("Flow", async (ctx, _) =>
        {
            if (!skipTimer)
            {
                await ctx.CreateTimer(TimeSpan.FromHours(1), CancellationToken.None);
            }

            return await ctx.WaitForExternalEvent<string>("Go");
        }));
        var id = await harness.Client.ScheduleNewAsync("Flow", "x", "nd-2");
        await harness.WaitForHistoryAsync(id, HistoryEventType.TimerCreated);

        skipTimer = true;
        await harness.RestartAsync();
        await harness.Client.RaiseEventAsync(id, "Go", "now");
        var done = await harness.CompletionAsync(id);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(typeof(WorkflowNonDeterminismException).FullName, done.FailureDetails!.ErrorType);
        Assert.Contains("did not take any action #0", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    public async Task CachedAndReplayedExecutions_ProduceTheSameHistoryAndOutput(int maxCachedExecutions)
    {
        await using var harness = await StartAsync(
            r => r
                .AddActivity<int, int>("Double", (_, x) => Task.FromResult(x * 2))
                .AddWorkflow<int, string>("Mixed", async (ctx, x) =>
                {
                    var guid = ctx.NewGuid();
                    x = await ctx.CallActivityAsync<int>("Double", x);
                    var fan = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => ctx.CallActivityAsync<int>("Double", i)));
                    ctx.SetCustomStatus(new { x, replaying = ctx.IsReplaying });
                    var approval = await ctx.WaitForExternalEvent<string>("Approve");
                    await ctx.CreateTimer(TimeSpan.FromHours(1), CancellationToken.None);
                    return $"{x}|{fan.Sum()}|{approval}|{guid == ctx.NewGuid()}";
                }),
            o => o with { MaxCachedExecutions = maxCachedExecutions });
        var id = await harness.Client.ScheduleNewAsync("Mixed", 5, "cache-" + maxCachedExecutions);
        await WaitForIdleAsync(harness);
        await harness.Client.RaiseEventAsync(id, "Approve", "ok");
        await harness.WaitForHistoryAsync(id, HistoryEventType.TimerCreated);
        harness.FakeTime.Advance(TimeSpan.FromHours(1));
        var done = await harness.CompletionAsync(id);

        Assert.Equal("10|12|ok|False", done.ReadOutputAs<string>());
        var history = (await harness.Client.GetInstanceAsync(id, getHistory: true))!.History!;
        Assert.Equal(
            [
                HistoryEventType.TaskScheduled,
                HistoryEventType.TaskScheduled,
                HistoryEventType.TaskScheduled,
                HistoryEventType.TaskScheduled,
                HistoryEventType.TimerCreated,
            ],
            history.Where(e => e.EventType is HistoryEventType.TaskScheduled or HistoryEventType.TimerCreated).Select(e => e.EventType));
        Assert.Equal(
            Enumerable.Range(0, 5),
            history.Where(e => e.EventId >= 0 && e.EventType is HistoryEventType.TaskScheduled or HistoryEventType.TimerCreated)
                .Select(e => e.EventId));
    }

    [Fact]
    public async Task ExecutionCache_ResumesTheSuspendedCode_WithoutReplayingEarlierSteps()
    {
        var starts = 0;
        await using var harness = await StartAsync(r => r
            .AddActivity<string, string>("Echo", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, List<bool>>("Observer", async (ctx, _) =>
            {
                Interlocked.Increment(ref starts);
                var seen = new List<bool> { ctx.IsReplaying };
                await ctx.CallActivityAsync<string>("Echo", "a");
                seen.Add(ctx.IsReplaying);
                await ctx.CallActivityAsync<string>("Echo", "b");
                seen.Add(ctx.IsReplaying);
                return seen;
            }));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Observer", "x", "cache-resume"));

        Assert.Equal([false, false, false], done.ReadOutputAs<List<bool>>());
        Assert.Equal(1, starts);
    }

    [Fact]
    public async Task RunningInstances_KeepReplayingTheirVersion_WhileNewInstancesStartOnTheLatest()
    {
        await using var harness = await StartAsync(r => r.AddWorkflow<string, string>(
            "Intake", async (ctx, _) => "v1:" + await ctx.WaitForExternalEvent<string>("Go"), version: "1"));
        var old = await harness.Client.ScheduleNewAsync("Intake", "x", "intake-old");
        await harness.Client.WaitForStartAsync(old);

        // Deploy v2 next to v1 (an incompatible change: it calls an activity first).
        harness.Registry
            .AddActivity<string, string>("Check", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string>(
                "Intake",
                async (ctx, s) => "v2:" + await ctx.CallActivityAsync<string>("Check", s) + await ctx.WaitForExternalEvent<string>("Go"),
                version: "2");
        await harness.RestartAsync(o => o with { IdlePollInterval = TimeSpan.FromMilliseconds(20) });
        var fresh = await harness.Client.ScheduleNewAsync("Intake", "y", "intake-new");
        await harness.Client.WaitForStartAsync(fresh);
        await harness.Client.RaiseEventAsync(old, "Go", "!");
        await harness.Client.RaiseEventAsync(fresh, "Go", "!");

        var oldDone = await harness.CompletionAsync(old);
        var freshDone = await harness.CompletionAsync(fresh);
        Assert.Equal(("1", "v1:!"), (oldDone.Version, oldDone.ReadOutputAs<string>()));
        Assert.Equal(("2", "v2:y!"), (freshDone.Version, freshDone.ReadOutputAs<string>()));
    }

    [Fact]
    public async Task ReplaySafeLogger_WritesEachMessageOnceDespiteReplays()
    {
        var logged = new List<string>();
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var registry = new WorkflowRegistry()
            .AddActivity<int, int>("Step", (_, x) => Task.FromResult(x))
            .AddWorkflow<int, int>("Chatty", async (ctx, n) =>
            {
                var log = ctx.CreateReplaySafeLogger("Chatty");
                for (var i = 0; i < n; i++)
                {
                    log.LogInformation("step {Step}", i);
                    await ctx.CallActivityAsync<int>("Step", i);
                }

                return n;
            });
        await using var engine = new WorkflowEngine(
            await CreateStoreAsync(time), registry, EngineHarness.TestOptions(time), new ListLoggerFactory(logged));
        await engine.StartAsync();

        var id = await engine.Client.ScheduleNewAsync("Chatty", 4, "log-1");
        using var guard = new CancellationTokenSource(EngineHarness.HangGuard);
        await engine.Client.WaitForCompletionAsync(id, cancellationToken: guard.Token);

        lock (logged)
        {
            Assert.Equal(["step 0", "step 1", "step 2", "step 3"], logged.Where(l => l.StartsWith("step", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task NinetyDayWait_CompletesAsSoonAsFakeTimeAdvances()
    {
        await using var harness = await StartAsync(r => r.AddWorkflow<string, DateTime>("Retention", async (ctx, _) =>
        {
            await ctx.CreateTimer(TimeSpan.FromDays(90), CancellationToken.None);
            return ctx.CurrentUtcDateTime;
        }));
        var id = await harness.Client.ScheduleNewAsync("Retention", "x", "retention-1");
        await harness.WaitForHistoryAsync(id, HistoryEventType.TimerCreated);
        await WaitForIdleAsync(harness);
        Assert.Equal(WorkflowStatus.Running, (await harness.Client.GetInstanceAsync(id))!.Status);

        harness.FakeTime.Advance(TimeSpan.FromDays(90));
        var done = await harness.CompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(EngineHarness.Epoch.UtcDateTime.AddDays(90), done.ReadOutputAs<DateTime>());
    }

    [Fact]
    public async Task RetryPolicy_WaitsBackoffIntervalsOnDurableTimers_CappedAtMaxInterval()
    {
        var attempts = 0;
        await using var harness = await StartAsync(r => r
            .AddActivity<string, int>(
                "Flaky",
                (_, _) => Interlocked.Increment(ref attempts) <= 3 ? throw new IOException("transient") : Task.FromResult(attempts))
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
    public async Task WaitForExternalEventWithTimeout_ThrowsTimeoutExceptionWhenFakeTimePassesTheTimeout()
    {
        await using var harness = await StartAsync(r => r.AddWorkflow<string, string>("Approval", async (ctx, _) =>
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
        await using var harness = await StartAsync(r => r.AddWorkflow<string, string>("Later", async (ctx, s) =>
            s
                + ":"
                + await ctx.WaitForExternalEvent<string>("Early")
                + "@"
                + ctx.CurrentUtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
        var startAt = EngineHarness.Epoch.AddDays(2);

        var id = await harness.Client.ScheduleNewAsync("Later", "start", "later-1", startAt);
        await harness.Client.RaiseEventAsync(id, "Early", "queued");
        await WaitForIdleAsync(harness);
        Assert.Equal(WorkflowStatus.Pending, (await harness.Client.GetInstanceAsync(id))!.Status);

        harness.FakeTime.Advance(TimeSpan.FromDays(2));
        var done = await harness.CompletionAsync(id);

        Assert.StartsWith("start:queued@", done.ReadOutputAs<string>(), StringComparison.Ordinal);
        Assert.True(
            DateTime.Parse(done.ReadOutputAs<string>()!.Split('@')[1], System.Globalization.CultureInfo.InvariantCulture)
                .ToUniversalTime() >= startAt.UtcDateTime);
    }

    [Fact]
    public async Task NonGenericActivityAndSubWorkflowCalls_AwaitCompletion()
    {
        var recorded = new List<string>();
        await using var harness = await StartAsync(r => r
            .AddActivity<string, string>("Record", (_, s) =>
            {
                lock (recorded)
                {
                    recorded.Add(s);
                }

                return Task.FromResult(s);
            })
            .AddWorkflow<string, string>("ChildRecorder", async (ctx, s) =>
            {
                await ctx.CallActivityAsync("Record", "child:" + s);
                return s;
            })
            .AddWorkflow<string, string>("Parent", async (ctx, s) =>
            {
                await ctx.CallActivityAsync("Record", "parent:" + s);
                await ctx.CallSubWorkflowAsync("ChildRecorder", s, instanceId: ctx.InstanceId + ":child");
                return "done";
            }));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Parent", "x", "nongeneric-1"));

        Assert.Equal("done", done.ReadOutputAs<string>());
        Assert.Equal(["parent:x", "child:x"], recorded);
        Assert.Equal("nongeneric-1", (await harness.Client.GetInstanceAsync("nongeneric-1:child"))!.ParentInstanceId);
    }

    [Fact]
    public async Task PayloadsOver45KB_RoundTripAsInputOutputActivityResultAndEvent()
    {
        var big = new string('é', 30_000) + new string('x', 30_000);
        await using var harness = await StartAsync(r => r
            .AddActivity<string, string>("Echo", (_, s) => Task.FromResult(s + "!"))
            .AddWorkflow<string, string>("Large", async (ctx, s) =>
            {
                var echoed = await ctx.CallActivityAsync<string>("Echo", s);
                ctx.SetCustomStatus(new { length = echoed.Length });
                var evt = await ctx.WaitForExternalEvent<string>("Big");
                return echoed + evt;
            }));

        var id = await harness.Client.ScheduleNewAsync("Large", big, "large-1");
        await harness.Client.RaiseEventAsync(id, "Big", big);
        var done = await harness.CompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(big, done.ReadInputAs<string>());
        Assert.Equal(big + "!" + big, done.ReadOutputAs<string>());
        var history = (await harness.Client.GetInstanceAsync(id, getHistory: true))!.History!;
        Assert.Equal(
            big + "!",
            JsonWorkflowSerializer.Default.Deserialize<string>(history.Single(e => e.EventType == HistoryEventType.TaskCompleted).Result));
    }

    [Fact]
    public async Task StepThatNeverCommits_FailsTheInstanceWithThePoisonReason_InsteadOfLoopingForever()
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var store = new FailingStepStore(await CreateStoreAsync(time), "poison-step");
        await using var harness = await EngineHarness.StartAsync(
            store, time, r => r.AddWorkflow<string, string>("Any", (_, s) => Task.FromResult(s)));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Any", "x", "poison-step"));

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal("Gardien.Runtime.PoisonMessage", done.FailureDetails!.ErrorType);
        Assert.Contains("delivered 6 times", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("disk full (injected)", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(5, store.Failures);
    }

    [Fact]
    public async Task ActivityWhoseCompletionNeverCommits_FailsAfterMaxDequeueCount()
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var store = new FailingActivityCompletionStore(await CreateStoreAsync(time));
        var runs = 0;
        await using var harness = await EngineHarness.StartAsync(store, time, r => r
            .AddActivity<string, string>("Grant", (_, s) =>
            {
                Interlocked.Increment(ref runs);
                return Task.FromResult(s);
            })
            .AddWorkflow<string, string>("Granter", (ctx, s) => ctx.CallActivityAsync<string>("Grant", s)));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Granter", "x", "poison-activity"));

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal("Gardien.Runtime.PoisonMessage", done.FailureDetails!.InnerFailure!.ErrorType);
        Assert.Contains("queue unavailable (injected)", done.FailureDetails.InnerFailure.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(5, runs);
    }

    private sealed class FailingStepStore(IWorkflowStore inner, string instanceId) : DelegatingWorkflowStore(inner)
    {
        private int _failures;

        public int Failures => Volatile.Read(ref _failures);

        public override Task CompleteWorkflowWorkItemAsync(
            WorkflowWorkItem workItem,
            WorkflowStepResult result,
            CancellationToken cancellationToken = default)
        {
            if (workItem.InstanceId == instanceId && result.State?.Status != WorkflowStatus.Failed)
            {
                Interlocked.Increment(ref _failures);
                throw new IOException("disk full (injected)");
            }

            return base.CompleteWorkflowWorkItemAsync(workItem, result, cancellationToken);
        }
    }

    private sealed class FailingActivityCompletionStore(IWorkflowStore inner) : DelegatingWorkflowStore(inner)
    {
        public override Task CompleteActivityWorkItemAsync(
            ActivityWorkItem workItem,
            WorkflowMessage response,
            CancellationToken cancellationToken = default) =>
            response.Event.EventType == HistoryEventType.TaskCompleted
                ? throw new IOException("queue unavailable (injected)")
                : base.CompleteActivityWorkItemAsync(workItem, response, cancellationToken);
    }

    private sealed class ListLoggerFactory(List<string> sink) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => new ListLogger(sink);

        public void Dispose()
        {
        }
    }

    private sealed class ListLogger(List<string> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            lock (sink)
            {
                sink.Add(formatter(state, exception));
            }
        }
    }
}
