using Gardien.Functions.Durable;
using Gardien.Runtime;
using Gardien.Runtime.Storage;
using Gardien.Workflows;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Functions.Tests.Conformance;

/// <summary>One engine running a scenario: the client, the clock the activities see, and a driver that lets durable timers fire.</summary>
public abstract class ScenarioEngine : IAsyncDisposable
{
    /// <summary>Hang guard only: no test asserts on elapsed time.</summary>
    protected static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);

    /// <summary>Both engines start their clocks here, so that dates and times in outputs and side effects agree.</summary>
    public static DateTimeOffset Epoch => WorkflowTestEnvironment.Epoch;

    public abstract string Name { get; }

    public abstract IWorkflowClient Client { get; }

    /// <summary>What the activities resolve (ports, approval tokens, options).</summary>
    public IServiceProvider Services { get; protected set; } = null!;

    /// <summary>
    /// Runs until <paramref name="done"/> holds; whenever the instance tree of <paramref name="instanceId"/> only waits,
    /// moves the clock to its next durable timer.
    /// </summary>
    public abstract Task RunUntilAsync(string instanceId, Func<Task<bool>> done);

    /// <summary>Waits until <paramref name="done"/> holds without moving the clock.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> done, string what)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Gave up waiting for " + what);
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Raises an event and waits until the instance has taken it in, so that no timer overtakes it.</summary>
    public virtual async Task RaiseEventAndWaitAsync(string instanceId, string eventName, object? eventData)
    {
        var before = await EventsRaisedAsync(instanceId);
        await Client.RaiseEventAsync(instanceId, eventName, eventData);
        await WaitUntilAsync(async () => await EventsRaisedAsync(instanceId) > before, $"{instanceId} to take in {eventName}");
    }

    public async Task<WorkflowMetadata> RunToCompletionAsync(string instanceId)
    {
        await RunUntilAsync(instanceId, async () => (await Client.GetInstanceAsync(instanceId, false))?.IsCompleted == true);
        return (await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true))!;
    }

    /// <summary>Waits for completion without moving the clock (the scenario needs no timer to fire).</summary>
    public async Task<WorkflowMetadata> CompletionAsync(string instanceId)
    {
        await WaitUntilAsync(
            async () => (await Client.GetInstanceAsync(instanceId, false))?.IsCompleted == true, instanceId + " to complete");
        return (await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true))!;
    }

    public abstract ValueTask DisposeAsync();

    private async Task<int> EventsRaisedAsync(string instanceId) =>
        (await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, getHistory: true))?.History?.Count(
            e => e.EventType == HistoryEventType.EventRaised && !e.Name!.StartsWith("logical-timer-", StringComparison.Ordinal)) ?? 0;
}

/// <summary>
/// The embedded engine in the <see cref="WorkflowTestEnvironment"/> (in-memory store, fake clock) over the world's ports.
/// </summary>
public sealed class EmbeddedScenarioEngine : ScenarioEngine
{
    private WorkflowTestEnvironment _environment = null!;

    public override string Name => "embedded engine";

    public override IWorkflowClient Client => _environment.Client;

    public static async Task<ScenarioEngine> StartAsync(ConformanceWorld world, Action<WorkflowRegistry>? register = null)
    {
        var engine = new EmbeddedScenarioEngine();
        engine._environment = await WorkflowTestEnvironment.StartAsync(new WorkflowTestOptions
        {
            Start = Epoch,
            Ports = world.Fakes,
            Workflows = world.WorkflowOptions,
            Register = register,
        });
        engine.Services = engine._environment.Services;
        return engine;
    }

    public override Task RunUntilAsync(string instanceId, Func<Task<bool>> done) => _environment.RunUntilAsync(instanceId, done);

    public override ValueTask DisposeAsync() => _environment.DisposeAsync();
}

