using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Runtime.Tests;

/// <summary>An engine over a store with a registry built by the test; disposes everything.</summary>
public sealed class EngineHarness : IAsyncDisposable
{
    /// <summary>Hang guard only: tests never assert on elapsed time.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private EngineHarness(IWorkflowStore store, WorkflowRegistry registry, WorkflowEngine engine, TimeProvider time)
    {
        Store = store;
        Registry = registry;
        Engine = engine;
        Time = time;
    }

    public IWorkflowStore Store { get; }

    public WorkflowRegistry Registry { get; }

    public WorkflowEngine Engine { get; private set; }

    public TimeProvider Time { get; }

    public FakeTimeProvider FakeTime => (FakeTimeProvider)Time;

    public WorkflowEngineClient Client => Engine.Client;

    public static DateTimeOffset Epoch { get; } = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Options tests use: no abandon backoff so that retries do not wait on a fake clock.</summary>
    public static WorkflowEngineOptions TestOptions(TimeProvider time) => new()
    {
        TimeProvider = time,
        AbandonDelay = _ => TimeSpan.Zero,
        StoreErrorBackoff = TimeSpan.FromMilliseconds(1),
        ReceiveTimeout = TimeSpan.FromSeconds(5),
        MaxConcurrentWorkflowSteps = 2,
        MaxConcurrentActivities = 8,
    };

    public static Task<EngineHarness> StartFakeTimeAsync(
        Action<WorkflowRegistry> register,
        Func<WorkflowEngineOptions, WorkflowEngineOptions>? configure = null)
    {
        var time = new FakeTimeProvider(Epoch);
        return StartAsync(new InMemoryWorkflowStore(time), time, register, configure);
    }

    public static async Task<EngineHarness> StartAsync(
        IWorkflowStore store,
        TimeProvider time,
        Action<WorkflowRegistry> register,
        Func<WorkflowEngineOptions, WorkflowEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(register);
        var registry = new WorkflowRegistry();
        register(registry);
        var options = TestOptions(time);
        var engine = new WorkflowEngine(store, registry, configure?.Invoke(options) ?? options);
        await engine.StartAsync();
        return new EngineHarness(store, registry, engine, time);
    }

    /// <summary>Stops the running engine and starts a fresh one on the same store (a restart).</summary>
    public async Task RestartAsync(Func<WorkflowEngineOptions, WorkflowEngineOptions>? configure = null)
    {
        await Engine.DisposeAsync();
        var options = TestOptions(Time);
        Engine = new WorkflowEngine(Store, Registry, configure?.Invoke(options) ?? options);
        await Engine.StartAsync();
    }

    public async Task<WorkflowMetadata> CompletionAsync(string instanceId)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        return await Client.WaitForCompletionAsync(instanceId, cancellationToken: guard.Token);
    }

    /// <summary>Polls until the condition holds (hang guard only, no timing assertion).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + HangGuard;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for: {what}");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Waits until the instance's history has at least <paramref name="count"/> events of <paramref name="type"/>.</summary>
    public Task WaitForHistoryAsync(string instanceId, HistoryEventType type, int count = 1) =>
        WaitUntilAsync(
            async () => (await Store.GetHistoryAsync(instanceId)).Count(e => e.EventType == type) >= count,
            $"{count} × {type} in the history of {instanceId}");

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        if (Store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }
}
