using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Storage;
using Gardien.Testing;
using Microsoft.Extensions.Time.Testing;

using static Gardien.Runtime.Tests.AzureStorage.AzureStoreTestHubs;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>Store-level behaviour specific to Azure Storage (the engine-level contract is in the conformance suite).</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStorageWorkflowStoreTests(AzuriteFixture fixture)
{
    private static readonly TimeSpan Lock = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Receive = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task CreateInstance_SameIdTwice_SecondReturnsFalseAndKeepsTheFirstRow()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);

        Assert.True(await store.CreateInstanceAsync(State("i1", input: "\"first\""), Start("i1")));
        Assert.False(await store.CreateInstanceAsync(State("i1", input: "\"second\""), Start("i1")));

        var row = await store.GetInstanceAsync("i1");
        Assert.NotNull(row);
        Assert.Equal("\"first\"", row.Input);
        Assert.Equal(WorkflowStatus.Pending, row.Status);
    }

    [Fact]
    public async Task CompleteWorkItem_AppendsHistoryUpdatesRowAndConsumesMessages()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await store.CreateInstanceAsync(State("i1"), Start("i1"));

        var item = await LockAsync(store);
        Assert.Equal("i1", item.InstanceId);
        Assert.Empty(item.History);
        Assert.Equal(HistoryEventType.ExecutionStarted, Assert.Single(item.Messages).Message.Event.EventType);

        var started = item.Messages[0].Message.Event;
        await store.CompleteWorkflowWorkItemAsync(item, new WorkflowStepResult(
            State("i1") with { Status = WorkflowStatus.Completed, Output = "42" })
        {
            NewHistory =
            [
                started,
                new HistoryEvent(HistoryEventType.ExecutionCompleted, DateTime.UtcNow) { Result = "42", Status = WorkflowStatus.Completed },
            ],
        });

        Assert.Equal(
            [HistoryEventType.ExecutionStarted, HistoryEventType.ExecutionCompleted],
            (await store.GetHistoryAsync("i1")).Select(e => e.EventType));
        Assert.Equal("42", (await store.GetInstanceAsync("i1"))!.Output);
        Assert.Null(await store.LockNextWorkflowWorkItemAsync(Lock, TimeSpan.FromMilliseconds(300), default));
        var query = await store.QueryInstancesAsync(new WorkflowQuery { Statuses = [WorkflowStatus.Completed] });
        Assert.Equal("i1", Assert.Single(query.Instances).InstanceId);
    }

    [Fact]
    public async Task TwoStoresOnOneHub_StaleCommitLosesWithLockLostAndChangesNothing()
    {
        var options = AzureStoreTestHubs.Options(fixture);
        var first = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: options);
        var second = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: options);
        await first.CreateInstanceAsync(State("race"), Start("race"));
        var itemA = await LockAsync(first);

        // Another process gets a different message for the same instance and locks it too (the queues cannot stop that).
        await second.SendMessageAsync(Event("race", "ping"));
        var itemB = await LockAsync(second);

        await second.CompleteWorkflowWorkItemAsync(itemB, new WorkflowStepResult(State("race") with { Status = WorkflowStatus.Running })
        {
            NewHistory = [Raised("ping")],
        });
        var loser = new WorkflowStepResult(State("race") with { Status = WorkflowStatus.Completed }) { NewHistory = [Raised("loser")] };

        await Assert.ThrowsAsync<WorkItemLockLostException>(() => first.CompleteWorkflowWorkItemAsync(itemA, loser));

        Assert.Equal(["ping"], (await first.GetHistoryAsync("race")).Select(e => e.Name));
        Assert.Equal(WorkflowStatus.Running, (await first.GetInstanceAsync("race"))!.Status);
    }

    [Fact]
    public async Task LargePayloads_GoThroughBlobsAndRoundTrip()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        var big = "\"" + new string('x', 200 * 1024) + "\"";
        await store.CreateInstanceAsync(State("big", input: big), Start("big", input: big));

        var item = await LockAsync(store);
        Assert.Equal(big, item.Messages[0].Message.Event.Input);
        await store.CompleteWorkflowWorkItemAsync(item, new WorkflowStepResult(
            State("big", input: big) with { Status = WorkflowStatus.Completed, Output = big })
        {
            NewHistory = [item.Messages[0].Message.Event],
        });

        Assert.Equal(big, (await store.GetInstanceAsync("big"))!.Output);
        Assert.Equal(big, Assert.Single(await store.GetHistoryAsync("big")).Input);
        var blobs = new List<string>();
        await foreach (var blob in store.Clients.LargeMessages.GetBlobsAsync())
        {
            blobs.Add(blob.Name);
        }

        Assert.NotEmpty(blobs);
        Assert.True(await store.PurgeInstanceAsync("big"));
        await foreach (var blob in store.Clients.LargeMessages.GetBlobsAsync())
        {
            Assert.Fail("Purge left blob " + blob.Name);
        }
    }

    [Fact]
    public async Task TwoHubsOnOneAccount_DoNotSeeEachOther()
    {
        var hubA = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        var hubB = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await hubA.CreateInstanceAsync(State("shared-id"), Start("shared-id"));

        Assert.Null(await hubB.GetInstanceAsync("shared-id"));
        Assert.Null(await hubB.LockNextWorkflowWorkItemAsync(Lock, TimeSpan.FromMilliseconds(500), default));
        Assert.Empty((await hubB.QueryInstancesAsync(new WorkflowQuery())).Instances);
        Assert.True(await hubB.CreateInstanceAsync(State("shared-id", input: "\"b\""), Start("shared-id")));
        Assert.Null((await hubA.GetInstanceAsync("shared-id"))!.Input);
    }

    [Fact]
    public async Task AbandonedMessage_ComesBackWithIncrementedDequeueCountAndReason()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await store.CreateInstanceAsync(State("p"), Start("p"));

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var item = await LockAsync(store);
            var envelope = Assert.Single(item.Messages);
            Assert.Equal(attempt, envelope.DequeueCount);
            Assert.Equal(attempt == 1 ? null : "boom " + (attempt - 1), envelope.LastError);
            await store.AbandonWorkflowWorkItemAsync(item, "boom " + attempt, TimeSpan.Zero);
        }
    }

    [Fact]
    public async Task DelayedMessage_IsHiddenUntilTheFakeClockPassesIt_WithoutCountingAsAnAttempt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture, time);
        await store.CreateInstanceAsync(State("t"), Start("t"));
        var item = await LockAsync(store);
        await store.CompleteWorkflowWorkItemAsync(item, new WorkflowStepResult(State("t") with { Status = WorkflowStatus.Running })
        {
            NewHistory = [item.Messages[0].Message.Event],
            WorkflowMessages = [new WorkflowMessage(
                "t", new HistoryEvent(HistoryEventType.TimerFired, DateTime.UtcNow) { TaskScheduledId = 0 })
            {
                VisibleAt = time.GetUtcNow().AddDays(90),
            }],
        });

        Assert.Null(await store.LockNextWorkflowWorkItemAsync(Lock, TimeSpan.FromSeconds(1), default));
        time.Advance(TimeSpan.FromDays(91));
        var timer = await LockAsync(store);

        var envelope = Assert.Single(timer.Messages);
        Assert.Equal(HistoryEventType.TimerFired, envelope.Message.Event.EventType);
        Assert.Equal(1, envelope.DequeueCount);
    }

    [Fact]
    public async Task Activity_CompletedThenRedelivered_ReplaysThePersistedResultInsteadOfRunningAgain()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        var scheduled =
            new WorkflowMessage("a1", new HistoryEvent(HistoryEventType.TaskScheduled, DateTime.UtcNow, eventId: 3) { Name = "Act" })
            {
                ExecutionId = "e1",
            };
        await store.CreateInstanceAsync(State("a1"), Start("a1"));
        var start = await LockAsync(store);
        await store.CompleteWorkflowWorkItemAsync(start, new WorkflowStepResult(State("a1") with { Status = WorkflowStatus.Running })
        {
            NewHistory = [start.Messages[0].Message.Event, scheduled.Event],
            ActivityMessages = [scheduled, scheduled with { MessageId = Guid.NewGuid().ToString("N") }],
        });

        var activity = await store.LockNextActivityWorkItemAsync(Lock, Receive, default);
        Assert.NotNull(activity);
        var response =
            new WorkflowMessage(
                "a1", new HistoryEvent(HistoryEventType.TaskCompleted, DateTime.UtcNow) { TaskScheduledId = 3, Result = "7" })
            {
                ExecutionId = "e1",
            };
        await store.CompleteActivityWorkItemAsync(activity, response);

        // The duplicate schedule of the same task is not handed out again: its persisted result is sent instead.
        Assert.Null(await store.LockNextActivityWorkItemAsync(Lock, TimeSpan.FromSeconds(1), default));
        var completions = await LockAsync(store);
        Assert.Equal(2, completions.Messages.Count);
        Assert.All(completions.Messages, m => Assert.Equal(response.MessageId, m.Message.MessageId));
    }

    [Fact]
    public async Task WaitForInstanceChange_WakesWhenTheStatusChanges_NotAtEveryStep()
    {
        // A long polling interval, so that only a commit can complete the wait within the test.
        var store = await AzureStoreTestHubs.CreateStoreAsync(
            fixture, options: AzureStoreTestHubs.Options(fixture) with { MaxPollingInterval = TimeSpan.FromSeconds(30) });
        await store.CreateInstanceAsync(State("w"), Start("w"));
        var start = await LockAsync(store);
        var toRunning = store.WaitForInstanceChangeAsync("w", default);
        await store.CompleteWorkflowWorkItemAsync(start, new WorkflowStepResult(State("w") with { Status = WorkflowStatus.Running })
        {
            NewHistory = [start.Messages[0].Message.Event],
        });
        await toRunning.WaitAsync(TimeSpan.FromSeconds(10));

        var quiet = store.WaitForInstanceChangeAsync("w", default);
        await store.SendMessageAsync(Event("w", "tick"));
        var step = await LockAsync(store);
        await store.CompleteWorkflowWorkItemAsync(step, new WorkflowStepResult(
            State("w") with { Status = WorkflowStatus.Running, LastUpdatedAt = DateTimeOffset.UtcNow })
        {
            NewHistory = [step.Messages[0].Message.Event],
        });
        Assert.False(quiet.IsCompleted);

        await store.SendMessageAsync(Event("w", "last"));
        var last = await LockAsync(store);
        await store.CompleteWorkflowWorkItemAsync(last, new WorkflowStepResult(State("w") with { Status = WorkflowStatus.Completed })
        {
            NewHistory = [last.Messages[0].Message.Event],
        });
        await quiet.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Purge_RunningInstance_IsRefused()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await store.CreateInstanceAsync(State("r"), Start("r"));

        Assert.False(await store.PurgeInstanceAsync("r"));
        Assert.False(await store.PurgeInstanceAsync("missing"));
        Assert.NotNull(await store.GetInstanceAsync("r"));
    }

    [Fact]
    public async Task Query_ByPrefixAndPages_ReturnsEveryMatchOnce()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        foreach (var id in new[] { "plan/1", "plan/2", "plan/3", "plan#4", "other" })
        {
            await store.CreateInstanceAsync(State(id), Start(id));
        }

        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await store.QueryInstancesAsync(
                new WorkflowQuery { InstanceIdPrefix = "plan/", PageSize = 2, ContinuationToken = token });
            Assert.True(page.Instances.Count <= 2);
            seen.AddRange(page.Instances.Select(i => i.InstanceId));
            token = page.ContinuationToken;
        }
        while (token is not null);

        Assert.Equal(["plan/1", "plan/2", "plan/3"], seen);
    }

    private static async Task<WorkflowWorkItem> LockAsync(AzureStorageWorkflowStore store) =>
        await store.LockNextWorkflowWorkItemAsync(Lock, Receive, default) ?? throw new Xunit.Sdk.XunitException("No work item arrived.");

    private static WorkflowMessage Event(string id, string name) => new(id, Raised(name));

    private static HistoryEvent Raised(string name) => new(HistoryEventType.EventRaised, DateTime.UtcNow) { Name = name };
}
