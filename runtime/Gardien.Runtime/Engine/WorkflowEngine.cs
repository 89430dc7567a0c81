using System.Collections.Concurrent;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Runtime.Engine;

/// <summary>
/// The embedded durable engine: workflow-step and activity dispatchers over an <see cref="IWorkflowStore"/>, with
/// Durable Task semantics (event-sourced history, deterministic replay, at-least-once activities, durable timers,
/// external events, sub-workflows, ContinueAsNew, suspend/resume/terminate). Several engines may share one store.
/// Stopping at any point leaves the store consistent: a step either committed or will be redone by the next engine.
/// <para>This class is the host (start, stop, idle detection, the dispatcher loops); a step is processed by the
/// <see cref="WorkflowStepProcessor"/> and an activity run by the <see cref="ActivityRunner"/>.</para>
/// </summary>
public sealed class WorkflowEngine : IAsyncDisposable
{
    private readonly IWorkflowStore _store;
    private readonly WorkflowRegistry _registry;
    private readonly WorkflowEngineOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly WorkflowEngineMetrics _metrics = new();
    private readonly WorkflowStepProcessor _steps;
    private readonly ActivityRunner _activities;
    private readonly ConcurrentDictionary<Task, bool> _inFlight = new();
    private readonly SemaphoreSlim _activitySlots;
    private CancellationTokenSource? _stopping;
    private List<Task> _loops = [];
    private int _state; // 0 new, 1 started, 2 stopped

    // Work items this engine holds (locked, not yet committed or abandoned), and a counter bumped whenever that set
    // changes, so that WaitForIdleAsync can tell "nothing moved while I looked" from "something was just taken".
    private long _busy;
    private long _workEpoch;

