using System.Collections.Concurrent;
using Gardien.Runtime;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Workflows;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Moq;
using Xunit;

namespace Gardien.Testing.Workflows;

/// <summary>
/// Gardien's workflows on the embedded engine, composed as a host composes them (the production registration, the host
/// services, dependency injection), under a fake clock that only this environment moves, over <see cref="PortFakes"/>
/// (or any ports, e.g. the local adapters on Azurite).
/// <para>The clock moves only when the engine is idle, so tests are deterministic however loaded the machine is:
/// <see cref="AdvanceToNextTimerAsync"/> lets the earliest pending durable timer fire, <see cref="RunUntilAsync"/> and
/// <see cref="RunToCompletionAsync"/> do so until a condition holds, and the waits (<see cref="WaitForMessageAsync"/>,
/// <see cref="CompletionAsync"/>, <see cref="WaitForCustomStatusAsync{T}"/>) wait for the engine to be idle, then look.
/// <see cref="DecideAsync(string, string, string?, NotificationKind)"/> answers an approval request through its link.</para>
/// <para>With <see cref="WorkflowTestOptions.Replay"/> the engine keeps no live execution between steps: every step
/// replays the workflow's history, as after a restart.</para>
/// </summary>
public sealed class WorkflowTestEnvironment : IAsyncDisposable
{
    /// <summary>Where the clock starts unless a test says otherwise.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 2, 2, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Hang guard only: no test asserts on elapsed time.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);

    /// <summary>Hang guard of one wait for idleness on a store over the network (Azurite), slow when the machine is loaded.</summary>
    private static readonly TimeSpan RemoteIdleGuard = TimeSpan.FromSeconds(300);

    /// <summary>A store whose reads lag its writes (Azure Storage) may look idle for a moment with nothing scheduled yet.</summary>
    private static readonly TimeSpan StallPause = TimeSpan.FromMilliseconds(100);
    private const int MaxStalls = 30;

    private readonly ServiceProvider _services;
    private readonly PortFakes? _ports;
    private readonly Func<IReadOnlyList<Notification>>? _sent;

    private WorkflowTestEnvironment(
        ServiceProvider services, FakeTimeProvider time, PortFakes? ports, Func<IReadOnlyList<Notification>>? sent, bool replay)
    {
        _services = services;
        _ports = ports;
        _sent = sent;
        Time = time;
        Replay = replay;
        Engine = services.GetRequiredService<WorkflowEngine>();
    }

    /// <summary>The date of <see cref="Epoch"/>.</summary>
    public static DateOnly Today => DateOnly.FromDateTime(Epoch.UtcDateTime);

    /// <summary>The retention settings of the built-in policy (notice windows 90/30/7 days, deletion grace 30 days).</summary>
    public static RetentionSettings Settings { get; } = RetentionSettings.FromPolicy(GovernancePolicy.Default);

    public FakeTimeProvider Time { get; }

    /// <summary>True when every step replays its history (the execution cache is off).</summary>
    public bool Replay { get; }

    public WorkflowEngine Engine { get; }

    public IWorkflowStore Store => Engine.Store;

    public WorkflowEngineClient Client => Engine.Client;

    /// <summary>What the activities and host services are created from.</summary>
    public IServiceProvider Services => _services;

    /// <summary>The in-memory ports (not available when the environment runs on other ports).</summary>
    public PortFakes Ports => _ports ?? throw new InvalidOperationException("This environment runs on other ports than PortFakes.");

    public ApprovalTokenService Tokens => _services.GetRequiredService<ApprovalTokenService>();

    public ApprovalDecisionService Decisions => _services.GetRequiredService<ApprovalDecisionService>();

    public DmpSubmissionService Submissions => _services.GetRequiredService<DmpSubmissionService>();

    public DmpEventRouter Router => _services.GetRequiredService<DmpEventRouter>();

