using System.Diagnostics;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.Engine;

/// <summary>
/// Runs one activity work item: its code (in a service scope, with its lease renewed at half-time), then its outcome
/// reported to the store. A poison message fails the call without running the code; a stopping engine hands the
/// activity back. The worker slot is freed as soon as the code returns, the report holding a slot of its own.
/// </summary>
internal sealed class ActivityRunner : IDisposable
{
    private readonly IWorkflowStore _store;
    private readonly WorkflowRegistry _registry;
    private readonly WorkflowEngineOptions _options;
    private readonly IServiceProvider _services;
    private readonly WorkflowEngineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    // Activities whose code has finished and whose outcome the store is reporting (persisting, group-committed): a
    // separate bound, so that a worker slot is free for the next activity while the outcome waits for its write.
    private readonly SemaphoreSlim _reportSlots;

    public ActivityRunner(
        IWorkflowStore store,
        WorkflowRegistry registry,
        WorkflowEngineOptions options,
        IServiceProvider services,
        WorkflowEngineMetrics metrics,
        ILogger logger)
    {
        _store = store;
        _registry = registry;
        _options = options;
        _services = services;
        _metrics = metrics;
        _logger = logger;
        _time = options.TimeProvider;
        _reportSlots = new SemaphoreSlim(ReportingCapacity(options), ReportingCapacity(options));
    }

    public void Dispose() => _reportSlots.Dispose();

