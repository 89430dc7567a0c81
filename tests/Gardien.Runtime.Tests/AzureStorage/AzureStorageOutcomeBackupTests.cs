using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Storage;
using Gardien.Testing;

using static Gardien.Runtime.Tests.AzureStorage.AzureStoreTestHubs;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>
/// An activity outcome is held in memory with the (still leased) activity message as its only queue copy, and its
/// result row as the durable record. A process that dies at any point of that path loses nothing and re-runs nothing:
/// the activity message comes back when its lease ends and its redelivery replays the persisted outcome.
/// A "crash" here is a store object dropped without releasing anything; a fresh store object is the next process.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStorageOutcomeBackupTests(AzuriteFixture fixture)
{
    // Short enough to wait out, longer than the store's minimum usable lease.
    private static readonly TimeSpan ShortLock = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Receive = TimeSpan.FromSeconds(15);

    // Long enough for a lease to end and the message to be received; a null answer waits this long.
    private static readonly TimeSpan ReceiveAfterLease = ShortLock + TimeSpan.FromSeconds(3);

    [Fact]
    public async Task CrashAfterOutcomePersistedBeforeItsStepCommits_NextProcessGetsTheOutcomeWithoutRunningTheActivity()
    {
        var options = AzureStoreTestHubs.Options(fixture);
        var first = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: options);
        var (activity, response) = await ScheduleAndRunActivityAsync(first, "crash-before-step");

        // In memory only: no response message in the control queue, and the activity message is still leased.
        Assert.Empty((await first.Clients.ControlQueueFor("crash-before-step").PeekMessagesAsync(32)).Value);
        Assert.Empty((await first.Clients.WorkItems.PeekMessagesAsync(32)).Value);

        var next = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: options);
        Assert.Null(await next.LockNextActivityWorkItemAsync(ShortLock, ReceiveAfterLease, default)); // replayed, not handed out
        var step = await next.LockNextWorkflowWorkItemAsync(ShortLock, Receive, default);
        Assert.NotNull(step);
        var outcome = Assert.Single(step.Messages).Message;
        Assert.Equal(response.MessageId, outcome.MessageId);
        Assert.Equal(HistoryEventType.TaskCompleted, outcome.Event.EventType);
        Assert.Equal("7", outcome.Event.Result);
        Assert.Equal(activity.Message.Event.EventId, outcome.Event.TaskScheduledId);
    }

    [Fact]
    public async Task CrashAfterTheStepCommittedTheOutcomeBeforeDeletingTheActivityMessage_ActivityIsNotRunAgain()
    {
        var failDeletes = new FailActivityMessageDeletes();
        var options = AzureStoreTestHubs.Options(fixture);
        var first = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: options with { AdditionalPolicies = [failDeletes] });
        var (_, response) = await ScheduleAndRunActivityAsync(first, "crash-before-delete");

        var step = await first.LockNextWorkflowWorkItemAsync(ShortLock, Receive, default);
        Assert.NotNull(step);
        var outcome = Assert.Single(step.Messages).Message;
        failDeletes.Enabled = true;
        await Assert.ThrowsAnyAsync<RequestFailedException>(() => first.CompleteWorkflowWorkItemAsync(step, new WorkflowStepResult(
            State("crash-before-delete"))
        {
            NewHistory = [outcome.Event],
        }));
        Assert.Contains(await first.GetHistoryAsync("crash-before-delete"), e => e.EventType == HistoryEventType.TaskCompleted);

        // The next process receives the activity message once its lease ends: it replays the outcome (a duplicate the
        // engine discards, the task being completed in history) and never hands the activity out.
        var next = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: options);
        Assert.Null(await next.LockNextActivityWorkItemAsync(ShortLock, ReceiveAfterLease, default));
        var duplicate = await next.LockNextWorkflowWorkItemAsync(ShortLock, Receive, default);
        Assert.NotNull(duplicate);
        Assert.Equal(response.MessageId, Assert.Single(duplicate.Messages).Message.MessageId);
        Assert.Empty((await next.Clients.WorkItems.PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task StepAbandonedWithAnOutcomeInMemory_OutcomeComesBackAndTheActivityMessageIsUnchanged()
    {
        var options = AzureStoreTestHubs.Options(fixture);
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: options);
        var (activity, response) = await ScheduleAndRunActivityAsync(store, "abandoned");
        var step = await store.LockNextWorkflowWorkItemAsync(ShortLock, Receive, default);
        Assert.NotNull(step);

        await store.AbandonWorkflowWorkItemAsync(step, "step failed", TimeSpan.Zero);

        // The activity message is visible again with its content intact (still the activity, not the outcome).
        var peeked = Assert.Single((await store.Clients.WorkItems.PeekMessagesAsync(32)).Value);
        Assert.Contains("TaskScheduled", peeked.MessageText, StringComparison.Ordinal);
        Assert.Null(await store.LockNextActivityWorkItemAsync(ShortLock, ReceiveAfterLease, default));
        var retried = await store.LockNextWorkflowWorkItemAsync(ShortLock, Receive, default);
        Assert.NotNull(retried);
        Assert.Equal(response.MessageId, Assert.Single(retried.Messages).Message.MessageId);
        Assert.Equal(activity.Message.Event.EventId, retried.Messages[0].Message.Event.TaskScheduledId);
    }

    /// <summary>Creates an instance, commits a step scheduling one activity, runs it (locally delivered) and completes it.</summary>
    private static async Task<(ActivityWorkItem Activity, WorkflowMessage Response)> ScheduleAndRunActivityAsync(
        AzureStorageWorkflowStore store,
        string id)
    {
        await store.CreateInstanceAsync(State(id), Start(id));
        var start = await store.LockNextWorkflowWorkItemAsync(ShortLock, Receive, default);
        Assert.NotNull(start);
        var scheduled =
            new WorkflowMessage(id, new HistoryEvent(HistoryEventType.TaskScheduled, DateTime.UtcNow, eventId: 0) { Name = "Act" })
            {
                ExecutionId = "e1",
            };
        await store.CompleteWorkflowWorkItemAsync(start, new WorkflowStepResult(State(id) with { Status = WorkflowStatus.Running })
        {
            NewHistory = [start.Messages[0].Message.Event, scheduled.Event],
            ActivityMessages = [scheduled],
        });

        var activity = await store.LockNextActivityWorkItemAsync(ShortLock, Receive, default);
        Assert.NotNull(activity);
        var response =
            new WorkflowMessage(id, new HistoryEvent(HistoryEventType.TaskCompleted, DateTime.UtcNow) { TaskScheduledId = 0, Result = "7" })
            {
                ExecutionId = "e1",
            };
        await store.CompleteActivityWorkItemAsync(activity, response);
        return (activity, response);
    }

    /// <summary>Fails message deletes on the work-item queue (the process "dies" right before them).</summary>
    private sealed class FailActivityMessageDeletes : HttpPipelinePolicy
    {
        public volatile bool Enabled;

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ThrowIfActivityDelete(message);
            return ProcessNextAsync(message, pipeline);
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ThrowIfActivityDelete(message);
            ProcessNext(message, pipeline);
        }

        private void ThrowIfActivityDelete(HttpMessage message)
        {
            if (Enabled
                && message.Request.Method == RequestMethod.Delete
                && message.Request.Uri.Path.Contains("-workitems/messages/", StringComparison.Ordinal))
            {
                throw new RequestFailedException(503, "Simulated crash before the activity message delete.");
            }
        }
    }
}
