using Gardien.Runtime;
using Gardien.Runtime.Storage;
using Gardien.Workflows.Activities.Access;
using Gardien.Workflows.Activities.Approvals;
using Gardien.Workflows.Activities.BlobEvents;
using Gardien.Workflows.Activities.Common;
using Gardien.Workflows.Activities.Provisioning;
using Gardien.Workflows.Activities.Retention;
using Gardien.Workflows.Activities.Reviews;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Gardien.Workflows.Workflows;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// The embedded engine on the in-memory store, a fake clock, the real activities wired to <see cref="RetentionTestFakes"/>
/// (strict mocks). <see cref="RunUntilAsync"/> drives durable timers: when the instance tree is idle it moves the clock
/// to the next pending timer, so months of notices and grace periods pass instantly and deterministically.
/// </summary>
public sealed class RetentionTestHost : IAsyncDisposable
{
    /// <summary>Hang guard only: no test asserts on elapsed time.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private readonly Dictionary<Type, object> _services = [];

    private RetentionTestHost(RetentionTestFakes fakes, FakeTimeProvider time)
    {
        Fakes = fakes;
        Time = time;
        Store = new InMemoryWorkflowStore(time);
        var tokens = new ApprovalTokenService(fakes.Secrets.Object, fakes.Registry.Object, new ApprovalTokenSettings(), time);
        _services[typeof(IGovernanceRegistry)] = fakes.Registry.Object;
        _services[typeof(IStorageProvisioner)] = fakes.Storage.Object;
        _services[typeof(INotifier)] = fakes.Notifier.Object;
        _services[typeof(IAuditLog)] = fakes.Audit.Object;
        _services[typeof(IDirectory)] = fakes.Directory.Object;
        _services[typeof(ISecretStore)] = fakes.Secrets.Object;
        _services[typeof(ApprovalTokenService)] = tokens;
        _services[typeof(GardienWorkflowOptions)] = new GardienWorkflowOptions { Policy = Policy };
        _services[typeof(TimeProvider)] = time;
        var registry = Register(new WorkflowRegistry());
        Engine = new WorkflowEngine(Store, registry, new WorkflowEngineOptions
        {
            TimeProvider = time,
            AbandonDelay = _ => TimeSpan.Zero,
            StoreErrorBackoff = TimeSpan.FromMilliseconds(1),
            ReceiveTimeout = TimeSpan.FromSeconds(5),
            MaxConcurrentWorkflowSteps = 2,
            MaxConcurrentActivities = 8,
            Services = new MapServiceProvider(_services),
        });
        _services[typeof(IWorkflowClient)] = Engine.Client;
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

    public RetentionTestFakes Fakes { get; }

    public FakeTimeProvider Time { get; }

    public InMemoryWorkflowStore Store { get; }

    public WorkflowEngine Engine { get; }

    public WorkflowEngineClient Client => Engine.Client;

    public static async Task<RetentionTestHost> StartAsync(RetentionTestFakes fakes, DateTimeOffset? start = null)
    {
        var host = new RetentionTestHost(fakes, new FakeTimeProvider(start ?? Epoch));
        await host.Engine.StartAsync();
        return host;
    }

    /// <summary>Everything the retention, access-review and blob-event workflows need (theirs and the approval side's).</summary>
    public static WorkflowRegistry Register(WorkflowRegistry registry) => registry
        .AddWorkflow<RetentionSweepWorkflow>()
        .AddWorkflow<RetentionCaseWorkflow>()
        .AddWorkflow<AccessReviewWorkflow>()
        .AddWorkflow<HandleBlobEventWorkflow>()
        .AddWorkflow<ApprovalWorkflow>()
        .AddActivity<LoadRetentionSettingsActivity>()
        .AddActivity<FindRetentionCandidatesActivity>()
        .AddActivity<StartRetentionCaseActivity>()
        .AddActivity<GetRetentionCaseStatusActivity>()
        .AddActivity<LoadRetentionCaseActivity>()
        .AddActivity<DisposeDatasetActivity>()
        .AddActivity<PurgeDatasetActivity>()
        .AddActivity<CancelDeletionActivity>()
        .AddActivity<WriteDeletionCertificateActivity>()
        .AddActivity<LoadAccessReviewActivity>()
        .AddActivity<ConfirmGrantsActivity>()
        .AddActivity<AnalyzeBlobEventActivity>()
        .AddActivity<TagBlobActivity>()
        .AddActivity<MarkBlobEventProcessedActivity>()
        .AddActivity<IssueApprovalLinkActivity>()
        .AddActivity<VerifyApprovalDecisionActivity>()
        .AddActivity<RecordApprovalActivity>()
        .AddActivity<ResolveApproverActivity>()
        .AddActivity<SendNotificationActivity>()
        .AddActivity<WriteAuditActivity>()
        .AddActivity<RevokeAccessActivity>()
        .AddActivity<UpdateDatasetRetentionActivity>();

    /// <summary>
    /// Drives the clock until <paramref name="done"/> holds: waits for the instance (and its sub-workflows) to be idle,
    /// checks the condition, then jumps to the earliest pending durable timer. Throws when nothing can make progress.
    /// </summary>
    public async Task RunUntilAsync(string instanceId, Func<Task<bool>> done, int maxJumps = 400)
    {
        for (var jump = 0; jump < maxJumps; jump++)
        {
            await WaitIdleAsync(instanceId);
            if (await done())
            {
                return;
            }

            var next = await NextTimerAsync(instanceId) ?? throw new InvalidOperationException($"{instanceId} waits for something other than a timer: {await DescribeAsync(instanceId)}");
            if (next > Time.GetUtcNow())
            {
                Time.SetUtcNow(next);
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
        await RunUntilAsync(instanceId, () => Task.FromResult(Fakes.NotificationsSnapshot().Any(match)));
        return Fakes.NotificationsSnapshot().First(match);
    }

    /// <summary>Clicks a decision link of a notification the way a host does: raises the decision event on the instance the link belongs to.</summary>
    public async Task DecideAsync(Notification notification, string decision, string? comment = null, int linkIndex = 0, string? instanceId = null)
    {
        var links = notification.Links.Where(l => l.Url.Query.Contains("decision=", StringComparison.Ordinal)).ToList();
        var url = links.Count > 0 ? links[Math.Min(linkIndex, links.Count - 1)].Url : throw new InvalidOperationException("The notification carries no decision link.");
        var path = url.AbsolutePath;
        var token = Uri.UnescapeDataString(path[(path.IndexOf("/approvals/", StringComparison.Ordinal) + "/approvals/".Length)..]);
        var target = instanceId ?? notification.CorrelationId;
        var before = (await Store.GetHistoryAsync(target)).Count(e => e.EventType == HistoryEventType.EventRaised);
        await Client.RaiseEventAsync(target, ApprovalWorkflow.DecisionEventName, new ApprovalDecisionEvent(token, decision, null, comment));
        await WaitAsync(async () => (await Store.GetHistoryAsync(target)).Count(e => e.EventType == HistoryEventType.EventRaised) > before, "the decision event to be processed");
    }

    public async Task<T?> OutputAsync<T>(string instanceId) => (await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true))!.ReadOutputAs<T>();

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
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

    private sealed class MapServiceProvider(Dictionary<Type, object> services) : IServiceProvider
    {
        public object? GetService(Type serviceType) => services.GetValueOrDefault(serviceType);
    }
}