/// <summary>
/// Durable Task's in-process test host (real replay, real Durable Task SDK) running the Gardien workflows through the
/// Functions app's adapter (<see cref="DurableWorkflowHost"/>), with a <see cref="LogicalClock"/> standing in for the
/// fake clock Durable Task lacks. Each host binds a loopback port: the tests using it run sequentially.
/// </summary>
public sealed class DurableScenarioEngine : ScenarioEngine
{
    /// <summary>How long nothing must happen before the driver concludes the instances only wait.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400);

    private readonly LogicalClock _clock = new(Epoch);
    private DurableTaskTestHost _host = null!;
    private DurableWorkflowClient _client = null!;
    private int _activitiesRunning;

    public override string Name => "Durable Task (adapter)";

    public override IWorkflowClient Client => _client;

    public DurableTaskClient DurableClient => _host.Client;

    public static async Task<ScenarioEngine> StartAsync(ConformanceWorld world, Action<WorkflowRegistry>? register = null)
    {
        var engine = new DurableScenarioEngine();
        var registry = new WorkflowRegistry().AddGardienWorkflows();
        register?.Invoke(registry);
        var serializer = JsonWorkflowSerializer.Default;
        engine.Services = world.Services(engine._clock, () => engine._client);
        var durable = new DurableWorkflowHost(registry, engine.Services, serializer);
        var converter = new WorkflowDataConverter(serializer);
        engine._host = await DurableTaskTestHost.StartAsync(
            tasks =>
            {
                foreach (var name in registry.WorkflowNames)
                {
                    tasks.AddOrchestratorFunc<object?, object?>(
                        name, (context, input) => durable.RunWorkflowAsync(engine._clock.Wrap(context), name, input));
                }

                foreach (var name in registry.ActivityNames)
                {
                    tasks.AddActivityFunc<ActivityInvocation, object?>(
                        name, (_, invocation) => engine.RunActivityAsync(durable, name, invocation));
                }
            },
            new DurableTaskTestHostOptions
            {
                LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning)),
                ConfigureServices = services =>
                {
                    services.Configure<DurableTaskWorkerOptions>(o => o.DataConverter = converter);
                    services.Configure<DurableTaskClientOptions>(o => o.DataConverter = converter);
                },
            });
        engine._client = durable.CreateClient(engine._host.Client);
        return engine;
    }

    public override async Task RunUntilAsync(string instanceId, Func<Task<bool>> done)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
            {
                var state = await Client.GetInstanceAsync(instanceId);
                throw new TimeoutException(
                    $"{instanceId} did not reach the expected state: status {state?.Status}, "
                    + $"custom status {state?.SerializedCustomStatus}, logical time {_clock.UtcNow:O}.");
            }

            if (Volatile.Read(ref _activitiesRunning) == 0 && DateTime.UtcNow - _clock.LastProgress > Quiet && _clock.NextTimer is { } next)
            {
                foreach (var (instance, eventName) in _clock.AdvanceTo(next))
                {
                    await _host.Client.RaiseEventAsync(instance, eventName, true);
                }
            }

            await Task.Delay(20);
        }
    }

    public override async ValueTask DisposeAsync() => await _host.DisposeAsync();

    /// <summary>
    /// The test host keeps no history to look at: the raise counts as progress, so the driver moves the clock only
    /// after a quiet spell, by which time the instance has run the step that took the event in.
    /// </summary>
    public override async Task RaiseEventAndWaitAsync(string instanceId, string eventName, object? eventData)
    {
        _clock.Progress();
        await Client.RaiseEventAsync(instanceId, eventName, eventData);
        _clock.Progress();
    }

    private async Task<object?> RunActivityAsync(DurableWorkflowHost durable, string name, ActivityInvocation invocation)
    {
        Interlocked.Increment(ref _activitiesRunning);
        _clock.Progress();
        try
        {
            return await durable.RunActivityAsync(name, invocation, null, CancellationToken.None);
        }
        finally
        {
            _clock.Progress();
            Interlocked.Decrement(ref _activitiesRunning);
        }
    }
}
