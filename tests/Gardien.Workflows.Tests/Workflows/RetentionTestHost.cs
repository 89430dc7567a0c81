using Gardien.Runtime;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// The embedded engine on a store (in-memory for unit tests, Azure Storage on Azurite end to end), a fake clock, and the
/// real activities wired to ports: <see cref="RetentionTestFakes"/> (strict mocks) or the local adapters.
/// <see cref="RunUntilAsync"/> drives durable timers: when the instance tree is idle it moves the clock to the next
/// pending timer, so months of notices and grace periods pass instantly and deterministically.
/// </summary>
public sealed class RetentionTestHost : IAsyncDisposable
{
    /// <summary>Hang guard only: no test asserts on elapsed time.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan StallPause = TimeSpan.FromMilliseconds(100);
    private const int MaxStalls = 30;

    private readonly RetentionTestFakes? _fakes;
    private readonly Func<IReadOnlyList<Notification>> _notifications;

    private RetentionTestHost(IWorkflowStore store, FakeTimeProvider time, WorkflowRegistry registry, Func<Func<IWorkflowClient>, IServiceProvider> services, Func<IReadOnlyList<Notification>> notifications, RetentionTestFakes? fakes)
    {
        _fakes = fakes;
        _notifications = notifications;
        Time = time;
        Store = store;
        WorkflowEngine? engine = null;
        var provider = services(() => engine?.Client ?? throw new InvalidOperationException("The engine is not built yet."));
        Engine = new WorkflowEngine(Store, registry, new WorkflowEngineOptions
        {
            TimeProvider = time,
            AbandonDelay = _ => TimeSpan.Zero,
            StoreErrorBackoff = TimeSpan.FromMilliseconds(1),
            ReceiveTimeout = TimeSpan.FromSeconds(5),
            MaxConcurrentWorkflowSteps = 2,
            MaxConcurrentActivities = 8,
            Services = provider,
        });
        engine = Engine;
    }

    public static DateTimeOffset Epoch { get; } = new(2030, 1, 1, 8, 0, 0, TimeSpan.Zero);

    public static DateOnly Today => DateOnly.FromDateTime(Epoch.UtcDateTime);

    /// <summary>The built-in policy with the test approvers; notice windows 90/30/7, grace 30 days.</summary>
    public static GovernancePolicy Policy { get; } = GovernancePolicy.Default with
    {
        Approvals = GovernancePolicy.Default.Approvals with
        {
            DataSteward = new Approver { Name = "Steward", Email = RetentionTestFakes.StewardEmail },
            DataProtectionOfficer = new Approver { Name = "DPO", Email = RetentionTestFakes.DpoEmail },
        },
    };

    public static RetentionSettings Settings { get; } = RetentionSettings.FromPolicy(Policy);

    /// <summary>The strict mocks (unit-test hosts only).</summary>
    public RetentionTestFakes Fakes => _fakes ?? throw new InvalidOperationException("This host runs on the local adapters, not on mocks.");

    public FakeTimeProvider Time { get; }

    public IWorkflowStore Store { get; }

    public WorkflowEngine Engine { get; }

    public WorkflowEngineClient Client => Engine.Client;

    /// <summary>Unit-test host: in-memory store, the real activities on <paramref name="fakes"/> (strict mocks).</summary>
    public static async Task<RetentionTestHost> StartAsync(RetentionTestFakes fakes, DateTimeOffset? start = null)
    {
        var time = new FakeTimeProvider(start ?? Epoch);
        var tokens = new ApprovalTokenService(fakes.Secrets.Object, fakes.Registry.Object, new ApprovalTokenSettings(), time);
        var services = new Dictionary<Type, object>
        {
            [typeof(IGovernanceRegistry)] = fakes.Registry.Object,
            [typeof(IStorageProvisioner)] = fakes.Storage.Object,
            [typeof(INotifier)] = fakes.Notifier.Object,
            [typeof(IAuditLog)] = fakes.Audit.Object,
            [typeof(IDirectory)] = fakes.Directory.Object,
            [typeof(ISecretStore)] = fakes.Secrets.Object,
            [typeof(ApprovalTokenService)] = tokens,
            [typeof(GardienWorkflowOptions)] = new GardienWorkflowOptions { Policy = Policy },
            [typeof(TimeProvider)] = time,
        };
        return await StartAsync(new InMemoryWorkflowStore(time), time, Register(new WorkflowRegistry()), client => new MapServiceProvider(services, client), fakes.NotificationsSnapshot, fakes);
    }

