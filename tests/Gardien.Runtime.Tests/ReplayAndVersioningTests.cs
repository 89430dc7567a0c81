using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.Tests;

public sealed class ReplayAndVersioningTests
{
    [Fact]
    public async Task ChangedWorkflowCode_FailsTheInstanceWithANonDeterminismErrorNamingBothActions()
    {
        var callB = false;
        await using var harness = await EngineHarness.StartFakeTimeAsync(r => r
            .AddActivity<string, string>("ProvisionStorage", (_, s) => Task.FromResult(s))
            .AddActivity<string, string>("GrantAccess", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string>("Governance", async (ctx, s) =>
            {
                await ctx.CallActivityAsync<string>(callB ? "GrantAccess" : "ProvisionStorage", s);
                return await ctx.WaitForExternalEvent<string>("Approved");
            }));
        var id = await harness.Client.ScheduleNewAsync("Governance", "plan-1", "nd-1");
        await harness.WaitForHistoryAsync(id, HistoryEventType.TaskCompleted);

        callB = true;
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
        await using var harness = await EngineHarness.StartFakeTimeAsync(r => r.AddWorkflow<string, string>("Flow", async (ctx, _) =>
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
        await harness.Client.RaiseEventAsync(id, "Go", "now");
        var done = await harness.CompletionAsync(id);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Contains("did not take any action #0", done.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunningInstances_KeepTheirVersion_WhileNewInstancesStartOnTheLatest()
    {
        await using var harness = await EngineHarness.StartFakeTimeAsync(r => r.AddWorkflow<string, string>(
            "Intake", async (ctx, _) => "v1:" + await ctx.WaitForExternalEvent<string>("Go"), version: "1"));
        var old = await harness.Client.ScheduleNewAsync("Intake", "x", "intake-old");
        await harness.Client.WaitForStartAsync(old);

        // Deploy v2 next to v1 (an incompatible change: it calls an activity first).
        harness.Registry
            .AddActivity<string, string>("Check", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string>("Intake", async (ctx, s) => "v2:" + await ctx.CallActivityAsync<string>("Check", s) + await ctx.WaitForExternalEvent<string>("Go"), version: "2");
        await harness.RestartAsync();
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
    public void Registry_OrdersVersionsNumerically_AndRejectsDuplicates()
    {
        var registry = new WorkflowRegistry()
            .AddWorkflow<string, string>("W", (_, s) => Task.FromResult(s), "9")
            .AddWorkflow<string, string>("W", (_, s) => Task.FromResult(s), "10");

        Assert.Equal("10", registry.LatestVersion("W"));
        Assert.Throws<ArgumentException>(() => registry.AddWorkflow<string, string>("W", (_, s) => Task.FromResult(s), "10"));
    }

    [Fact]
    public void Registry_UsesClassNameOrAttributeAsName()
    {
        var registry = new WorkflowRegistry().AddWorkflow<PlainWorkflow>().AddWorkflow<NamedWorkflow>().AddActivity<PlainActivity>();

        Assert.True(registry.IsWorkflowRegistered(nameof(PlainWorkflow), "1"));
        Assert.True(registry.IsWorkflowRegistered("Renamed", "3"));
        Assert.Contains(nameof(PlainActivity), registry.ActivityNames);
    }

    [Fact]
    public async Task ClassBasedWorkflowsAndActivities_AreResolvedWithConstructorInjection()
    {
        var services = new SimpleServices(new Greeting("bonjour"));
        await using var harness = await EngineHarness.StartFakeTimeAsync(
            r => r.AddWorkflow<PlainWorkflow>().AddActivity<PlainActivity>(),
            o => o with { Services = services });

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync(nameof(PlainWorkflow), "Ana", "di-1"));

        Assert.Equal("bonjour Ana", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ReplaySafeLogger_WritesEachMessageOnceDespiteReplays()
    {
        var logged = new List<string>();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(EngineHarness.Epoch);
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
        await using var engine = new WorkflowEngine(new Storage.InMemoryWorkflowStore(time), registry, EngineHarness.TestOptions(time), new ListLoggerFactory(logged));
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
    public void NameBasedGuid_MatchesRfc4122Version5()
    {
        // RFC 4122 appendix example fixed by later errata: uuid5(DNS namespace, "python.org").
        var guid = Engine.WorkflowExecutor.NameBasedGuid(new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "python.org");

        Assert.Equal(new Guid("886313e1-3b8a-5372-9b90-0c9aee199e5d"), guid);
    }

    public sealed record Greeting(string Word);

    public sealed class PlainActivity(Greeting greeting) : Activity<string, string>
    {
        public override Task<string> RunAsync(ActivityContext context, string input) => Task.FromResult($"{greeting.Word} {input}");
    }

    public sealed class PlainWorkflow : Workflow<string, string>
    {
        public override Task<string> RunAsync(WorkflowContext context, string input) => context.CallActivityAsync<string>(nameof(PlainActivity), input);
    }

    [Workflow("Renamed", Version = "3")]
    public sealed class NamedWorkflow : Workflow<string, string>
    {
        public override Task<string> RunAsync(WorkflowContext context, string input) => Task.FromResult(input);
    }

    private sealed class SimpleServices(Greeting greeting) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(Greeting) ? greeting : null;
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

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (sink)
            {
                sink.Add(formatter(state, exception));
            }
        }
    }
}
