using Gardien.Functions.Durable;
using Gardien.Runtime;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Workflows.Ports;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Functions.Tests.Conformance;

/// <summary>
/// Each member of the workflow port, exercised by small workflows on both engines: the adapter must give workflow code
/// the same observable behaviour (results compared engine against engine).
/// </summary>
[Collection(DurableHostCollection.Name)]
public sealed class AdapterSemanticsTests
{
    [Fact]
    public Task EventWaitWithTimeout_ThrowsTimeoutException_OnBothEngines() => BothAsync(async engine =>
    {
        var id = await engine.Client.ScheduleNewAsync("WaitOrTimeout", "go", "wait-timeout");
        var done = await engine.RunToCompletionAsync(id);
        Assert.Equal("timeout", done.ReadOutputAs<string>());
        return done.ReadOutputAs<string>()!;
    });

    [Fact]
    public Task EventWaitWithTimeout_ReturnsTheEvent_WhenRaisedInTime() => BothAsync(async engine =>
    {
        var id = await engine.Client.ScheduleNewAsync("WaitOrTimeout", "go", "wait-received");
        await engine.RaiseEventAndWaitAsync(id, "go", "hello");
        var done = await engine.RunToCompletionAsync(id);
        return done.ReadOutputAs<string>()!;
    });

    [Fact]
    public Task FailedActivity_SurfacesPortFailureDetails_WithCauseType() => BothAsync(async engine =>
    {
        var id = await engine.Client.ScheduleNewAsync("CatchFailure", "refuse", "catch-failure");
        var done = await engine.RunToCompletionAsync(id);
        Assert.StartsWith("True|Gardien.Workflows.Ports.PortRefusedException", done.ReadOutputAs<string>(), StringComparison.Ordinal);
        return done.ReadOutputAs<string>()!;
    });

    [Fact]
    public Task RetryPolicy_RetriesTransientFailuresAndStopsOnRefusals() => BothAsync(async engine =>
    {
        var id = await engine.Client.ScheduleNewAsync("Retries", null, "retries");
        var done = await engine.RunToCompletionAsync(id);
        Assert.Equal("ok after 3|refused after 1", done.ReadOutputAs<string>());
        return done.ReadOutputAs<string>()!;
    });

    [Fact]
    public Task SubWorkflowRetry_StartsEachAttemptAsANewChildInstance() => BothAsync(async engine =>
    {
        var id = await engine.Client.ScheduleNewAsync("ParentWithRetry", null, "parent");
        var done = await engine.RunToCompletionAsync(id);
        Assert.Equal("child parent-child-attempt2 done", done.ReadOutputAs<string>());
        Assert.Equal(WorkflowStatus.Failed, (await engine.Client.GetInstanceAsync("parent-child"))!.Status);
        return done.ReadOutputAs<string>()!;
    });

    [Fact]
    public Task ContinueAsNew_CustomStatusAndGuids_BehaveAlike() => BothAsync(async engine =>
    {
        var id = await engine.Client.ScheduleNewAsync("Countdown", 3, "countdown");
        var done = await engine.RunToCompletionAsync(id);
        Assert.Equal("0 left, same guid on replay: True", done.ReadOutputAs<string>());
        Assert.Equal("counted", done.ReadCustomStatusAs<string>());
        return done.ReadOutputAs<string>()!;
    });

    [Fact]
    public Task Client_ScheduleIsIdempotent_AndManagesInstances() => BothAsync(async engine =>
    {
        var client = engine.Client;
        var first = await client.ScheduleNewAsync("Echo", "one", "echo-1");
        await engine.RunToCompletionAsync(first);
        Assert.Equal("echo-1", await client.ScheduleNewAsync("Echo", "two", "echo-1"));
        var again = await client.GetInstanceAsync("echo-1");
        Assert.Equal("one", again!.ReadOutputAs<string>());

        var waiting = await client.ScheduleNewAsync("WaitOrTimeout", "never", "to-terminate");
        await client.WaitForStartAsync(waiting);
        await client.SuspendAsync(waiting, "pause");
        await ScenarioEngine.WaitUntilAsync(
            async () => (await client.GetInstanceAsync(waiting))!.Status == WorkflowStatus.Suspended, "suspended");
        await client.ResumeAsync(waiting, "go on");
        await ScenarioEngine.WaitUntilAsync(
            async () => (await client.GetInstanceAsync(waiting))!.Status == WorkflowStatus.Running, "resumed");
        await client.TerminateAsync(waiting, "stopped");
        var terminated = await client.WaitForCompletionAsync(waiting);

        var found = await client.QueryInstancesAsync(new WorkflowQuery { InstanceIdPrefix = "echo-", FetchInputsAndOutputs = true });
        var purged = await client.PurgeAsync("echo-1");
        var gone = await client.GetInstanceAsync("echo-1");
        return $"{terminated.Status}|{string.Join(",", found.Instances.Select(i => i.InstanceId + "=" + i.ReadOutputAs<string>()))}"
            + $"|{purged}|{gone is null}";
    });

