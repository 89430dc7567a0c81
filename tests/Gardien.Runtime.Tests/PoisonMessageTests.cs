using Gardien.Runtime.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Runtime.Tests;

public sealed class PoisonMessageTests
{
    [Fact]
    public async Task StepThatNeverCommits_FailsTheInstanceWithThePoisonReason_InsteadOfLoopingForever()
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var store = new FailingStepStore(new InMemoryWorkflowStore(time), "poison-step");
        await using var harness = await EngineHarness.StartAsync(store, time, r => r.AddWorkflow<string, string>("Any", (_, s) => Task.FromResult(s)));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Any", "x", "poison-step"));

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal("Gardien.Runtime.PoisonMessage", done.FailureDetails!.ErrorType);
        Assert.Contains("delivered 6 times", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("disk full (injected)", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(5, store.Failures);
    }

    [Fact]
    public async Task ActivityWhoseCompletionNeverCommits_FailsAfterMaxDequeueCount()
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var store = new FailingActivityCompletionStore(new InMemoryWorkflowStore(time));
        var runs = 0;
        await using var harness = await EngineHarness.StartAsync(store, time, r => r
            .AddActivity<string, string>("Grant", (_, s) =>
            {
                Interlocked.Increment(ref runs);
                return Task.FromResult(s);
            })
            .AddWorkflow<string, string>("Granter", (ctx, s) => ctx.CallActivityAsync<string>("Grant", s)));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Granter", "x", "poison-activity"));

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal("Gardien.Runtime.PoisonMessage", done.FailureDetails!.InnerFailure!.ErrorType);
        Assert.Contains("queue unavailable (injected)", done.FailureDetails.InnerFailure.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(5, runs);
    }

    private sealed class FailingStepStore(IWorkflowStore inner, string instanceId) : DelegatingWorkflowStore(inner)
    {
        private int _failures;

        public int Failures => Volatile.Read(ref _failures);

        public override Task CompleteWorkflowWorkItemAsync(WorkflowWorkItem workItem, WorkflowStepResult result, CancellationToken cancellationToken = default)
        {
            if (workItem.InstanceId == instanceId && result.State?.Status != WorkflowStatus.Failed)
            {
                Interlocked.Increment(ref _failures);
                throw new IOException("disk full (injected)");
            }

            return base.CompleteWorkflowWorkItemAsync(workItem, result, cancellationToken);
        }
    }

    private sealed class FailingActivityCompletionStore(IWorkflowStore inner) : DelegatingWorkflowStore(inner)
    {
        public override Task CompleteActivityWorkItemAsync(ActivityWorkItem workItem, WorkflowMessage response, CancellationToken cancellationToken = default) =>
            response.Event.EventType == HistoryEventType.TaskCompleted
                ? throw new IOException("queue unavailable (injected)")
                : base.CompleteActivityWorkItemAsync(workItem, response, cancellationToken);
    }
}