    public async Task RunAsync(ActivityWorkItem workItem, ActivitySlot slot, CancellationToken stop)
    {
        await Task.Yield();
        var message = workItem.Message;
        var scheduled = message.Event;
        var instanceId = message.InstanceId;
        using var span = WorkflowEngineTelemetry.Source.StartActivity(WorkflowEngineTelemetry.ActivitySpan, ActivityKind.Internal);
        span?.SetTag(WorkflowEngineTelemetry.InstanceIdTag, instanceId);
        span?.SetTag(WorkflowEngineTelemetry.ActivityNameTag, scheduled.Name);
        using var logScope = _logger.BeginScope(
            new Dictionary<string, object>
            {
                ["InstanceId"] = instanceId,
                ["ActivityName"] = scheduled.Name ?? string.Empty,
                ["TaskId"] = scheduled.EventId,
            });
        var startedAt = Stopwatch.GetTimestamp();
        HistoryEvent response;
        if (workItem.DequeueCount > _options.MaxDequeueCount)
        {
            response = Failed(new TaskFailureDetails(
                "Gardien.Runtime.PoisonMessage",
                $"Activity '{scheduled.Name}' (#{scheduled.EventId}) of workflow instance '{instanceId}' was delivered "
                + $"{workItem.DequeueCount} times " +
                $"without completing (limit {_options.MaxDequeueCount}). " +
                $"Last error: {workItem.LastError ?? "unknown (the worker stopped or crashed while running it)"}."));
        }
        else
        {
            var scope = (_services.GetService(typeof(IServiceScopeFactory)) as IServiceScopeFactory)?.CreateAsyncScope();
            await using var scopeDisposal = scope is { } created ? created : (IAsyncDisposable)NoScope.Instance;
            var services = scope?.ServiceProvider ?? _services;
            using var activityStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var renewal = RenewWhileRunningAsync(workItem, activityStop.Token);
            try
            {
                var activity = _registry.CreateActivity(scheduled.Name ?? string.Empty, services);
                if (activity is null)
                {
                    response = Failed(new TaskFailureDetails(
                        "Gardien.Runtime.ActivityNotRegistered",
                        $"No activity named '{scheduled.Name}' is registered in this engine. "
                        + "Register it with WorkflowRegistry.AddActivity."));
                }
                else
                {
                    var input = _options.Serializer.Deserialize(scheduled.Input, activity.InputType);
                    var context = new EngineActivityContext(
                        scheduled.Name!, instanceId, scheduled.EventId, $"{instanceId}:{message.ExecutionId}:{scheduled.EventId}", stop);
                    var output = await activity.RunAsync(context, input).ConfigureAwait(false);
                    response = new HistoryEvent(HistoryEventType.TaskCompleted, _time.GetUtcNow().UtcDateTime)
                    {
                        TaskScheduledId = scheduled.EventId,
                        Result = _options.Serializer.Serialize(output),
                    };
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopping is not a failure: hand the activity back so that another engine runs it.
                await activityStop.CancelAsync().ConfigureAwait(false);
                await renewal.ConfigureAwait(false);
                await TryAbandonAsync(workItem, "The engine stopped while the activity ran.", TimeSpan.Zero).ConfigureAwait(false);
                return;
            }
            catch (Exception ex)
            {
                EngineLog.ActivityFailed(_logger, scheduled.Name, scheduled.EventId, instanceId, ex.Message);
                span?.SetStatus(ActivityStatusCode.Error, ex.Message);
                response = Failed(TaskFailureDetails.FromException(ex));
            }

            await activityStop.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
        }

        _metrics.ActivityDuration.Record(
            Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds,
            new KeyValuePair<string, object?>(WorkflowEngineTelemetry.ActivityNameTag, scheduled.Name));
        await ReportAsync(workItem, new WorkflowMessage(instanceId, response) { ExecutionId = message.ExecutionId }, slot)
            .ConfigureAwait(false);

        HistoryEvent Failed(TaskFailureDetails details) =>
            new(HistoryEventType.TaskFailed, _time.GetUtcNow().UtcDateTime)
            {
                TaskScheduledId = scheduled.EventId,
                FailureDetails = details,
            };
    }

    /// <summary>Outcomes being reported at once: a few times the workers, so that the store can group-commit them.</summary>
    private static int ReportingCapacity(WorkflowEngineOptions options) => Math.Max(16, options.MaxConcurrentActivities * 4);

    /// <summary>
    /// Reports the outcome; the activity's code is done, so its worker slot goes to the next activity once a reporting slot is held.
    /// </summary>
    private async Task ReportAsync(ActivityWorkItem workItem, WorkflowMessage response, ActivitySlot slot)
    {
        var scheduled = workItem.Message.Event;
        var instanceId = workItem.Message.InstanceId;
        await _reportSlots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        slot.Release();
        try
        {
            await _store.CompleteActivityWorkItemAsync(workItem, response, CancellationToken.None).ConfigureAwait(false);
        }
        catch (WorkItemLockLostException ex)
        {
            EngineLog.ActivityLockLost(_logger, scheduled.Name, scheduled.EventId, instanceId, ex);
        }
        catch (Exception ex)
        {
            EngineLog.ActivityCompleteFailed(_logger, scheduled.Name, scheduled.EventId, instanceId, ex);
            await TryAbandonAsync(workItem, $"{ex.GetType().Name}: {ex.Message}", _options.AbandonDelay(workItem.DequeueCount))
                .ConfigureAwait(false);
        }
        finally
        {
            _reportSlots.Release();
        }
    }

    private async Task RenewWhileRunningAsync(ActivityWorkItem workItem, CancellationToken done)
    {
        var every = _options.LockDuration / 2;
        try
        {
            while (true)
            {
                await Task.Delay(every, _time, done).ConfigureAwait(false);
                await _store.RenewActivityWorkItemAsync(workItem, _options.LockDuration, done).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            EngineLog.StoreFailed(_logger, "activity-renewal", ex);
        }
    }

    private async Task TryAbandonAsync(ActivityWorkItem workItem, string reason, TimeSpan delay)
    {
        try
        {
            await _store.AbandonActivityWorkItemAsync(workItem, reason, delay, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            EngineLog.StoreFailed(_logger, "activity", ex);
        }
    }

    private sealed class EngineActivityContext(
        string name,
        string instanceId,
        int taskId,
        string idempotencyKey,
        CancellationToken cancellationToken)
        : ActivityContext
    {
        public override string Name { get; } = name;

        public override string InstanceId { get; } = instanceId;

        public override int TaskId { get; } = taskId;

        public override string IdempotencyKey { get; } = idempotencyKey;

        public override CancellationToken CancellationToken { get; } = cancellationToken;
    }

    private sealed class NoScope : IAsyncDisposable
    {
        public static NoScope Instance { get; } = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A worker slot, released once: when the activity's code finished, or when the work item ends otherwise.</summary>
internal sealed class ActivitySlot(SemaphoreSlim slots)
{
    private int _released;

    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            slots.Release();
        }
    }
}