    public RetentionService Retention => _services.GetRequiredService<RetentionService>();

    /// <summary>Notifications sent so far, in order.</summary>
    public IReadOnlyList<Notification> Sent =>
        _ports?.Sent ?? _sent?.Invoke() ?? throw new InvalidOperationException("No notification record: set SentNotifications.");

    // The port fakes, as the workflow tests use them (see PortFakes).
    public Mock<IStorageProvisioner> Storage => Ports.Storage;

    public Mock<IGovernanceRegistry> Registry => Ports.Registry;

    public Mock<IDirectory> Directory => Ports.Directory;

    public Mock<INotifier> Notifier => Ports.Notifier;

    public Mock<IDmpToolClient> DmpTool => Ports.DmpTool;

    public Mock<IAuditLog> Audit => Ports.Audit;

    public ConcurrentDictionary<string, DmpRecord> Dmps => Ports.Dmps;

    public ConcurrentDictionary<(string DmpId, string DatasetId), DatasetRecord> Datasets => Ports.Datasets;

    public ConcurrentDictionary<(string DmpId, string DatasetId, string PrincipalId), GrantRecord> Grants => Ports.Grants;

    public ConcurrentDictionary<(string DmpId, string ApprovalId), ApprovalRecord> Approvals => Ports.Approvals;

    public ConcurrentDictionary<string, string> UsedTokens => Ports.UsedTokens;

    public ConcurrentDictionary<string, string?> Containers => Ports.Containers;

    public ConcurrentDictionary<string, Dictionary<string, string?>> ContainerMetadata => Ports.ContainerMetadata;

    public ConcurrentDictionary<string, DirectoryUser> Users => Ports.Users;

    public ConcurrentDictionary<(string GroupId, string UserId), bool> Memberships => Ports.Memberships;

    public ConcurrentDictionary<(string PrincipalId, string Scope, AccessLevel Role), bool> RoleAssignments => Ports.RoleAssignments;

    public ConcurrentQueue<(string DmpId, DmpWriteBack WriteBack)> WriteBacks => Ports.WriteBacks;

    public IReadOnlyList<AuditEntry> AuditEntries => Ports.AuditEntries;

    public IReadOnlyList<string> AuditActions => Ports.AuditActions;

    /// <inheritdoc cref="PortFakes.Fault"/>
    public Func<string, Exception?>? Fault
    {
        get => Ports.Fault;
        set => Ports.Fault = value;
    }

    /// <inheritdoc cref="PortFakes.FaultAfter"/>
    public Func<string, Exception?>? FaultAfter
    {
        get => Ports.FaultAfter;
        set => Ports.FaultAfter = value;
    }

    /// <summary>
    /// The default environment: in-memory store and ports, the PI and the data manager of the test DMPs in the directory.
    /// </summary>
    public static Task<WorkflowTestEnvironment> StartAsync(
        Action<WorkflowTestEnvironment>? configure = null, GardienWorkflowOptions? workflows = null)
    {
        var options = new WorkflowTestOptions();
        if (workflows is not null)
        {
            options.Workflows = workflows;
        }

        return StartAsync(options, configure);
    }

    /// <summary>In-memory store over <paramref name="ports"/> (set up by the test beforehand).</summary>
    public static Task<WorkflowTestEnvironment> StartAsync(PortFakes ports) => StartAsync(new WorkflowTestOptions { Ports = ports });