    [Fact]
    public async Task NonDeterministicWorkflow_FailsOnBothEngines()
    {
        // Embedded engine without its execution cache, so that every step replays from history.
        var time = new FakeTimeProvider(ScenarioEngine.Epoch);
        var embeddedRegistry = Register(new WorkflowRegistry(), new Counters());
        await using (var engine = new WorkflowEngine(
            new InMemoryWorkflowStore(time), embeddedRegistry, new WorkflowEngineOptions { TimeProvider = time, MaxCachedExecutions = 0 }))
        {
            await engine.StartAsync();
            await engine.Client.ScheduleNewAsync("Flaky", null, "flaky");
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var done = await engine.Client.WaitForCompletionAsync("flaky", cancellationToken: guard.Token);
            Assert.Equal(WorkflowStatus.Failed, done.Status);
            Assert.Contains("determin", done.FailureDetails!.ToString(), StringComparison.OrdinalIgnoreCase);
        }

        var durableRegistry = Register(new WorkflowRegistry(), new Counters());
        var durable = new DurableWorkflowHost(durableRegistry, new EmptyServices());
        await using var host = await DurableTaskTestHost.StartAsync(
            tasks =>
            {
                foreach (var name in durableRegistry.WorkflowNames)
                {
                    tasks.AddOrchestratorFunc<object?, object?>(name, (context, input) => durable.RunWorkflowAsync(context, name, input));
                }

                foreach (var name in durableRegistry.ActivityNames)
                {
                    tasks.AddActivityFunc<ActivityInvocation, object?>(
                        name, (_, invocation) => durable.RunActivityAsync(name, invocation, null, CancellationToken.None));
                }
            },
            new DurableTaskTestHostOptions { LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Critical)) });
        var client = durable.CreateClient(host.Client);
        await client.ScheduleNewAsync("Flaky", null, "flaky");
        using var guard2 = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var failed = await client.WaitForCompletionAsync("flaky", cancellationToken: guard2.Token);
        Assert.Equal(WorkflowStatus.Failed, failed.Status);
        Assert.Contains("determin", failed.FailureDetails!.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    private static async Task BothAsync(Func<ScenarioEngine, Task<string>> scenario)
    {
        var results = new List<string>();
        foreach (var start in new Func<ConformanceWorld, Action<WorkflowRegistry>?, Task<ScenarioEngine>>[]
        {
            EmbeddedScenarioEngine.StartAsync,
            DurableScenarioEngine.StartAsync,
        })
        {
            var counters = new Counters();
            await using var engine = await start(new ConformanceWorld(), registry => Register(registry, counters));
            results.Add(await scenario(engine));
        }

        Assert.Equal(results[0], results[1]);
    }

    private sealed class Counters
    {
        public int Flaky;
        public int Transient;
        public int Refused;
        public int Children;
    }

    private static WorkflowRegistry Register(WorkflowRegistry registry, Counters counters) => registry
        .AddActivity<string, string>("EchoActivity", (_, input) => Task.FromResult(input))
        .AddActivity<string, string>("FailActivity", (_, input) => throw new PortRefusedException($"Refused: {input}."))
        .AddActivity<string, int>("TransientActivity", (_, _) =>
            Interlocked.Increment(ref counters.Transient) < 3
                ? throw new PortException("Try later.", isTransient: true)
                : Task.FromResult(counters.Transient))
        .AddActivity<string, int>("RefusedActivity", (_, _) =>
        {
            Interlocked.Increment(ref counters.Refused);
            throw new PortRefusedException("Never.");
        })
        .AddWorkflow<string, string>("Echo", (context, input) => context.CallActivityAsync<string>("EchoActivity", input))
        .AddWorkflow<string, string>("WaitOrTimeout", async (context, input) =>
        {
            try
            {
                return await context.WaitForExternalEvent<string>(input, TimeSpan.FromDays(2));
            }
            catch (TimeoutException)
            {
                return "timeout";
            }
        })
        .AddWorkflow<string, string>("CatchFailure", async (context, input) =>
        {
            try
            {
                return await context.CallActivityAsync<string>("FailActivity", input);
            }
            catch (WorkflowTaskFailedException ex)
            {
                return $"{ex.FailureDetails.IsCausedBy<PortRefusedException>()}"
                    + $"|{ex.FailureDetails.ErrorType}|{ex.FailureDetails.ErrorMessage}|{ex.TaskName}";
            }
        })
        .AddWorkflow<string?, string>("Retries", async (context, _) =>
        {
            var policy = new RetryPolicy(5, TimeSpan.FromMilliseconds(100)) { Handle = f => !f.IsCausedBy<PortRefusedException>() };
            var attempts = await context.CallActivityAsync<int>("TransientActivity", "x", policy);
            try
            {
                await context.CallActivityAsync<int>("RefusedActivity", "y", policy);
            }
            catch (WorkflowTaskFailedException)
            {
            }

            return $"ok after {attempts}|refused after {counters.Refused}";
        })
        .AddWorkflow<string?, string>("FailFirstChild", (context, _) =>
            Interlocked.Increment(ref counters.Children) == 1
                ? throw new InvalidOperationException("first attempt fails")
                : Task.FromResult($"child {context.InstanceId} done"))
        .AddWorkflow<string?, string>("ParentWithRetry", (context, _) =>
            context.CallSubWorkflowAsync<string>(
                "FailFirstChild", null, context.InstanceId + "-child", new RetryPolicy(2, TimeSpan.FromMilliseconds(100))))
        .AddWorkflow<int, string>("Countdown", async (context, left) =>
        {
            var guid = context.NewGuid();
            var echoed = await context.CallActivityAsync<string>("EchoActivity", guid.ToString());
            if (left > 0)
            {
                context.SetCustomStatus("counting");
                context.ContinueAsNew(left - 1);
                return "continued";
            }

            context.SetCustomStatus("counted");
            return $"{left} left, same guid on replay: {echoed == guid.ToString()}";
        })
        .AddWorkflow<string?, string>("Flaky", async (context, _) =>
        {
            // Different code on replay: the second execution schedules another activity than the history holds.
            var name = Interlocked.Increment(ref counters.Flaky) == 1 ? "EchoActivity" : "FailActivity";
            await context.CallActivityAsync<string>(name, "a");
            await context.CallActivityAsync<string>("EchoActivity", "b");
            return "done";
        });

    private sealed class EmptyServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
