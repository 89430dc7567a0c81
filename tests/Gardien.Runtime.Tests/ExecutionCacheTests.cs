using Gardien.Runtime.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Gardien.Runtime.Tests;

public sealed class ExecutionCacheTests
{
    [Fact]
    public async Task ExecutionCache_NextStepLockedBeforeTheCommitReturns_ResumesWithoutReplay()
    {
        var time = new FakeTimeProvider(EngineHarness.Epoch);
        var store = new SlowCommitReturnStore(new InMemoryWorkflowStore(time), "slow-commit");
        var starts = 0;
        await using var harness = await EngineHarness.StartAsync(store, time, r => r
            .AddActivity<string, string>("Echo", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, List<bool>>("Observer", async (ctx, _) =>
            {
                Interlocked.Increment(ref starts);
                var seen = new List<bool> { ctx.IsReplaying };
                await ctx.CallActivityAsync<string>("Echo", "a");
                seen.Add(ctx.IsReplaying);
                return seen;
            }));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Observer", "x", "slow-commit"));

        Assert.True(store.NextStepLockedDuringFirstCommit, "the test did not create the race it is about");
        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal([false, false], done.ReadOutputAs<List<bool>>());
        Assert.Equal(1, starts);
    }

    /// <summary>
    /// Holds the first step's commit call open after the store has committed (and released the instance) until the
    /// instance's next step has been locked: the window in which a step used to find no cached execution.
    /// </summary>
    private sealed class SlowCommitReturnStore(IWorkflowStore inner, string instanceId) : DelegatingWorkflowStore(inner)
    {
        private readonly TaskCompletionSource _nextStepLocked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _commits;

        public bool NextStepLockedDuringFirstCommit { get; private set; }

        public override async Task CompleteWorkflowWorkItemAsync(
            WorkflowWorkItem workItem,
            WorkflowStepResult result,
            CancellationToken cancellationToken = default)
        {
            await base.CompleteWorkflowWorkItemAsync(workItem, result, cancellationToken);
            if (workItem.InstanceId == instanceId && Interlocked.Increment(ref _commits) == 1)
            {
                try
                {
                    await _nextStepLocked.Task.WaitAsync(EngineHarness.HangGuard, CancellationToken.None);
                    NextStepLockedDuringFirstCommit = true;
                }
                catch (TimeoutException)
                {
                    // Reported by the test's first assertion rather than by a hang.
                }
            }
        }

        public override async Task<WorkflowWorkItem?> LockNextWorkflowWorkItemAsync(
            TimeSpan lockDuration,
            TimeSpan receiveTimeout,
            CancellationToken cancellationToken)
        {
            var workItem = await base.LockNextWorkflowWorkItemAsync(lockDuration, receiveTimeout, cancellationToken);
            if (workItem?.InstanceId == instanceId && Volatile.Read(ref _commits) >= 1)
            {
                _nextStepLocked.TrySetResult();
            }

            return workItem;
        }
    }
}