    /// <summary>
    /// Composes and starts an environment; <paramref name="configure"/> runs before the engine starts (fault injection,
    /// mock setups, directory entries).
    /// </summary>
    public static async Task<WorkflowTestEnvironment> StartAsync(
        WorkflowTestOptions options, Action<WorkflowTestEnvironment>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var time = new FakeTimeProvider(options.Start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        if (options.Ports is { } ports)
        {
            ports.Users.TryAdd("u-pi", new DirectoryUser("u-pi", "Claire Dubois", IntakeTestDmps.PiEmail, "0000-0002-1825-0097"));
            ports.Users.TryAdd("u-dm", new DirectoryUser("u-dm", "Mehdi Benali", IntakeTestDmps.DataManagerEmail, null));
            services.AddSingleton(ports.Registry.Object);
            services.AddSingleton(ports.Storage.Object);
            services.AddSingleton(ports.Directory.Object);
            services.AddSingleton(ports.Notifier.Object);
            services.AddSingleton(ports.Secrets.Object);
            services.AddSingleton(ports.DmpTool.Object);
            services.AddSingleton(ports.Audit.Object);
        }

        options.ConfigureServices?.Invoke(services);
        services.TryAddSingleton(sp => new ApprovalTokenService(
            sp.GetRequiredService<ISecretStore>(), sp.GetRequiredService<IGovernanceRegistry>(), new ApprovalTokenSettings(), time));
        services.AddGardienHostServices(options.Workflows);
        var store = options.Store?.Invoke(time) ?? new InMemoryWorkflowStore(time);
        var remote = store is not InMemoryWorkflowStore;
        services.AddWorkflowEngine(
            registry =>
            {
                registry.AddGardienWorkflows();
                options.Register?.Invoke(registry);
            },
            _ => store,
            _ => new WorkflowEngineOptions
            {
                TimeProvider = time,
                AbandonDelay = _ => TimeSpan.Zero,
                StoreErrorBackoff = remote ? TimeSpan.FromMilliseconds(50) : TimeSpan.FromMilliseconds(1),
                ReceiveTimeout = remote ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(5),

                // The in-memory store measures leases on the fake clock; Azure queues on the real one, and cap them at 7 days.
                LockDuration = remote ? new WorkflowEngineOptions().LockDuration : TimeSpan.FromDays(40),
                MaxConcurrentWorkflowSteps = 2,
                MaxConcurrentActivities = 8,
                IdlePollInterval = TimeSpan.FromMilliseconds(10),
                MaxCachedExecutions = options.Replay ? 0 : new WorkflowEngineOptions().MaxCachedExecutions,
            });
        var provider = services.BuildServiceProvider();
        var environment = new WorkflowTestEnvironment(provider, time, options.Ports, options.SentNotifications, options.Replay);
        configure?.Invoke(environment);
        await environment.Engine.StartAsync();
        return environment;
    }

    /// <summary>The token of the message's approve (or reject) link: <c>{base}/approvals/{token}?decision=...</c>.</summary>
    public static string TokenOf(Notification message, string decision = "approve")
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Links.Select(l => ApprovalLinks.Parse(l.Url.ToString()).Link).First(link => link?.Decision == decision)!.Token;
    }

