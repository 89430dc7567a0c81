using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;

namespace Gardien.Runtime.Tests.Conformance;

/// <summary>
/// The executable contract of <see cref="IWorkflowStore"/> (see runtime/Gardien.Runtime/Storage/STORE-CONTRACT.md):
/// store-level tests of every member, then every port member end to end through a <see cref="WorkflowEngine"/> on the
/// store. Derive, implement <see cref="CreateStoreAsync"/> and every test must pass. Uses the real clock with short
/// durations (a store backed by a service cannot follow a fake clock); fake-time behaviour is tested on the in-memory store.
/// </summary>
public abstract class WorkflowStoreConformanceTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ShortReceive = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan LongReceive = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A new, EMPTY store (fresh task hub) per call: store-level tests lock "the next" work item and must not see
    /// other tests' data. Implementations may also implement <see cref="IAsyncDisposable"/> to clean up.
    /// </summary>
    protected abstract Task<IWorkflowStore> CreateStoreAsync(TimeProvider timeProvider);

    protected virtual TimeProvider Clock => TimeProvider.System;

    private static string NewId(string prefix = "i") => $"{prefix}-{Guid.NewGuid():N}";

    private async Task<IWorkflowStore> NewStoreAsync()
    {
        var store = await CreateStoreAsync(Clock);
        await store.CreateIfNotExistsAsync();
        return store;
    }

    private async Task<EngineHarness> StartEngineAsync(
        Action<WorkflowRegistry> register,
        Func<WorkflowEngineOptions, WorkflowEngineOptions>? configure = null) =>
        await EngineHarness.StartAsync(await NewStoreAsync(), Clock, register, configure);

    private WorkflowInstanceState NewState(
        string id,
        string name = "W",
        WorkflowStatus status = WorkflowStatus.Pending,
        DateTimeOffset? createdAt = null)
    {
        var now = createdAt ?? Clock.GetUtcNow();
        return new WorkflowInstanceState(id, name)
        {
            Status = status,
            CreatedAt = now,
            LastUpdatedAt = now,
            ExecutionId = "e1",
            Version = "1",
            Input = "\"in\"",
        };
    }

    private WorkflowMessage StartMessage(string id, string name = "W") =>
        new(
            id,
            new HistoryEvent(HistoryEventType.ExecutionStarted, Clock.GetUtcNow().UtcDateTime)
            {
                Name = name,
                InstanceId = id,
                ExecutionId = "e1",
                Input = "\"in\"",
            });

    private WorkflowMessage EventMessage(string id, string name, string? data = null) =>
        new(id, new HistoryEvent(HistoryEventType.EventRaised, Clock.GetUtcNow().UtcDateTime) { Name = name, Input = data });

    private async Task<WorkflowWorkItem> LockAsync(IWorkflowStore store)
    {
        using var guard = new CancellationTokenSource(EngineHarness.HangGuard);
        return await store.LockNextWorkflowWorkItemAsync(Lease, LongReceive, guard.Token)
            ?? throw new InvalidOperationException("No work item arrived.");
    }

    // ---------------------------------------------------------------- store level

    [Fact]
    public async Task Store_CreateInstance_SecondCreateOfSameId_ReturnsFalseAndKeepsTheFirst()
    {
        var store = await NewStoreAsync();
        var id = NewId();

        Assert.True(await store.CreateInstanceAsync(NewState(id, "First"), StartMessage(id, "First")));
        Assert.False(await store.CreateInstanceAsync(NewState(id, "Second"), StartMessage(id, "Second")));

        var state = await store.GetInstanceAsync(id);
        Assert.Equal("First", state!.Name);
        Assert.Equal(WorkflowStatus.Pending, state.Status);
    }

    [Fact]
    public async Task Store_GetInstanceAndHistory_OfUnknownInstance_AreNullAndEmpty()
    {
        var store = await NewStoreAsync();

        Assert.Null(await store.GetInstanceAsync(NewId()));
        Assert.Empty(await store.GetHistoryAsync(NewId()));
    }

    [Fact]
    public async Task Store_LockNext_ReturnsRowHistoryAndMessages_AndHidesTheInstanceWhileLocked()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        await store.CreateInstanceAsync(NewState(id), StartMessage(id));
        await store.SendMessageAsync(EventMessage(id, "go", "1"));

        var item = await LockAsync(store);

        Assert.Equal(id, item.InstanceId);
        Assert.Equal("W", item.Instance!.Name);
        Assert.Empty(item.History);
        Assert.Equal(
            [HistoryEventType.ExecutionStarted, HistoryEventType.EventRaised], item.Messages.Select(m => m.Message.Event.EventType));
        Assert.All(item.Messages, m => Assert.Equal(1, m.DequeueCount));
        Assert.Null(await store.LockNextWorkflowWorkItemAsync(Lease, ShortReceive, CancellationToken.None));
    }

    [Fact]
    public async Task Store_Complete_AppendsHistory_ReplacesRow_SendsMessages_AndDeletesOnlyConsumedMessages()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        var other = NewId("other");
        await store.CreateInstanceAsync(NewState(id), StartMessage(id));
        var item = await LockAsync(store);
        await store.SendMessageAsync(EventMessage(id, "late"));
        var now = Clock.GetUtcNow().UtcDateTime;
        var scheduled = new HistoryEvent(HistoryEventType.TaskScheduled, now, 0) { Name = "Act", Input = "5" };

        await store.CompleteWorkflowWorkItemAsync(item, new WorkflowStepResult(
            NewState(id, status: WorkflowStatus.Running) with { CustomStatus = "\"busy\"" })
        {
            NewHistory =
            [
                new(HistoryEventType.OrchestratorStarted, now),
                item.Messages[0].Message.Event,
                scheduled,
                new(HistoryEventType.OrchestratorCompleted, now),
            ],
            ActivityMessages = [new WorkflowMessage(id, scheduled) { ExecutionId = "e1" }],
            WorkflowMessages = [EventMessage(other, "hello", "\"x\"")],
        });

        var history = await store.GetHistoryAsync(id);
        Assert.Equal(
            [
                HistoryEventType.OrchestratorStarted,
                HistoryEventType.ExecutionStarted,
                HistoryEventType.TaskScheduled,
                HistoryEventType.OrchestratorCompleted,
            ],
            history.Select(e => e.EventType));
        Assert.Equal("Act", history[2].Name);
        Assert.Equal("5", history[2].Input);
        var state = await store.GetInstanceAsync(id);
        Assert.Equal(WorkflowStatus.Running, state!.Status);
        Assert.Equal("\"busy\"", state.CustomStatus);

        var activity = await store.LockNextActivityWorkItemAsync(Lease, LongReceive, CancellationToken.None);
        Assert.NotNull(activity);
        Assert.Equal("Act", activity.Message.Event.Name);
        Assert.Equal("e1", activity.Message.ExecutionId);

        var next = new[] { await LockAsync(store), await LockAsync(store) }.ToDictionary(w => w.InstanceId);
        Assert.Equal("late", Assert.Single(next[id].Messages).Message.Event.Name);
        Assert.Equal(4, next[id].History.Count);
        Assert.Equal("hello", Assert.Single(next[other].Messages).Message.Event.Name);
        Assert.Null(next[other].Instance);
    }

    [Fact]
    public async Task Store_CompleteWithReplaceHistory_KeepsOnlyTheNewExecution()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        await store.CreateInstanceAsync(NewState(id), StartMessage(id));
        var now = Clock.GetUtcNow().UtcDateTime;
        var first = await LockAsync(store);
        await store.CompleteWorkflowWorkItemAsync(first, new WorkflowStepResult(NewState(id, status: WorkflowStatus.Running))
        {
            NewHistory =
            [
                new(HistoryEventType.OrchestratorStarted, now),
                first.Messages[0].Message.Event,
                new(HistoryEventType.OrchestratorCompleted, now),
            ],
        });
        await store.SendMessageAsync(EventMessage(id, "again"));
        var second = await LockAsync(store);

        await store.CompleteWorkflowWorkItemAsync(second, new WorkflowStepResult(
            NewState(id, status: WorkflowStatus.Running) with { ExecutionId = "e2" })
        {
            ReplaceHistory = true,
            NewHistory =
            [
                new(HistoryEventType.OrchestratorStarted, now),
                new(HistoryEventType.ExecutionStarted, now) { Name = "W", ExecutionId = "e2" },
            ],
        });

        var history = await store.GetHistoryAsync(id);
        Assert.Equal([HistoryEventType.OrchestratorStarted, HistoryEventType.ExecutionStarted], history.Select(e => e.EventType));
        Assert.Equal("e2", history[1].ExecutionId);
    }

    [Fact]
    public async Task Store_CompleteAfterTheInstanceWasRelocked_ThrowsLockLostAndChangesNothing()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        await store.CreateInstanceAsync(NewState(id), StartMessage(id));
        var stale = await LockAsync(store);
        await store.AbandonWorkflowWorkItemAsync(stale, "test", TimeSpan.Zero);
        var fresh = await LockAsync(store);
        var now = Clock.GetUtcNow().UtcDateTime;
        await store.CompleteWorkflowWorkItemAsync(fresh, new WorkflowStepResult(NewState(id, status: WorkflowStatus.Running))
        {
            NewHistory = [new(HistoryEventType.OrchestratorStarted, now), fresh.Messages[0].Message.Event],
        });

        await Assert.ThrowsAsync<WorkItemLockLostException>(() => store.CompleteWorkflowWorkItemAsync(stale, new WorkflowStepResult(
            NewState(id, status: WorkflowStatus.Failed))
        {
            NewHistory = [new(HistoryEventType.GenericEvent, now)],
        }));

        Assert.Equal(2, (await store.GetHistoryAsync(id)).Count);
        Assert.Equal(WorkflowStatus.Running, (await store.GetInstanceAsync(id))!.Status);
    }

    [Fact]
    public async Task Store_AbandonedWorkItem_IsRedeliveredWithIncrementedDequeueCount()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        await store.CreateInstanceAsync(NewState(id), StartMessage(id));

        var first = await LockAsync(store);
        await store.AbandonWorkflowWorkItemAsync(first, "boom", TimeSpan.Zero);
        var second = await LockAsync(store);

        Assert.Equal(id, second.InstanceId);
        Assert.Equal(2, Assert.Single(second.Messages).DequeueCount);
    }

    [Fact]
    public async Task Store_MessageVisibleInTheFuture_IsNotDeliveredBeforeItsTime()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        await store.SendMessageAsync(EventMessage(id, "later") with { VisibleAt = Clock.GetUtcNow().AddHours(1) });

        Assert.Null(await store.LockNextWorkflowWorkItemAsync(Lease, ShortReceive, CancellationToken.None));
    }

    [Fact]
    public async Task Store_CompleteWithNewInstances_CreatesOnlyAbsentInstances()
    {
        var store = await NewStoreAsync();
        var parent = NewId("parent");
        var existing = NewId("existing");
        var child = NewId("child");
        await store.CreateInstanceAsync(NewState(parent), StartMessage(parent));
        await store.CreateInstanceAsync(NewState(existing, "Existing"), StartMessage(existing, "Existing"));

        // Stores need not hand instances out in creation order: hold the other one while locking the parent, so
        // that the step below is committed on the parent's work item and not on the instance it must leave alone.
        var item = await LockAsync(store);
        if (item.InstanceId != parent)
        {
            var other = item;
            item = await LockAsync(store);
            await store.AbandonWorkflowWorkItemAsync(other, null, TimeSpan.Zero);
        }

        Assert.Equal(parent, item.InstanceId);

        await store.CompleteWorkflowWorkItemAsync(item, new WorkflowStepResult(NewState(parent, status: WorkflowStatus.Running))
        {
            NewInstances = [NewState(child, "Child"), NewState(existing, "Overwritten")],
            WorkflowMessages = [StartMessage(child, "Child")],
        });

        Assert.Equal("Child", (await store.GetInstanceAsync(child))!.Name);
        Assert.Equal("Existing", (await store.GetInstanceAsync(existing))!.Name);
    }

    [Fact]
    public async Task Store_ActivityWorkItem_CompleteSendsTheResponseToTheInstance()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        await store.CreateInstanceAsync(NewState(id), StartMessage(id));
        var item = await LockAsync(store);
        var scheduled = new HistoryEvent(HistoryEventType.TaskScheduled, Clock.GetUtcNow().UtcDateTime, 0) { Name = "Act" };
        await store.CompleteWorkflowWorkItemAsync(item, new WorkflowStepResult(NewState(id, status: WorkflowStatus.Running))
        {
            ActivityMessages = [new WorkflowMessage(id, scheduled) { ExecutionId = "e1" }],
        });

        var activity = await store.LockNextActivityWorkItemAsync(Lease, LongReceive, CancellationToken.None);
        Assert.NotNull(activity);
        Assert.Equal(1, activity.DequeueCount);
        Assert.Null(await store.LockNextActivityWorkItemAsync(Lease, ShortReceive, CancellationToken.None));
        await store.CompleteActivityWorkItemAsync(activity, new WorkflowMessage(id, new HistoryEvent(
            HistoryEventType.TaskCompleted, Clock.GetUtcNow().UtcDateTime)
        {
            TaskScheduledId = 0,
            Result = "42",
        })
        { ExecutionId = "e1" });

        var response = Assert.Single((await LockAsync(store)).Messages).Message;
        Assert.Equal(HistoryEventType.TaskCompleted, response.Event.EventType);
        Assert.Equal("42", response.Event.Result);
        Assert.Equal("e1", response.ExecutionId);
        Assert.Null(await store.LockNextActivityWorkItemAsync(Lease, ShortReceive, CancellationToken.None));
    }

    [Fact]
    public async Task Store_AbandonedActivity_IsRedeliveredWithIncrementedDequeueCount()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        await store.CreateInstanceAsync(NewState(id), StartMessage(id));
        var item = await LockAsync(store);
        await store.CompleteWorkflowWorkItemAsync(item, new WorkflowStepResult(NewState(id, status: WorkflowStatus.Running))
        {
            ActivityMessages = [new WorkflowMessage(
                id, new HistoryEvent(HistoryEventType.TaskScheduled, Clock.GetUtcNow().UtcDateTime, 0) { Name = "Act" })],
        });
        var first = await store.LockNextActivityWorkItemAsync(Lease, LongReceive, CancellationToken.None);

        await store.AbandonActivityWorkItemAsync(first!, "boom", TimeSpan.Zero);
        var second = await store.LockNextActivityWorkItemAsync(Lease, LongReceive, CancellationToken.None);

        Assert.NotNull(second);
        Assert.Equal(2, second.DequeueCount);
        Assert.Equal(first!.Message.MessageId, second.Message.MessageId);
    }

    [Fact]
    public async Task Store_Query_FiltersByStatusPrefixAndCreationTime_AndPagesWithoutGapsOrDuplicates()
    {
        var store = await NewStoreAsync();
        var prefix = $"q{Guid.NewGuid():N}"[..12];
        var t0 = Clock.GetUtcNow().AddDays(-10);
        for (var i = 0; i < 7; i++)
        {
            var id = $"{prefix}-{i:00}";
            var status = i % 2 == 0 ? WorkflowStatus.Pending : WorkflowStatus.Completed;
            await store.CreateInstanceAsync(NewState(id, status: status, createdAt: t0.AddDays(i)), StartMessage(id));
        }

        await store.CreateInstanceAsync(NewState("zz-" + prefix), StartMessage("zz-" + prefix));

        var all = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await store.QueryInstancesAsync(
                new WorkflowQuery { InstanceIdPrefix = prefix, PageSize = 3, ContinuationToken = token });
            Assert.True(page.Instances.Count <= 3);
            all.AddRange(page.Instances.Select(s => s.InstanceId));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"{prefix}-{i:00}"), all.Order(StringComparer.Ordinal));
        var pending = await store.QueryInstancesAsync(new WorkflowQuery { InstanceIdPrefix = prefix, Statuses = [WorkflowStatus.Pending] });
        Assert.Equal(4, pending.Instances.Count);
        var window = await store.QueryInstancesAsync(
            new WorkflowQuery { InstanceIdPrefix = prefix, CreatedFrom = t0.AddDays(2), CreatedTo = t0.AddDays(5) });
        Assert.Equal(
            [$"{prefix}-02", $"{prefix}-03", $"{prefix}-04"], window.Instances.Select(s => s.InstanceId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Store_Purge_DeletesOnlyTerminalInstances()
    {
        var store = await NewStoreAsync();
        var done = NewId("done");
        var running = NewId("running");
        await store.CreateInstanceAsync(NewState(done, status: WorkflowStatus.Completed), StartMessage(done));
        await store.CreateInstanceAsync(NewState(running, status: WorkflowStatus.Running), StartMessage(running));

        Assert.True(await store.PurgeInstanceAsync(done));
        Assert.False(await store.PurgeInstanceAsync(running));
        Assert.False(await store.PurgeInstanceAsync(NewId("missing")));

        Assert.Null(await store.GetInstanceAsync(done));
        Assert.NotNull(await store.GetInstanceAsync(running));
    }

    [Fact]
    public async Task Store_QueueDepth_CountsWaitingMessages()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        await store.CreateInstanceAsync(NewState(id), StartMessage(id));
        await store.SendMessageAsync(EventMessage(id, "e"));

        var depth = await store.GetQueueDepthAsync();

        Assert.True(depth.WorkflowMessages >= 2, $"expected at least 2 workflow messages, got {depth.WorkflowMessages}");
    }

    [Fact]
    public async Task Store_HasReadyWork_CountsDueUnleasedMessagesButNotLeasedOrFutureOnes()
    {
        var store = await NewStoreAsync();
        var id = NewId();
        Assert.False(await store.HasReadyWorkAsync());

        await store.CreateInstanceAsync(NewState(id), StartMessage(id));
        Assert.True(await store.HasReadyWorkAsync());

        var item = await LockAsync(store);
        Assert.False(await store.HasReadyWorkAsync());

        var timer = new WorkflowMessage(
            id, new HistoryEvent(HistoryEventType.TimerFired, Clock.GetUtcNow().UtcDateTime) { TaskScheduledId = 0 })
        {
            ExecutionId = "e1",
            VisibleAt = Clock.GetUtcNow().AddHours(1),
        };
        await store.CompleteWorkflowWorkItemAsync(item, new WorkflowStepResult(NewState(id, status: WorkflowStatus.Running))
        {
            NewHistory = [item.Messages[0].Message.Event],
            WorkflowMessages = [timer],
        });
        Assert.False(await store.HasReadyWorkAsync());

        await store.SendMessageAsync(EventMessage(id, "Approved"));
        Assert.True(await store.HasReadyWorkAsync());
    }

    // ---------------------------------------------------------------- port members, end to end

    [Fact]
    public async Task Port_CallActivityAsync_ChainsResults_AndPassesIdempotencyKey()
    {
        var keys = new System.Collections.Concurrent.ConcurrentBag<string>();
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<int, int>("Double", (ctx, x) =>
            {
                keys.Add(ctx.IdempotencyKey);
                Assert.Equal("Double", ctx.Name);
                return Task.FromResult(x * 2);
            })
            .AddWorkflow<int, int>("Doubler", async (ctx, x) =>
            {
                x = await ctx.CallActivityAsync<int>("Double", x);
                await ctx.CallActivityAsync("Double", x);
                return await ctx.CallActivityAsync<int>("Double", x);
            }));

        var id = await harness.Client.ScheduleNewAsync("Doubler", 3, NewId());
        var done = await harness.CompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(12, done.ReadOutputAs<int>());
        Assert.Equal(3, keys.Distinct().Count());
        Assert.All(keys, k => Assert.StartsWith(id + ":", k, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Port_FanOutFanIn_RunsAllActivities()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<int, int>("Square", (_, x) => Task.FromResult(x * x))
            .AddWorkflow<int, int>("SumOfSquares", async (ctx, n) =>
            {
                var results = await Task.WhenAll(Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("Square", i)));
                return results.Sum();
            }));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("SumOfSquares", 20, NewId()));

        Assert.Equal(Enumerable.Range(1, 20).Sum(i => i * i), done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task Port_FailedActivity_SurfacesAsWorkflowTaskFailedExceptionWithDetails()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, string>("Explode", (_, _) => throw new InvalidOperationException("storage account locked"))
            .AddWorkflow<string, string>("Catcher", async (ctx, _) =>
            {
                try
                {
                    await ctx.CallActivityAsync<string>("Explode", "x");
                    return "not reached";
                }
                catch (WorkflowTaskFailedException ex)
                {
                    return $"{ex.TaskName}|{ex.FailureDetails.ErrorType}|{ex.FailureDetails.ErrorMessage}|"
                        + $"{ex.FailureDetails.IsCausedBy<InvalidOperationException>()}";
                }
            }));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Catcher", "x", NewId()));

        Assert.Equal("Explode|System.InvalidOperationException|storage account locked|True", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Port_UnhandledActivityFailure_FailsTheInstanceWithFailureDetails()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, string>("Explode", (_, _) => throw new InvalidOperationException("quota exceeded"))
            .AddWorkflow<string, string>("Fragile", (ctx, _) => ctx.CallActivityAsync<string>("Explode")));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Fragile", "x", NewId()));

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(typeof(WorkflowTaskFailedException).FullName, done.FailureDetails!.ErrorType);
        Assert.Equal("quota exceeded", done.FailureDetails.InnerFailure!.ErrorMessage);
    }

    [Fact]
    public async Task Port_UnregisteredActivityOrWorkflow_FailsWithAClearReason()
    {
        await using var harness = await StartEngineAsync(
            r => r.AddWorkflow<string, string>("CallsGhost", (ctx, _) => ctx.CallActivityAsync<string>("Ghost")));

        var ghostActivity = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("CallsGhost", "x", NewId()));
        var ghostWorkflow = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("NoSuchWorkflow", "x", NewId()));

        Assert.Equal(WorkflowStatus.Failed, ghostActivity.Status);
        Assert.Contains("No activity named 'Ghost'", ghostActivity.FailureDetails!.InnerFailure!.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.Failed, ghostWorkflow.Status);
        Assert.Contains("No workflow named 'NoSuchWorkflow'", ghostWorkflow.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Port_RetryPolicy_RetriesUntilSuccessWithinMaxAttempts()
    {
        var attempts = 0;
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, int>(
                "Flaky",
                (_, _) => Interlocked.Increment(ref attempts) < 3 ? throw new TimeoutException("transient") : Task.FromResult(attempts))
            .AddWorkflow<string, int>("Retrier", (ctx, _) =>
                ctx.CallActivityAsync<int>("Flaky", null, new RetryPolicy(5, TimeSpan.FromMilliseconds(20), 2.0))));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Retrier", "x", NewId()));

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(3, done.ReadOutputAs<int>());
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task Port_RetryPolicy_GivesUpAfterMaxAttempts()
    {
        var attempts = 0;
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, int>("AlwaysFails", (_, _) =>
            {
                Interlocked.Increment(ref attempts);
                throw new InvalidOperationException("permanent");
            })
            .AddWorkflow<string, int>("Retrier", (ctx, _) =>
                ctx.CallActivityAsync<int>("AlwaysFails", null, new RetryPolicy(3, TimeSpan.FromMilliseconds(10)))));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Retrier", "x", NewId()));

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task Port_CallSubWorkflowAsync_ReturnsChildOutput_AndRecordsTheParent()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<int, int>("Inc", (_, x) => Task.FromResult(x + 1))
            .AddWorkflow<int, int>("Child", (ctx, x) => ctx.CallActivityAsync<int>("Inc", x))
            .AddWorkflow<int, int>("Parent", async (ctx, x) =>
            {
                var a = await ctx.CallSubWorkflowAsync<int>("Child", x, ctx.InstanceId + "-child");
                var b = await ctx.CallSubWorkflowAsync<int>("Child", a);
                return b;
            }));

        var id = await harness.Client.ScheduleNewAsync("Parent", 1, NewId());
        var done = await harness.CompletionAsync(id);

        Assert.Equal(3, done.ReadOutputAs<int>());
        var child = await harness.Client.GetInstanceAsync(id + "-child");
        Assert.Equal(WorkflowStatus.Completed, child!.Status);
        Assert.Equal(id, child.ParentInstanceId);
    }

    [Fact]
    public async Task Port_FailingSubWorkflow_PropagatesItsFailureToTheParent()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, string>("Explode", (_, _) => throw new UnauthorizedAccessException("no grant"))
            .AddWorkflow<string, string>("Child", (ctx, _) => ctx.CallActivityAsync<string>("Explode"))
            .AddWorkflow<string, string>("Parent", async (ctx, _) =>
            {
                try
                {
                    return await ctx.CallSubWorkflowAsync<string>("Child");
                }
                catch (WorkflowTaskFailedException ex)
                {
                    return $"{ex.TaskName}: {ex.FailureDetails.InnerFailure?.ErrorMessage}";
                }
            }));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Parent", "x", NewId()));

        Assert.Equal("Child: no grant", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Port_SubWorkflowWithRetryPolicy_RetriesAsNewChildInstances()
    {
        var runs = 0;
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, string>(
                "Flaky", (_, s) => Interlocked.Increment(ref runs) < 2 ? throw new IOException("transient") : Task.FromResult(s))
            .AddWorkflow<string, string>("Child", (ctx, s) => ctx.CallActivityAsync<string>("Flaky", s))
            .AddWorkflow<string, string>("Parent", (ctx, s) =>
                ctx.CallSubWorkflowAsync<string>(
                    "Child", s, ctx.InstanceId + "-child", new RetryPolicy(3, TimeSpan.FromMilliseconds(10)))));

        var id = await harness.Client.ScheduleNewAsync("Parent", "ok", NewId());
        var done = await harness.CompletionAsync(id);

        Assert.Equal("ok", done.ReadOutputAs<string>());
        Assert.Equal(WorkflowStatus.Failed, (await harness.Client.GetInstanceAsync(id + "-child"))!.Status);
        Assert.Equal(WorkflowStatus.Completed, (await harness.Client.GetInstanceAsync(id + "-child-attempt2"))!.Status);
    }

    [Fact]
    public async Task Port_CreateTimer_CompletesAfterItFires()
    {
        await using var harness = await StartEngineAsync(r => r.AddWorkflow<string, string>("Sleeper", async (ctx, _) =>
        {
            var before = ctx.CurrentUtcDateTime;
            await ctx.CreateTimer(TimeSpan.FromMilliseconds(200), CancellationToken.None);
            return ctx.CurrentUtcDateTime >= before.AddMilliseconds(200) ? "woke after" : "woke early";
        }));

        var id = await harness.Client.ScheduleNewAsync("Sleeper", "x", NewId());
        var done = await harness.CompletionAsync(id);

        Assert.Equal("woke after", done.ReadOutputAs<string>());
        var history = (await harness.Client.GetInstanceAsync(id, getHistory: true))!.History!;
        Assert.Contains(history, e => e.EventType == HistoryEventType.TimerCreated);
        Assert.Contains(history, e => e.EventType == HistoryEventType.TimerFired);
    }

    [Fact]
    public async Task Port_EventRaisedBeforeTheWait_IsBufferedAndDelivered()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, string>("Slow", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string>("Approver", async (ctx, _) =>
            {
                ctx.SetCustomStatus("working");
                await ctx.WaitForExternalEvent<string>("Go");
                var first = await ctx.WaitForExternalEvent<string>("Approval");
                var second = await ctx.WaitForExternalEvent<string>("approval");
                return first + "," + second;
            }));

        var id = NewId();
        await harness.Client.ScheduleNewAsync("Approver", "x", id);
        await harness.Client.WaitForStartAsync(id);
        await harness.Client.RaiseEventAsync(id, "Approval", "dpo");
        await harness.Client.RaiseEventAsync(id, "Approval", "steward");
        await harness.Client.RaiseEventAsync(id, "Go");
        var done = await harness.CompletionAsync(id);

        Assert.Equal("dpo,steward", done.ReadOutputAs<string>());
        Assert.Equal("working", done.ReadCustomStatusAs<string>());
    }

    [Fact]
    public async Task Port_WaitForExternalEventWithTimeout_ThrowsTimeoutExceptionWhenNoEventArrives()
    {
        await using var harness = await StartEngineAsync(r => r.AddWorkflow<string, string>("Impatient", async (ctx, _) =>
        {
            try
            {
                return await ctx.WaitForExternalEvent<string>("Never", TimeSpan.FromMilliseconds(200));
            }
            catch (TimeoutException)
            {
                return "timed out";
            }
        }));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Impatient", "x", NewId()));

        Assert.Equal("timed out", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Port_WaitForExternalEventWithTimeout_ReturnsTheEventWhenItArrivesInTime()
    {
        await using var harness = await StartEngineAsync(r => r.AddWorkflow<string, string>("Patient", (ctx, _) =>
            ctx.WaitForExternalEvent<string>("Answer", TimeSpan.FromHours(1))));

        var id = await harness.Client.ScheduleNewAsync("Patient", "x", NewId());
        await harness.Client.RaiseEventAsync(id, "Answer", "yes");
        var done = await harness.CompletionAsync(id);

        Assert.Equal("yes", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Port_SendEvent_DeliversToAnotherInstance()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddWorkflow<string, string>("Receiver", (ctx, _) => ctx.WaitForExternalEvent<string>("Ping"))
            .AddWorkflow<string, string>("Sender", (ctx, target) =>
            {
                ctx.SendEvent(target, "Ping", "from " + ctx.InstanceId);
                return Task.FromResult("sent");
            }));

        var receiver = await harness.Client.ScheduleNewAsync("Receiver", "x", NewId("receiver"));
        var sender = await harness.Client.ScheduleNewAsync("Sender", receiver, NewId("sender"));

        Assert.Equal("from " + sender, (await harness.CompletionAsync(receiver)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task Port_ContinueAsNew_RestartsWithNewInputAndTruncatesHistory()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<int, int>("Inc", (_, x) => Task.FromResult(x + 1))
            .AddWorkflow<int, int>("Counter", async (ctx, x) =>
            {
                var next = await ctx.CallActivityAsync<int>("Inc", x);
                if (next < 5)
                {
                    ctx.ContinueAsNew(next);
                }

                return next;
            }));

        var id = await harness.Client.ScheduleNewAsync("Counter", 0, NewId());
        var done = await harness.CompletionAsync(id);

        Assert.Equal(5, done.ReadOutputAs<int>());
        var history = (await harness.Client.GetInstanceAsync(id, getHistory: true))!.History!;
        Assert.Single(history, e => e.EventType == HistoryEventType.ExecutionStarted);
        Assert.Single(history, e => e.EventType == HistoryEventType.TaskScheduled);
        Assert.Equal("4", history.Single(e => e.EventType == HistoryEventType.ExecutionStarted).Input);
    }

    [Fact]
    public async Task Port_ContinueAsNew_PreservesUnprocessedEventsOnlyWhenAsked()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddWorkflow<int, string>("Collector", async (ctx, generation) =>
            {
                if (generation == 0)
                {
                    await ctx.WaitForExternalEvent<string>("Next");
                    ctx.ContinueAsNew(1, preserveUnprocessedEvents: true);
                    return "restarting";
                }

                return await ctx.WaitForExternalEvent<string>("Item", TimeSpan.FromSeconds(30));
            })
            .AddWorkflow<int, string>("Forgetter", async (ctx, generation) =>
            {
                if (generation == 0)
                {
                    await ctx.WaitForExternalEvent<string>("Next");
                    ctx.ContinueAsNew(1, preserveUnprocessedEvents: false);
                    return "restarting";
                }

                try
                {
                    return await ctx.WaitForExternalEvent<string>("Item", TimeSpan.FromMilliseconds(300));
                }
                catch (TimeoutException)
                {
                    return "lost";
                }
            }));

        var keep = await harness.Client.ScheduleNewAsync("Collector", 0, NewId("keep"));
        var drop = await harness.Client.ScheduleNewAsync("Forgetter", 0, NewId("drop"));
        foreach (var id in new[] { keep, drop })
        {
            await harness.Client.WaitForStartAsync(id);
            await harness.Client.RaiseEventAsync(id, "Item", "kept");
            await harness.Client.RaiseEventAsync(id, "Next");
        }

        Assert.Equal("kept", (await harness.CompletionAsync(keep)).ReadOutputAs<string>());
        Assert.Equal("lost", (await harness.CompletionAsync(drop)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task Port_SuspendAndResume_HoldEventsUntilResumed()
    {
        await using var harness = await StartEngineAsync(
            r => r.AddWorkflow<string, string>("Waiter", (ctx, _) => ctx.WaitForExternalEvent<string>("Go")));
        var id = await harness.Client.ScheduleNewAsync("Waiter", "x", NewId());
        await harness.Client.WaitForStartAsync(id);

        await harness.Client.SuspendAsync(id, "audit");
        await EngineHarness.WaitUntilAsync(
            async () => (await harness.Client.GetInstanceAsync(id))!.Status == WorkflowStatus.Suspended, "suspended");
        await harness.Client.RaiseEventAsync(id, "Go", "held");
        await harness.Engine.Client.WaitForStartAsync(id);
        await EngineHarness.WaitUntilAsync(
            async () => (await harness.Client.GetInstanceAsync(id, getHistory: true))!.History!.Any(
                e => e.EventType == HistoryEventType.EventRaised),
            "event recorded while suspended");
        Assert.Equal(WorkflowStatus.Suspended, (await harness.Client.GetInstanceAsync(id))!.Status);

        await harness.Client.ResumeAsync(id);
        var done = await harness.CompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal("held", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Port_Terminate_EndsARunningInstanceWithTheGivenOutput()
    {
        await using var harness = await StartEngineAsync(
            r => r.AddWorkflow<string, string>("Waiter", (ctx, _) => ctx.WaitForExternalEvent<string>("Never")));
        var id = await harness.Client.ScheduleNewAsync("Waiter", "x", NewId());
        await harness.Client.WaitForStartAsync(id);

        await harness.Client.TerminateAsync(id, "withdrawn by PI");
        var done = await harness.CompletionAsync(id);
        await harness.Client.RaiseEventAsync(id, "Never", "too late");

        Assert.Equal(WorkflowStatus.Terminated, done.Status);
        Assert.Equal("withdrawn by PI", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Port_Purge_RemovesCompletedInstancesButNotRunningOnes()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddWorkflow<string, string>("Quick", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string>("Waiter", (ctx, _) => ctx.WaitForExternalEvent<string>("Never")));
        var prefix = NewId("purge");
        var quick = await harness.Client.ScheduleNewAsync("Quick", "x", prefix + "-quick");
        var quick2 = await harness.Client.ScheduleNewAsync("Quick", "x", prefix + "-quick2");
        var waiting = await harness.Client.ScheduleNewAsync("Waiter", "x", prefix + "-waiting");
        await harness.CompletionAsync(quick);
        await harness.CompletionAsync(quick2);
        await harness.Client.WaitForStartAsync(waiting);

        Assert.True(await harness.Client.PurgeAsync(quick));
        Assert.False(await harness.Client.PurgeAsync(waiting));
        Assert.Equal(1, await harness.Client.PurgeInstancesAsync(new WorkflowQuery { InstanceIdPrefix = prefix }));

        Assert.Null(await harness.Client.GetInstanceAsync(quick));
        Assert.Null(await harness.Client.GetInstanceAsync(quick2));
        Assert.NotNull(await harness.Client.GetInstanceAsync(waiting));
    }

    [Fact]
    public async Task Port_ScheduleNew_WithARunningInstanceId_DoesNotStartADuplicate()
    {
        var runs = 0;
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, string>("Count", (_, s) =>
            {
                Interlocked.Increment(ref runs);
                return Task.FromResult(s);
            })
            .AddWorkflow<string, string>("Once", async (ctx, s) =>
            {
                await ctx.CallActivityAsync<string>("Count", s);
                return await ctx.WaitForExternalEvent<string>("Finish");
            }));
        var id = NewId();

        var first = await harness.Client.ScheduleNewAsync("Once", "first", id);
        await harness.Client.WaitForStartAsync(first);
        var second = await harness.Client.ScheduleNewAsync("Once", "second", id);
        await harness.Client.RaiseEventAsync(id, "Finish", "done");
        var done = await harness.CompletionAsync(id);

        Assert.Equal(first, second);
        Assert.Equal("first", done.ReadInputAs<string>());
        Assert.Equal(1, runs);
        Assert.Single(
            (await harness.Client.GetInstanceAsync(id, getHistory: true))!.History!, e => e.EventType == HistoryEventType.ExecutionStarted);
    }

    [Fact]
    public async Task Port_GetInstance_ReportsInputOutputStatusAndOptionalHistory()
    {
        await using var harness = await StartEngineAsync(r => r.AddWorkflow<string, string>("Echo", (ctx, s) =>
        {
            ctx.SetCustomStatus(new { Stage = "echoing" });
            return Task.FromResult(s + "!" + ctx.GetInput<string>());
        }));

        var id = await harness.Client.ScheduleNewAsync("Echo", "hi", NewId());
        await harness.CompletionAsync(id);
        var withPayloads = await harness.Client.GetInstanceAsync(id, getInputsAndOutputs: true, getHistory: true);
        var bare = await harness.Client.GetInstanceAsync(id, getInputsAndOutputs: false);

        Assert.Equal("Echo", withPayloads!.Name);
        Assert.Equal("1", withPayloads.Version);
        Assert.Equal("hi", withPayloads.ReadInputAs<string>());
        Assert.Equal("hi!hi", withPayloads.ReadOutputAs<string>());
        Assert.Contains("echoing", withPayloads.SerializedCustomStatus, StringComparison.Ordinal);
        Assert.NotNull(withPayloads.CompletedAt);
        Assert.Equal(HistoryEventType.ExecutionCompleted, withPayloads.History![^2].EventType);
        Assert.Null(bare!.SerializedOutput);
        Assert.Null(bare.History);
        Assert.Null(await harness.Client.GetInstanceAsync(NewId("missing")));
    }

    [Fact]
    public async Task Port_QueryInstances_FiltersAndPages()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddWorkflow<string, string>("Quick", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string>("Waiter", (ctx, _) => ctx.WaitForExternalEvent<string>("Never")));
        var prefix = NewId("query");
        for (var i = 0; i < 5; i++)
        {
            await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Quick", "x", $"{prefix}-done-{i}"));
        }

        var waiting = await harness.Client.ScheduleNewAsync("Waiter", "x", $"{prefix}-waiting");
        await harness.Client.WaitForStartAsync(waiting);

        var all = new List<WorkflowMetadata>();
        await foreach (var m in harness.Client.QueryAllInstancesAsync(new WorkflowQuery { InstanceIdPrefix = prefix, PageSize = 2 }))
        {
            all.Add(m);
        }

        var running = await harness.Client.QueryInstancesAsync(
            new WorkflowQuery { InstanceIdPrefix = prefix, Statuses = [WorkflowStatus.Running] });
        var future = await harness.Client.QueryInstancesAsync(
            new WorkflowQuery { InstanceIdPrefix = prefix, CreatedFrom = Clock.GetUtcNow().AddDays(1) });

        Assert.Equal(6, all.Select(m => m.InstanceId).Distinct().Count());
        Assert.Equal(waiting, Assert.Single(running.Instances).InstanceId);
        Assert.Empty(future.Instances);
    }

    [Fact]
    public async Task Port_NewGuid_IsStableAcrossReplays_AndUniquePerCall()
    {
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, string>("Echo", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string[]>("Guids", async (ctx, _) =>
            {
                var a = ctx.NewGuid();
                var b = ctx.NewGuid();
                var echoed = await ctx.CallActivityAsync<string>("Echo", a.ToString());
                await ctx.CallActivityAsync<string>("Echo", "second step");
                return [a.ToString(), b.ToString(), echoed];
            }));

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Guids", "x", NewId()));
        var guids = done.ReadOutputAs<string[]>()!;

        Assert.NotEqual(guids[0], guids[1]);
        Assert.Equal(guids[0], guids[2]);
    }

    [Fact]
    public async Task Port_IsReplaying_IsTrueOnlyWhileReplayingRecordedSteps()
    {
        // Without the execution cache every step replays from the start (with it, the code simply resumes: never replaying).
        await using var harness = await StartEngineAsync(r => r
            .AddActivity<string, string>("Echo", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, List<bool>>("Observer", async (ctx, _) =>
            {
                var seen = new List<bool> { ctx.IsReplaying };
                await ctx.CallActivityAsync<string>("Echo", "a");
                seen.Add(ctx.IsReplaying);
                await ctx.CallActivityAsync<string>("Echo", "b");
                seen.Add(ctx.IsReplaying);
                return seen;
            }), o => o with { MaxCachedExecutions = 0 });

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("Observer", "x", NewId()));

        Assert.Equal([true, true, false], done.ReadOutputAs<List<bool>>());
    }

    [Fact]
    public async Task Port_DelayedStart_StaysPendingUntilItsStartTime()
    {
        await using var harness = await StartEngineAsync(r => r.AddWorkflow<string, string>("Later", (_, s) => Task.FromResult(s)));

        var id = await harness.Client.ScheduleNewAsync("Later", "x", NewId(), startAt: Clock.GetUtcNow().AddHours(1));
        await harness.Client.RaiseEventAsync(id, "Early", "e");

        var state = await harness.Client.GetInstanceAsync(id);
        Assert.Equal(WorkflowStatus.Pending, state!.Status);
        Assert.Equal(Clock.GetUtcNow().AddHours(1), state.ScheduledStartAt!.Value, TimeSpan.FromMinutes(5));
        Assert.Empty(await harness.Engine.Store.GetHistoryAsync(id));
    }
}