    /// <summary>Any store and any ports: <paramref name="services"/> builds the provider from the engine's client.</summary>
    public static async Task<RetentionTestHost> StartAsync(IWorkflowStore store, FakeTimeProvider time, WorkflowRegistry registry, Func<Func<IWorkflowClient>, IServiceProvider> services, Func<IReadOnlyList<Notification>> notifications, RetentionTestFakes? fakes = null)
    {
        var host = new RetentionTestHost(store, time, registry, services, notifications, fakes);
        await host.Engine.StartAsync();
        return host;
    }

    /// <summary>The production registration (every workflow and activity), so the tests also check it is complete.</summary>
    public static WorkflowRegistry Register(WorkflowRegistry registry) => registry.AddGardienWorkflows();

    /// <summary>
    /// Drives the clock until <paramref name="done"/> holds: waits for the instance (and its sub-workflows) to be idle,
    /// checks the condition, then jumps to the earliest pending durable timer. Throws when nothing can make progress.
    /// </summary>
    public async Task RunUntilAsync(string instanceId, Func<Task<bool>> done, int maxJumps = 400)
    {
        var stalls = 0;
        for (var jump = 0; jump < maxJumps; jump++)
        {
            await WaitIdleAsync(instanceId);
            if (await done())
            {
                return;
            }

            var next = await NextTimerAsync(instanceId);
            if (next is null)
            {
                // A store whose reads lag its writes (Azure Storage) can look idle for a moment: wait for real progress
                // before concluding that the instance waits for something no timer will bring.
                stalls++;
                if (stalls > MaxStalls)
                {
                    throw new InvalidOperationException($"{instanceId} waits for something other than a timer: {await DescribeAsync(instanceId)}");
                }

                await Task.Delay(StallPause);
                continue;
            }

            stalls = 0;
            if (next > Time.GetUtcNow())
            {
                Time.SetUtcNow(next.Value);
            }
        }

        throw new InvalidOperationException($"{instanceId} did not reach the expected state after {maxJumps} timer jumps: {await DescribeAsync(instanceId)}");
    }

