using Gardien.Runtime.Storage;

namespace Gardien.Runtime.Tests;

/// <summary>
/// A worker slot bounds activity code, not the store's reporting of its outcome: while one outcome waits for a slow
/// write, the next activity runs. Outcomes still reach the workflow, and the reporting has its own bound.
/// </summary>
public sealed class ActivityReportingTests
{
    [Fact]
    public async Task OutcomeWaitingForTheStore_DoesNotHoldTheOnlyWorkerSlot()
    {
        var store = new SlowReportingStore(new InMemoryWorkflowStore());
        var ran = new List<int>();
        var secondRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = await EngineHarness.StartAsync(store, TimeProvider.System, r => r
            .AddActivity<int, int>("Work", (_, x) =>
            {
                lock (ran)
                {
                    ran.Add(x);
                    if (ran.Count == 2)
                    {
                        secondRan.TrySetResult();
                    }
                }

                return Task.FromResult(x * 10);
            })
            .AddWorkflow<int, int>("Two", async (ctx, _) =>
            {
                var results = await Task.WhenAll(ctx.CallActivityAsync<int>("Work", 1), ctx.CallActivityAsync<int>("Work", 2));
                return results.Sum();
            }), o => o with { MaxConcurrentActivities = 1 });

        var id = await harness.Client.ScheduleNewAsync("Two", 0);

        // The first outcome is held in the store; the second activity runs anyway on the single worker slot.
        await store.FirstReportStarted.Task.WaitAsync(EngineHarness.HangGuard);
        await secondRan.Task.WaitAsync(EngineHarness.HangGuard);
        Assert.False(store.FirstReportReleased);

        store.ReleaseFirstReport();
        var result = await harness.CompletionAsync(id);
        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal(30, result.ReadOutputAs<int>());
    }

    /// <summary>Holds the first activity outcome inside CompleteActivityWorkItemAsync until released.</summary>
    private sealed class SlowReportingStore(IWorkflowStore inner) : DelegatingWorkflowStore(inner)
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _reports;

        public TaskCompletionSource FirstReportStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool FirstReportReleased => _release.Task.IsCompleted;

        public void ReleaseFirstReport() => _release.TrySetResult();

        public override async Task CompleteActivityWorkItemAsync(
            ActivityWorkItem workItem,
            WorkflowMessage response,
            CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _reports) == 1)
            {
                FirstReportStarted.TrySetResult();
                await _release.Task.ConfigureAwait(false);
            }

            await base.CompleteActivityWorkItemAsync(workItem, response, cancellationToken).ConfigureAwait(false);
        }
    }
}