    /// <summary>The whole link of the message for <paramref name="decision"/>, as a person would paste it.</summary>
    public static string LinkOf(Notification message, string decision)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Links.First(l => ApprovalLinks.Parse(l.Url.ToString()).Link?.Decision == decision).Url.ToString();
    }

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds, without moving the clock: for tests that drive concurrency
    /// themselves. Prefer the verbs, which wait for the engine to be idle.
    /// </summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + HangGuard;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Gave up waiting for: " + what);
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Waits until <paramref name="instanceId"/> has created at least <paramref name="count"/> durable timers.</summary>
    public Task WaitForTimersAsync(string instanceId, int count) =>
        WaitUntilAsync(
            async () => (await Engine.Store.GetHistoryAsync(instanceId)).Count(e => e.EventType == HistoryEventType.TimerCreated) >= count,
            $"{count} timers in {instanceId}");

    public IReadOnlyList<Notification> SentTo(string email, NotificationKind? kind = null) =>
        [.. Sent.Where(n => n.To.Contains(email, StringComparer.OrdinalIgnoreCase) && (kind is null || n.Kind == kind))];

    public IReadOnlyList<GrantRecord> ActiveGrants(string dmpId) => Ports.ActiveGrants(dmpId);

    public void AddUser(string id, string name, string email, string? orcid) => Ports.AddUser(id, name, email, orcid);

    /// <summary>Waits until no workflow step, activity or due message is left: only a decision or the clock can move things on.</summary>
    public async Task WaitForIdleAsync()
    {
        var limit = Store is InMemoryWorkflowStore ? HangGuard : RemoteIdleGuard;
        using var guard = new CancellationTokenSource(limit);
        try
        {
            await Engine.WaitForIdleAsync(guard.Token);
        }
        catch (OperationCanceledException) when (guard.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"The engine was still busy after {limit.TotalSeconds:0} s (a workflow that never stops stepping?). Running: "
                + await DescribeRunningAsync());
        }
    }

    /// <summary>
    /// Once the engine is idle, moves the clock to the earliest pending durable timer of any running instance (reminders,
    /// deadlines, retry backoffs) and waits until the engine is idle again. Returns the timer's due time; null when
    /// <paramref name="instanceId"/> has completed, or when no instance waits on a timer.
    /// </summary>
    public async Task<DateTime?> AdvanceToNextTimerAsync(string? instanceId = null)
    {
        await WaitForIdleAsync();
        if (instanceId is not null && await Client.GetInstanceAsync(instanceId) is { IsCompleted: true })
        {
            return null;
        }

        if (await NextTimerAsync() is not { } next)
        {
            return null;
        }

        if (next > Time.GetUtcNow())
        {
            Time.SetUtcNow(next);
        }

        await WaitForIdleAsync();
        return next.UtcDateTime;
    }

    /// <summary>
    /// Runs until <paramref name="done"/> holds: waits for the engine to be idle, checks, then lets the earliest pending
    /// durable timer fire, so that months of notices and grace periods pass at once and in order. Throws when nothing
    /// but a decision could make progress. <paramref name="done"/> may act (answer requests): it is asked again, and
    /// the clock stays, until an idle engine shows that the action changed nothing.
    /// </summary>
    public async Task RunUntilAsync(string instanceId, Func<Task<bool>> done, int maxJumps = 1000)
    {
        ArgumentNullException.ThrowIfNull(done);
        var stalls = 0;
        for (var jump = 0; jump < maxJumps; jump++)
        {
            await WaitForIdleAsync();
            var before = await ProgressAsync();
            if (await done())
            {
                return;
            }

            // The condition may have acted (answered a request): time moves only once that has settled and changed nothing.
            await WaitForIdleAsync();
            if (await ProgressAsync() != before)
            {
                continue;
            }

            var next = await NextTimerAsync();
            if (next is null || next <= Time.GetUtcNow())
            {
                if (++stalls > MaxStalls)
                {
                    throw new InvalidOperationException(
                        $"{instanceId} waits for something other than a timer: {await DescribeAsync(instanceId)}");
                }

                await Task.Delay(StallPause);
                continue;
            }

            stalls = 0;
            Time.SetUtcNow(next.Value);
        }

        throw new InvalidOperationException(
            $"{instanceId} did not reach the expected state after {maxJumps} timer jumps: {await DescribeAsync(instanceId)}");
    }

    /// <summary>Lets timers fire until <paramref name="instanceId"/> completes; its final state.</summary>
    public async Task<WorkflowMetadata> RunToCompletionAsync(string instanceId)
    {
        await RunUntilAsync(instanceId, async () => (await Client.GetInstanceAsync(instanceId, false))?.IsCompleted == true);
        return (await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true))!;
    }

    /// <summary>Lets timers fire until a notification matching <paramref name="match"/> has been sent; the first such.</summary>
    public async Task<Notification> RunUntilNotifiedAsync(string instanceId, Func<Notification, bool> match)
    {
        await RunUntilAsync(instanceId, () => Task.FromResult(Sent.Any(match)));
        return Sent.First(match);
    }

    /// <summary>The final state of <paramref name="instanceId"/>, which must complete without the clock moving.</summary>
    public async Task<WorkflowMetadata> CompletionAsync(string instanceId)
    {
        await WaitForIdleAsync();
        var instance = await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
        return instance is { IsCompleted: true }
            ? instance
            : throw new InvalidOperationException(
                $"{instanceId} has not completed and waits for a decision or the clock: {await DescribeAsync(instanceId)}");
    }

    /// <summary>
    /// The <paramref name="count"/>-th message of <paramref name="kind"/> to <paramref name="to"/>, sent by the time the engine is idle.
    /// </summary>
    public async Task<Notification> WaitForMessageAsync(string to, NotificationKind kind, int count = 1)
    {
        await WaitForIdleAsync();
        var messages = SentTo(to, kind);
        return messages.Count >= count
            ? messages[count - 1]
            : throw new InvalidOperationException(
                $"No {kind} #{count} to {to} once the engine was idle; sent: "
                + string.Join("; ", Sent.Select(n => $"{n.Kind} to {string.Join(",", n.To)}")));
    }

    /// <summary>
    /// The custom status of <paramref name="instanceId"/> once the engine is idle, which must satisfy <paramref name="condition"/>.
    /// </summary>
    public async Task<T?> WaitForCustomStatusAsync<T>(string instanceId, Func<T, bool> condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        await WaitForIdleAsync();
        var instance = await Client.GetInstanceAsync(instanceId);
        var status = instance?.SerializedCustomStatus is null ? default : instance.ReadCustomStatusAs<T>();
        return status is not null && condition(status)
            ? status
            : throw new InvalidOperationException(
                $"The custom status of {instanceId} is not the expected one once the engine is idle: {instance?.SerializedCustomStatus}");
    }

    /// <summary>
    /// Answers the approval request (or escalation) sent to <paramref name="approver"/> through its link's token, as a
    /// person would, once the engine is idle; the decision must be accepted.
    /// </summary>
    public async Task<ApprovalSubmissionResult> DecideAsync(
        string approver, string decision, string? comment = null, NotificationKind kind = NotificationKind.ApprovalRequest)
    {
        var message = await WaitForMessageAsync(approver, kind);
        var result = await Decisions.SubmitAsync(TokenOf(message, decision), decision, comment, "user:" + approver);
        Assert.True(result.Accepted, result.Message);
        return result;
    }

    /// <summary>
    /// Clicks the decision link number <paramref name="linkIndex"/> of <paramref name="notification"/> the way a host
    /// does: raises the decision event on the instance the link belongs to, then waits for the engine to be idle.
    /// </summary>
    public async Task DecideAsync(
        Notification notification, string decision, string? comment = null, int linkIndex = 0, string? instanceId = null)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var links = notification.Links.Select(l => ApprovalLinks.Parse(l.Url.ToString()).Link).Where(l => l?.Decision is not null).ToList();
        var token = links.Count > 0
            ? links[Math.Min(linkIndex, links.Count - 1)]!.Token
            : throw new InvalidOperationException("The notification carries no decision link.");
        var target = instanceId ?? notification.CorrelationId;
        await Client.RaiseEventAsync(target, ApprovalWorkflow.DecisionEventName, new ApprovalDecisionEvent(token, decision, null, comment));
        await WaitForIdleAsync();
    }

    /// <summary>
    /// Approves every approval request of <paramref name="instanceId"/> (and its sub-workflows) as it arrives, letting
    /// timers fire (retries) when nothing else moves, until the instance completes. Refused submissions (an approval
    /// withdrawn meanwhile) are ignored.
    /// </summary>
    public async Task<WorkflowMetadata> ApproveAllUntilCompletedAsync(string instanceId)
    {
        var decided = new HashSet<string>(StringComparer.Ordinal);
        await RunUntilAsync(instanceId, async () =>
        {
            var requests = Sent
                .Where(m => m.Kind == NotificationKind.ApprovalRequest && m.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal))
                .ToList();
            foreach (var message in requests.Where(m => decided.Add(m.DeduplicationKey)))
            {
                await Decisions.SubmitAsync(TokenOf(message), "approve", null, "user:" + message.To[0]);
            }

            return (await Client.GetInstanceAsync(instanceId))?.IsCompleted == true;
        });
        return (await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true))!;
    }

    public async Task<T?> OutputAsync<T>(string instanceId) =>
        (await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true))!.ReadOutputAs<T>();

    public async ValueTask DisposeAsync()
    {
        // The engine stops first, as a host stops it before its container goes: an activity dispatched during the
        // provider's own disposal would otherwise resolve its services from a disposed provider.
        await Engine.StopAsync();
        await _services.DisposeAsync();
    }

    /// <summary>A number that grows with every step any instance commits (instances and history events, all counted).</summary>
    private async Task<long> ProgressAsync()
    {
        long progress = 0;
        string? continuation = null;
        do
        {
            var page = await Store.QueryInstancesAsync(new WorkflowQuery { ContinuationToken = continuation });
            foreach (var instance in page.Instances)
            {
                progress += 1 + (await Store.GetHistoryAsync(instance.InstanceId)).Count;
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return progress;
    }

    /// <summary>The earliest durable timer not fired yet, over every instance that has not ended.</summary>
    private async Task<DateTimeOffset?> NextTimerAsync()
    {
        DateTimeOffset? next = null;
        string? continuation = null;
        do
        {
            var page = await Store.QueryInstancesAsync(new WorkflowQuery
            {
                Statuses = [WorkflowStatus.Pending, WorkflowStatus.Running, WorkflowStatus.Suspended],
                ContinuationToken = continuation,
            });
            foreach (var instance in page.Instances)
            {
                var history = await Store.GetHistoryAsync(instance.InstanceId);
                var fired = history.Where(e => e.EventType == HistoryEventType.TimerFired).Select(e => e.TaskScheduledId).ToHashSet();
                var pending = history.Where(e => e.EventType == HistoryEventType.TimerCreated && !fired.Contains(e.EventId))
                    .Where(e => e.FireAt is not null);
                foreach (var timer in pending)
                {
                    var at = new DateTimeOffset(DateTime.SpecifyKind(timer.FireAt!.Value, DateTimeKind.Utc));
                    next = next is null || at < next ? at : next;
                }
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return next;
    }

    private async Task<string> DescribeRunningAsync()
    {
        var running = await Client.QueryInstancesAsync(new WorkflowQuery { Statuses = [WorkflowStatus.Running, WorkflowStatus.Pending] });
        var described = new List<string>();
        foreach (var instance in running.Instances.Take(5))
        {
            described.Add($"{instance.InstanceId} ({instance.Name}): " + await DescribeAsync(instance.InstanceId));
        }

        return described.Count == 0 ? "none" : string.Join(" ## ", described);
    }

    private async Task<string> DescribeAsync(string instanceId)
    {
        var state = await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
        var history = await Store.GetHistoryAsync(instanceId);
        var children = history
            .Where(e => e.EventType == HistoryEventType.SubOrchestrationInstanceCreated)
            .Where(e => !history.Any(c => c.TaskScheduledId == e.EventId))
            .Select(e => e.InstanceId!)
            .ToList();
        var text = $"status {state?.Status}, custom status {state?.SerializedCustomStatus}, failure {state?.FailureDetails}, "
            + $"now {Time.GetUtcNow():O}, history: "
            + string.Join("; ", history.TakeLast(12).Select(e => $"{e} fire={e.FireAt:O}"));
        foreach (var child in children)
        {
            text += $" || child {child}: " + await DescribeAsync(child);
        }

        return text;
    }
}