    public async Task<WorkflowMetadata> RunToCompletionAsync(string instanceId)
    {
        await RunUntilAsync(instanceId, async () => (await Client.GetInstanceAsync(instanceId, false))?.IsCompleted == true);
        return (await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true))!;
    }

    /// <summary>Runs until a notification matching <paramref name="match"/> has been sent.</summary>
    public async Task<Notification> RunUntilNotifiedAsync(string instanceId, Func<Notification, bool> match)
    {
        await RunUntilAsync(instanceId, () => Task.FromResult(_notifications().Any(match)));
        return _notifications().First(match);
    }

    /// <summary>Clicks a decision link of a notification the way a host does: raises the decision event on the instance the link belongs to.</summary>
    public async Task DecideAsync(Notification notification, string decision, string? comment = null, int linkIndex = 0, string? instanceId = null)
    {
        var links = notification.Links.Select(l => ApprovalLinks.Parse(l.Url.ToString()).Link).Where(l => l?.Decision is not null).ToList();
        var token = links.Count > 0 ? links[Math.Min(linkIndex, links.Count - 1)]!.Token : throw new InvalidOperationException("The notification carries no decision link.");
        var target = instanceId ?? notification.CorrelationId;
        var before = (await Store.GetHistoryAsync(target)).Count(e => e.EventType == HistoryEventType.EventRaised);
        await Client.RaiseEventAsync(target, ApprovalWorkflow.DecisionEventName, new ApprovalDecisionEvent(token, decision, null, comment));
        await WaitAsync(async () => (await Store.GetHistoryAsync(target)).Count(e => e.EventType == HistoryEventType.EventRaised) > before, "the decision event to be processed");
    }

    public async Task<T?> OutputAsync<T>(string instanceId) => (await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true))!.ReadOutputAs<T>();

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        if (Store is IAsyncDisposable store)
        {
            await store.DisposeAsync();
        }
    }

    private async Task WaitIdleAsync(string instanceId) =>
        await WaitAsync(() => IsIdleAsync(instanceId), $"{instanceId} to be idle");

    private async Task<bool> IsIdleAsync(string instanceId)
    {
        if ((await Store.GetQueueDepthAsync()).ActivityMessages > 0)
        {
            return false;
        }

        return await IsTreeIdleAsync(instanceId);
    }

    private async Task<bool> IsTreeIdleAsync(string instanceId)
    {
        var state = await Store.GetInstanceAsync(instanceId);
        if (state is null)
        {
            return false;
        }

        if (state.Status.IsTerminal())
        {
            return true;
        }

        if (state.Status != WorkflowStatus.Running)
        {
            return false;
        }

        var history = await Store.GetHistoryAsync(instanceId);
        if (history.Count == 0 || history[^1].EventType != HistoryEventType.OrchestratorCompleted)
        {
            return false;
        }

        var completed = history.Where(e => e.TaskScheduledId >= 0).Select(e => e.TaskScheduledId).ToHashSet();
        var now = Time.GetUtcNow().UtcDateTime;
        foreach (var e in history)
        {
            if (e.EventType == HistoryEventType.TaskScheduled && !completed.Contains(e.EventId))
            {
                return false;
            }

            if (e.EventType == HistoryEventType.TimerCreated && !completed.Contains(e.EventId) && e.FireAt <= now)
            {
                return false;
            }

            if (e.EventType == HistoryEventType.SubOrchestrationInstanceCreated && !completed.Contains(e.EventId))
            {
                var child = await Store.GetInstanceAsync(e.InstanceId!);
                if (child is null || child.Status.IsTerminal() || !await IsTreeIdleAsync(e.InstanceId!))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private async Task<DateTimeOffset?> NextTimerAsync(string instanceId)
    {
        var state = await Store.GetInstanceAsync(instanceId);
        if (state is null || state.Status.IsTerminal())
        {
            return null;
        }

        var history = await Store.GetHistoryAsync(instanceId);
        var completed = history.Where(e => e.TaskScheduledId >= 0).Select(e => e.TaskScheduledId).ToHashSet();
        DateTimeOffset? next = null;
        foreach (var e in history)
        {
            DateTimeOffset? candidate = null;
            if (e.EventType == HistoryEventType.TimerCreated && !completed.Contains(e.EventId) && e.FireAt is { } fireAt)
            {
                candidate = new DateTimeOffset(DateTime.SpecifyKind(fireAt, DateTimeKind.Utc));
            }
            else if (e.EventType == HistoryEventType.SubOrchestrationInstanceCreated && !completed.Contains(e.EventId))
            {
                candidate = await NextTimerAsync(e.InstanceId!);
            }

            if (candidate is { } c && (next is null || c < next))
            {
                next = c;
            }
        }

        return next;
    }

    private async Task<string> DescribeAsync(string instanceId)
    {
        var state = await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
        var history = await Store.GetHistoryAsync(instanceId);
        return $"status {state?.Status}, custom status {state?.SerializedCustomStatus}, failure {state?.FailureDetails}, now {Time.GetUtcNow():O}, history: "
            + string.Join("; ", history.TakeLast(12).Select(e => $"{e} fire={e.FireAt:O}"))
            + string.Concat(await Task.WhenAll(history.Where(e => e.EventType == HistoryEventType.SubOrchestrationInstanceCreated && !history.Any(c => c.TaskScheduledId == e.EventId))
                .Select(async e => $" || child {e.InstanceId}: " + await DescribeAsync(e.InstanceId!))));
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Gave up waiting for " + what);
            }

            await Task.Delay(5);
        }
    }

    private sealed class MapServiceProvider(Dictionary<Type, object> services, Func<IWorkflowClient> client) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(IWorkflowClient) ? client() : services.GetValueOrDefault(serviceType);
    }
}
