using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Storage;
using Gardien.Testing;

using static Gardien.Runtime.Tests.AzureStorage.AzureStoreTestHubs;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>
/// The activities one step schedules, and events sent to one instance together, travel in packs (one queue message
/// for up to <c>MessagePackSize</c>), yet each keeps the semantics of a message of its own: handed out, abandoned,
/// counted as poison and replayed one by one, in order.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStoragePackTests(AzuriteFixture fixture)
{
    private static readonly TimeSpan Lock = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ShortLock = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Receive = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task FanOutStep_SendsOneQueueMessagePerPack_AndHandsOutEveryActivityOnce()
    {
        // Not delivered locally, so that the packs can be seen in the queue.
        var store = await AzureStoreTestHubs.CreateStoreAsync(
            fixture, options: AzureStoreTestHubs.Options(fixture) with { DeliverLocally = false, MessagePackSize = 32 });
        await ScheduleAsync(store, "fan", 70);

        var queued = await store.Clients.WorkItems.PeekMessagesAsync(32);
        Assert.Equal(3, queued.Value.Length);
        Assert.All(queued.Value, m => Assert.Contains("\"p\":[", m.MessageText, StringComparison.Ordinal));

        var handedOut = new List<int>();
        for (var i = 0; i < 70; i++)
        {
            var activity = await store.LockNextActivityWorkItemAsync(Lock, Receive, default);
            Assert.NotNull(activity);
            Assert.Equal(1, activity.DequeueCount);
            handedOut.Add(activity.Message.Event.EventId);
            await store.CompleteActivityWorkItemAsync(activity, Completed("fan", activity.Message.Event.EventId));
        }

        Assert.Equal(Enumerable.Range(0, 70), handedOut.Order());
        Assert.Null(await store.LockNextActivityWorkItemAsync(Lock, TimeSpan.FromMilliseconds(500), default));

        // Outcomes reported one by one reach the instance; once its step commits them, the packs are gone.
        var outcomes = await CollectOutcomesAsync(store, "fan", 70);
        Assert.Equal(Enumerable.Range(0, 70), outcomes.Order());
        Assert.Empty((await store.Clients.WorkItems.PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task LocallyDeliveredPack_IsDeletedOnlyOnceEveryMemberOutcomeIsCommitted()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await ScheduleAsync(store, "local", 3);
        var activities = new List<ActivityWorkItem>();
        for (var i = 0; i < 3; i++)
        {
            activities.Add(
                await store.LockNextActivityWorkItemAsync(Lock, Receive, default) ?? throw new Xunit.Sdk.XunitException("No activity."));
        }

        // Two outcomes committed, one still running: the pack message must stay (it backs the running one).
        await store.CompleteActivityWorkItemAsync(activities[0], Completed("local", activities[0].Message.Event.EventId));
        await store.CompleteActivityWorkItemAsync(activities[1], Completed("local", activities[1].Message.Event.EventId));
        Assert.Equal(2, (await CollectOutcomesAsync(store, "local", 2)).Count);
        Assert.Equal(1, await CountMessagesAsync(store));

        await store.CompleteActivityWorkItemAsync(activities[2], Completed("local", activities[2].Message.Event.EventId));
        Assert.Single(await CollectOutcomesAsync(store, "local", 1));
        Assert.Equal(0, await CountMessagesAsync(store));
    }

    [Fact]
    public async Task PackMemberAbandoned_ComesBackAloneWithItsDeliveryCountAndReason_SiblingsUnaffected()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await ScheduleAsync(store, "abandon", 3);
        var activities = new List<ActivityWorkItem>();
        for (var i = 0; i < 3; i++)
        {
            activities.Add(
                await store.LockNextActivityWorkItemAsync(Lock, Receive, default) ?? throw new Xunit.Sdk.XunitException("No activity."));
        }

        var failing = activities[1];
        await store.AbandonActivityWorkItemAsync(failing, "quota exceeded", TimeSpan.Zero);
        var again = await store.LockNextActivityWorkItemAsync(Lock, Receive, default);

        Assert.NotNull(again);
        Assert.Equal(failing.Message.Event.EventId, again.Message.Event.EventId);
        Assert.Equal(failing.Message.MessageId, again.Message.MessageId);
        Assert.Equal(2, again.DequeueCount);
        Assert.Equal("quota exceeded", again.LastError);

        // The siblings still complete normally; every outcome reaches the instance once.
        foreach (var activity in new[] { activities[0], activities[2], again })
        {
            await store.CompleteActivityWorkItemAsync(activity, Completed("abandon", activity.Message.Event.EventId));
        }

        Assert.Equal([0, 1, 2], (await CollectOutcomesAsync(store, "abandon", 3)).Order());
        Assert.Equal(0, await CountMessagesAsync(store));
    }

    [Fact]
    public async Task PackDeliveredTwice_IsSplitIntoSingleMessages_PersistedOutcomesReplayedAndTheRestCountedPerActivity()
    {
        var options = AzureStoreTestHubs.Options(fixture);
        var first = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: options);
        await ScheduleAsync(first, "split", 3, ShortLock);
        var done = await first.LockNextActivityWorkItemAsync(ShortLock, Receive, default);
        Assert.NotNull(done);
        await first.CompleteActivityWorkItemAsync(done, Completed("split", done.Message.Event.EventId));

        // The first process dies: its pack lease ends and another process receives the pack (its second delivery).
        var next = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: options);
        var rerun = new List<ActivityWorkItem>();
        for (var i = 0; i < 2; i++)
        {
            rerun.Add(
                await next.LockNextActivityWorkItemAsync(ShortLock, ShortLock + Receive, default)
                    ?? throw new Xunit.Sdk.XunitException("No activity."));
        }

        Assert.DoesNotContain(rerun, a => a.Message.Event.EventId == done.Message.Event.EventId);
        Assert.All(rerun, a => Assert.Equal(2, a.DequeueCount));
        Assert.Null(await next.LockNextActivityWorkItemAsync(ShortLock, TimeSpan.FromSeconds(1), default));

        // The outcome persisted before the crash is replayed to the instance without running the activity again.
        var replayed = await next.LockNextWorkflowWorkItemAsync(ShortLock, Receive, default);
        Assert.NotNull(replayed);
        Assert.Equal(done.Message.Event.EventId, Assert.Single(replayed.Messages).Message.Event.TaskScheduledId);
    }

    [Fact]
    public async Task MembersHandedOutOneAfterAnother_KeepTheSharedLeaseAlive()
    {
        // Each member runs shorter than half the lease, so none renews it while running; handing out the next one
        // past half-time does, and the pack does not come back while its last members run.
        // Margins for a loaded machine: the second hand-out must come after half the lease and 2 s before its end.
        var lease = TimeSpan.FromSeconds(10);
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await ScheduleAsync(store, "lease", 3, lease);
        var first = await store.LockNextActivityWorkItemAsync(lease, Receive, default);
        Assert.NotNull(first);

        await Task.Delay(TimeSpan.FromSeconds(5.5));
        var second = await store.LockNextActivityWorkItemAsync(lease, Receive, default);
        Assert.NotNull(second);
        await Task.Delay(TimeSpan.FromSeconds(5.5));

        // Past the first lease's end: the pack is still leased to this store, not visible to another process.
        Assert.Empty((await store.Clients.WorkItems.PeekMessagesAsync(32)).Value);
        var third = await store.LockNextActivityWorkItemAsync(lease, Receive, default);
        Assert.NotNull(third);
        Assert.Equal([0, 1, 2], new[] { first, second, third }.Select(a => a.Message.Event.EventId).Order());
    }

    [Fact]
    public async Task StoppingWithAnUntouchedPack_ReleasesThePackWhole_AndAPartlyTakenPack_ReleasesTheRestAsSingles()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await ScheduleAsync(store, "release", 3);

        await store.ReleaseUnclaimedMessagesAsync();

        var whole = Assert.Single((await store.Clients.WorkItems.PeekMessagesAsync(32)).Value);
        Assert.Contains("\"p\":[", whole.MessageText, StringComparison.Ordinal);

        // Received again (now from the queue), not as a second delivery: the release tried nothing.
        var taken = await store.LockNextActivityWorkItemAsync(Lock, Receive, default);
        Assert.NotNull(taken);
        Assert.Equal(1, taken.DequeueCount);
        await store.ReleaseUnclaimedMessagesAsync();

        var singles = (await store.Clients.WorkItems.PeekMessagesAsync(32)).Value;
        Assert.Equal(2, singles.Length);
        Assert.All(singles, m => Assert.DoesNotContain("\"p\":[", m.MessageText, StringComparison.Ordinal));
        Assert.DoesNotContain(singles, m => m.MessageText.Contains(taken.Message.MessageId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EventsSentTogether_ShareQueueMessages_AndReachTheInstanceOnceEachInSendingOrder()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await ScheduleAsync(store, "events", 0);

        await Task.WhenAll(
            Enumerable.Range(0, 20).Select(i => store.SendMessageAsync(new WorkflowMessage("events", Raised("e" + i)))).ToList());

        var queued = (await store.Clients.ControlQueueFor("events").PeekMessagesAsync(32)).Value;
        Assert.InRange(queued.Length, 1, 19);
        var step = await store.LockNextWorkflowWorkItemAsync(Lock, Receive, default);
        Assert.NotNull(step);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => "e" + i), step.Messages.Select(m => m.Message.Event.Name));
        Assert.All(step.Messages, m => Assert.Equal(1, m.DequeueCount));

        await store.CompleteWorkflowWorkItemAsync(step, new WorkflowStepResult(State("events") with { Status = WorkflowStatus.Running })
        {
            NewHistory = [.. step.Messages.Select(m => m.Message.Event)],
        });
        Assert.Empty((await store.Clients.ControlQueueFor("events").PeekMessagesAsync(32)).Value);
        Assert.Null(await store.LockNextWorkflowWorkItemAsync(Lock, TimeSpan.FromMilliseconds(500), default));
    }

    [Fact]
    public async Task StepWithPackedEventsAbandoned_EachEventComesBackAloneCountedAndInOrder()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await ScheduleAsync(store, "retry", 0);
        await Task.WhenAll(
            Enumerable.Range(0, 10).Select(i => store.SendMessageAsync(new WorkflowMessage("retry", Raised("e" + i)))).ToList());
        var step = await store.LockNextWorkflowWorkItemAsync(Lock, Receive, default);
        Assert.NotNull(step);

        await store.AbandonWorkflowWorkItemAsync(step, "step failed", TimeSpan.Zero);

        var retried = await store.LockNextWorkflowWorkItemAsync(Lock, Receive, default);
        Assert.NotNull(retried);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "e" + i), retried.Messages.Select(m => m.Message.Event.Name));
        Assert.All(retried.Messages, m => Assert.Equal(2, m.DequeueCount));
        Assert.All(retried.Messages, m => Assert.Equal("step failed", m.LastError));
    }

    [Fact]
    public async Task ActivityThatNeverGetsReported_BecomesPoisonAlone_WhileItsPackSiblingsComplete()
    {
        // Every report of task 2 fails (as if its worker died each time): it is abandoned, moved out of its pack, and
        // after MaxDequeueCount deliveries fails as poison with the last error; the other four complete once each.
        var store = new FailingReportStore(await AzureStoreTestHubs.CreateStoreAsync(fixture), failingTaskId: 2);
        var runs = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        await using var harness = await EngineHarness.StartAsync(store, TimeProvider.System, r => r
            .AddActivity<int, int>("Cell", (ctx, x) =>
            {
                runs.AddOrUpdate(ctx.TaskId, 1, (_, n) => n + 1);
                return Task.FromResult(x);
            })
            .AddWorkflow<int, string>("Five", async (ctx, _) =>
            {
                var cells = Enumerable.Range(0, 5).Select(i => ctx.CallActivityAsync<int>("Cell", i)).ToList();
                var outcomes = new List<string>();
                foreach (var cell in cells)
                {
                    try
                    {
                        outcomes.Add((await cell).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }
                    catch (WorkflowTaskFailedException ex)
                    {
                        outcomes.Add(ex.FailureDetails.ErrorType);
                    }
                }

                return string.Join(",", outcomes);
            }));

        var result = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Five", 0));

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal("0,1,Gardien.Runtime.PoisonMessage,3,4", result.ReadOutputAs<string>());
        Assert.All(new[] { 0, 1, 3, 4 }, taskId => Assert.Equal(1, runs[taskId]));
        Assert.Equal(5, runs[2]);
    }

    /// <summary>
    /// Fails every report of one task's result (not the engine's poison verdict), so that the engine abandons it each time.
    /// </summary>
    private sealed class FailingReportStore(IWorkflowStore inner, int failingTaskId) : DelegatingWorkflowStore(inner)
    {
        public override Task CompleteActivityWorkItemAsync(
            ActivityWorkItem workItem,
            WorkflowMessage response,
            CancellationToken cancellationToken = default) =>
            workItem.Message.Event.EventId == failingTaskId && response.Event.EventType == HistoryEventType.TaskCompleted
                ? throw new IOException("worker lost before reporting")
                : base.CompleteActivityWorkItemAsync(workItem, response, cancellationToken);
    }

    private static async Task StartAsync(AzureStorageWorkflowStore store, string id, TimeSpan lockDuration)
    {
        await store.CreateInstanceAsync(State(id), Start(id));

        // Teaches the store the engine's lease (local delivery uses it).
        Assert.Null(await store.LockNextActivityWorkItemAsync(lockDuration, TimeSpan.FromMilliseconds(10), default));
    }

    /// <summary>Creates the instance and commits a step scheduling <paramref name="count"/> activities (task ids 0..count-1).</summary>
    private static async Task ScheduleAsync(AzureStorageWorkflowStore store, string id, int count, TimeSpan? lockDuration = null)
    {
        await StartAsync(store, id, lockDuration ?? Lock);
        var start = await store.LockNextWorkflowWorkItemAsync(lockDuration ?? Lock, Receive, default)
            ?? throw new Xunit.Sdk.XunitException("No start.");
        var activities = Enumerable.Range(0, count).Select(i => Scheduled(id, i)).ToList();
        await store.CompleteWorkflowWorkItemAsync(start, new WorkflowStepResult(State(id) with { Status = WorkflowStatus.Running })
        {
            NewHistory = [start.Messages[0].Message.Event, .. activities.Select(a => a.Event)],
            ActivityMessages = activities,
        });
    }

    /// <summary>Takes the instance's work items until <paramref name="expected"/> outcomes arrived, committing each step.</summary>
    private static async Task<List<int>> CollectOutcomesAsync(AzureStorageWorkflowStore store, string id, int expected)
    {
        var taskIds = new List<int>();
        while (taskIds.Count < expected)
        {
            var step = await store.LockNextWorkflowWorkItemAsync(Lock, Receive, default)
                ?? throw new Xunit.Sdk.XunitException($"Only {taskIds.Count} of {expected} outcomes arrived.");
            taskIds.AddRange(step.Messages.Select(m => m.Message.Event.TaskScheduledId));
            await store.CompleteWorkflowWorkItemAsync(step, new WorkflowStepResult(State(id) with { Status = WorkflowStatus.Running })
            {
                NewHistory = [.. step.Messages.Select(m => m.Message.Event)],
            });
        }

        return taskIds;
    }

    /// <summary>Messages in the work-item queue, visible or leased.</summary>
    private static async Task<int> CountMessagesAsync(AzureStorageWorkflowStore store) =>
        (await store.Clients.WorkItems.GetPropertiesAsync()).Value.ApproximateMessagesCount;

    private static WorkflowMessage Scheduled(string id, int taskId) =>
        new(
            id,
            new HistoryEvent(HistoryEventType.TaskScheduled, DateTime.UtcNow, eventId: taskId)
            {
                Name = "Act",
                Input = taskId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            })
        {
            ExecutionId = "e1",
        };

    private static HistoryEvent Raised(string name) => new(HistoryEventType.EventRaised, DateTime.UtcNow) { Name = name, Input = "1" };

    private static WorkflowMessage Completed(string id, int taskId) =>
        new(id, new HistoryEvent(HistoryEventType.TaskCompleted, DateTime.UtcNow) { TaskScheduledId = taskId, Result = "1" })
        {
            ExecutionId = "e1",
        };
}