    public WorkflowEngine(
        IWorkflowStore store,
        WorkflowRegistry registry,
        WorkflowEngineOptions? options = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(registry);
        _store = store;
        _registry = registry;
        _options = options ?? new WorkflowEngineOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentActivities, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentWorkflowSteps, 1);
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<WorkflowEngine>();
        _time = _options.TimeProvider;
        var services = _options.Services ?? EmptyServiceProvider.Instance;
        _activitySlots = new SemaphoreSlim(_options.MaxConcurrentActivities, _options.MaxConcurrentActivities);
        _steps = new WorkflowStepProcessor(store, registry, _options, services, _metrics, loggerFactory, _logger);
        _activities = new ActivityRunner(store, registry, _options, services, _metrics, _logger);
        Client = new WorkflowEngineClient(store, _options.Serializer, _time, registry);
    }

    /// <summary>A client over the same store (usable before <see cref="StartAsync"/> and after stop).</summary>
    public WorkflowEngineClient Client { get; }

    public IWorkflowStore Store => _store;

    public WorkflowRegistry Registry => _registry;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("A workflow engine starts once; create a new engine to restart.");
        }

        await _store.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        _stopping = new CancellationTokenSource();
        var stop = _stopping.Token;
        var loops = new List<Task>();
        for (var i = 0; i < _options.MaxConcurrentWorkflowSteps; i++)
        {
            loops.Add(Task.Run(() => WorkflowLoopAsync(stop), CancellationToken.None));
        }

        loops.Add(Task.Run(() => ActivityLoopAsync(stop), CancellationToken.None));
        loops.Add(Task.Run(() => QueueDepthLoopAsync(stop), CancellationToken.None));
        _loops = loops;
        EngineLog.EngineStarted(_logger, _options.MaxConcurrentWorkflowSteps, _options.MaxConcurrentActivities);
    }

    /// <summary>
    /// Stops dispatching, cancels running activities (they are abandoned and redelivered later), waits for in-flight
    /// steps to commit or give up, then has the store release messages it received but never handed out. Safe to call
    /// at any time, more than once.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }

        await _stopping!.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(_inFlight.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Messages the store received for this engine but never handed out: visible again now rather than
            // hidden for a lease period (a stopped CLI process must not strand work).
            await _store.ReleaseUnclaimedMessagesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            EngineLog.StoreFailed(_logger, "release", ex);
        }

        EngineLog.EngineStopped(_logger);
    }

    /// <summary>
    /// Completes once this engine has nothing to do: no work item of its store is due and unleased, and none is held
    /// by this engine. Instances waiting for an external event, or for a durable timer or retry due later by the
    /// engine's <see cref="TimeProvider"/>, do not count as work. Lets a short-lived host (a CLI command) run the
    /// engine "until the workflows are waiting" and then stop it. Work raised afterwards is picked up as usual while
    /// the engine keeps running. Requires a started engine.
    /// </summary>
    /// <exception cref="InvalidOperationException">The engine was not started, or was stopped.</exception>
    public async Task WaitForIdleAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _state) != 1)
        {
            throw new InvalidOperationException(
                "WaitForIdleAsync needs a running engine: call StartAsync first (and do not stop it while waiting).");
        }

        // Idle must be seen twice, a poll apart, with no work item taken or finished in between: a work item moves
        // from "ready in the store" to "held here" between two reads, and the second look catches that move.
        var quietSince = -1L;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Volatile.Read(ref _state) != 1)
            {
                throw new InvalidOperationException("The engine stopped while WaitForIdleAsync was waiting.");
            }

            var epoch = Interlocked.Read(ref _workEpoch);
            var idle = Interlocked.Read(ref _busy) == 0 && !await HasReadyWorkAsync(cancellationToken).ConfigureAwait(false)
                && Interlocked.Read(ref _workEpoch) == epoch;
            if (!idle)
            {
                quietSince = -1;
            }
            else if (quietSince == epoch)
            {
                return;
            }
            else
            {
                quietSince = epoch;
            }

            await Task.Delay(_options.IdlePollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> HasReadyWorkAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _store.HasReadyWorkAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Unknown is not idle: look again at the next poll.
            EngineLog.StoreFailed(_logger, "idle-check", ex);
            return true;
        }
    }

    private void TookWorkItem()
    {
        Interlocked.Increment(ref _busy);
        Interlocked.Increment(ref _workEpoch);
    }

    private void FinishedWorkItem()
    {
        Interlocked.Increment(ref _workEpoch);
        Interlocked.Decrement(ref _busy);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping?.Dispose();
        _activitySlots.Dispose();
        _activities.Dispose();
        _metrics.Dispose();
    }

    private async Task WorkflowLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            WorkflowWorkItem? workItem;
            try
            {
                workItem = await _store.LockNextWorkflowWorkItemAsync(_options.LockDuration, _options.ReceiveTimeout, stop)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                EngineLog.StoreFailed(_logger, "workflow", ex);
                if (!await BackoffAsync(stop).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (workItem is not null)
            {
                TookWorkItem();
                try
                {
                    await _steps.ProcessAsync(workItem).ConfigureAwait(false);
                }
                finally
                {
                    FinishedWorkItem();
                }
            }
        }
    }

    private async Task ActivityLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _activitySlots.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            ActivityWorkItem? workItem;
            try
            {
                workItem = await _store.LockNextActivityWorkItemAsync(_options.LockDuration, _options.ReceiveTimeout, stop)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                _activitySlots.Release();
                return;
            }
            catch (Exception ex)
            {
                _activitySlots.Release();
                EngineLog.StoreFailed(_logger, "activity", ex);
                if (!await BackoffAsync(stop).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (workItem is null)
            {
                _activitySlots.Release();
                continue;
            }

            TookWorkItem();
            var slot = new ActivitySlot(_activitySlots);
            var run = _activities.RunAsync(workItem, slot, stop);
            _inFlight.TryAdd(run, true);
            _ = run.ContinueWith(
                t =>
                {
                    if (t.Exception is { } error)
                    {
                        EngineLog.StoreFailed(_logger, "activity", error);
                    }

                    _inFlight.TryRemove(t, out _);
                    FinishedWorkItem();
                    slot.Release();
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task QueueDepthLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var depth = await _store.GetQueueDepthAsync(stop).ConfigureAwait(false);
                _metrics.SetQueueDepth(depth.WorkflowMessages, depth.ActivityMessages);
                await Task.Delay(_options.QueueDepthRefreshInterval, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                EngineLog.StoreFailed(_logger, "queue-depth", ex);
                if (!await BackoffAsync(stop).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
    }

    private async Task<bool> BackoffAsync(CancellationToken stop)
    {
        try
        {
            await Task.Delay(_options.StoreErrorBackoff, _time, stop).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static EmptyServiceProvider Instance { get; } = new();

        public object? GetService(Type serviceType) => null;
    }
}
