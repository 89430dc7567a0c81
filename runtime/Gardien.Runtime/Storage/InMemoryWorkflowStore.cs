namespace Gardien.Runtime.Storage;

/// <summary>
/// Reference <see cref="IWorkflowStore"/> in process memory, with the same semantics as a durable store (leases,
/// visibility by the store clock, dequeue counts, ETag-like versions) so that unit tests and benchmarks exercise the
/// engine's real paths. Data survives engines (crash tests dispose an engine and start another on the same store) but
/// not the process. Waiting lockers are woken by a signal, and by timers on the <see cref="TimeProvider"/> for delayed
/// messages, so a fake clock advancing makes timers fire at once.
/// </summary>
public sealed partial class InMemoryWorkflowStore : IWorkflowStore, IWorkflowStoreChangeNotifier
{
    // TimeProvider timers cannot exceed ~49 days; waiting longer is done in hops.
    private static readonly TimeSpan MaxWaitHop = TimeSpan.FromDays(1);

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, InstanceRecord> _instances = new(StringComparer.Ordinal);
    private readonly HashSet<InstanceRecord> _withMessages = [];

    // Instances with messages, in arrival order (fairness); locked instances leave it until released.
    private readonly LinkedList<InstanceRecord> _ready = new();
    private readonly HashSet<InstanceRecord> _locked = [];
    private readonly List<ActivityEntry> _activities = [];
    private TaskCompletionSource _workflowSignal = NewSignal();
    private TaskCompletionSource _activitySignal = NewSignal();
    private readonly Dictionary<string, TaskCompletionSource> _instanceSignals = new(StringComparer.Ordinal);
    private long _sequence;

    public InMemoryWorkflowStore(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
    }

    public TimeSpan? MaxMessageDelay => null;

    /// <summary>Number of store calls made; lets crash tests pick failure points.</summary>
    public long OperationCount => Interlocked.Read(ref _operations);

    private long _operations;

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<bool> CreateInstanceAsync(
        WorkflowInstanceState instance,
        WorkflowMessage executionStarted,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(executionStarted);
        Count();
        lock (_gate)
        {
            var record = GetOrAddRecord(instance.InstanceId);
            if (record.State is not null)
            {
                return Task.FromResult(false);
            }

            record.State = instance;
            record.Version++;
            Enqueue(record, executionStarted);
            SignalInstance(instance.InstanceId);
        }

        SignalWorkflows();
        return Task.FromResult(true);
    }

    public Task SendMessageAsync(WorkflowMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        Count();
        lock (_gate)
        {
            Enqueue(GetOrAddRecord(message.InstanceId), message);
        }

        SignalWorkflows();
        return Task.CompletedTask;
    }

    public Task<WorkflowWorkItem?> LockNextWorkflowWorkItemAsync(
        TimeSpan lockDuration,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken)
    {
        Count();
        return WaitForAsync(() => TryLockWorkflow(lockDuration), () => _workflowSignal.Task, receiveTimeout, cancellationToken);
    }

    public Task RenewWorkflowWorkItemAsync(WorkflowWorkItem workItem, TimeSpan lockDuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        Count();
        lock (_gate)
        {
            var record = OwnedRecord(workItem);
            record.LockedUntil = _time.GetUtcNow() + lockDuration;
            workItem.LockedUntil = record.LockedUntil;
        }

        return Task.CompletedTask;
    }

    public Task CompleteWorkflowWorkItemAsync(
        WorkflowWorkItem workItem,
        WorkflowStepResult result,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        ArgumentNullException.ThrowIfNull(result);
        Count();
        var activitiesAdded = false;
        lock (_gate)
        {
            var record = OwnedRecord(workItem);
            if ((long)workItem.StoreState! != record.Version)
            {
                throw new WorkItemLockLostException($"Workflow instance '{workItem.InstanceId}' changed since it was locked.");
            }

            foreach (var created in result.NewInstances)
            {
                var target = GetOrAddRecord(created.InstanceId);
                if (target.State is null)
                {
                    target.State = created;
                    target.Version++;
                }
            }

            foreach (var message in result.WorkflowMessages)
            {
                Enqueue(GetOrAddRecord(message.InstanceId), message);
            }

            foreach (var message in result.ActivityMessages)
            {
                _activities.Add(new ActivityEntry(message, Next(), VisibleAt(message)));
                activitiesAdded = true;
            }

            if (result.State is not null)
            {
                if (result.ReplaceHistory)
                {
                    record.History.Clear();
                }

                record.History.AddRange(result.NewHistory);
                record.State = result.State;
                record.Version++;
            }

            var consumed = workItem.Messages.Select(m => m.Message.MessageId).ToHashSet(StringComparer.Ordinal);
            record.Messages.RemoveAll(m => consumed.Contains(m.Message.MessageId));
            Release(record);
            SignalInstance(workItem.InstanceId);
            foreach (var created in result.NewInstances)
            {
                SignalInstance(created.InstanceId);
            }
        }

        SignalWorkflows();
        if (activitiesAdded)
        {
            SignalActivities();
        }

        return Task.CompletedTask;
    }

    public Task AbandonWorkflowWorkItemAsync(
        WorkflowWorkItem workItem,
        string? reason,
        TimeSpan retryDelay,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        Count();
        lock (_gate)
        {
            if (!_instances.TryGetValue(workItem.InstanceId, out var record) || record.LockToken != workItem.LockToken)
            {
                return Task.CompletedTask;
            }

            var abandoned = workItem.Messages.Select(m => m.Message.MessageId).ToHashSet(StringComparer.Ordinal);
            var visibleAt = _time.GetUtcNow() + retryDelay;
            foreach (var message in record.Messages.Where(m => abandoned.Contains(m.Message.MessageId)))
            {
                message.VisibleAt = visibleAt;
                message.LastError = reason ?? message.LastError;
            }

            Release(record);
        }

        SignalWorkflows();
        return Task.CompletedTask;
    }

    public Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(
        TimeSpan lockDuration,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken)
    {
        Count();
        return WaitForAsync(() => TryLockActivity(lockDuration), () => _activitySignal.Task, receiveTimeout, cancellationToken);
    }

    public Task RenewActivityWorkItemAsync(ActivityWorkItem workItem, TimeSpan lockDuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        Count();
        lock (_gate)
        {
            var entry = OwnedActivity(workItem);
            entry.VisibleAt = _time.GetUtcNow() + lockDuration;
            workItem.LockedUntil = entry.VisibleAt;
        }

        return Task.CompletedTask;
    }

    public Task CompleteActivityWorkItemAsync(
        ActivityWorkItem workItem,
        WorkflowMessage response,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        ArgumentNullException.ThrowIfNull(response);
        Count();
        lock (_gate)
        {
            // Response first, as a store without transactions would: a lost lease still leaves a (duplicate) response.
            Enqueue(GetOrAddRecord(response.InstanceId), response);
            _activities.Remove(OwnedActivityOrNull(workItem) ?? throw LostActivity(workItem));
        }

        SignalWorkflows();
        return Task.CompletedTask;
    }

    public Task AbandonActivityWorkItemAsync(
        ActivityWorkItem workItem,
        string? reason,
        TimeSpan retryDelay,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        Count();
        lock (_gate)
        {
            if (OwnedActivityOrNull(workItem) is { } entry)
            {
                entry.VisibleAt = _time.GetUtcNow() + retryDelay;
                entry.LockToken = null;
                entry.LastError = reason ?? entry.LastError;
            }
        }

        SignalActivities();
        return Task.CompletedTask;
    }

    public Task<WorkflowInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        Count();
        lock (_gate)
        {
            return Task.FromResult(_instances.TryGetValue(instanceId, out var record) ? record.State : null);
        }
    }

    public Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        Count();
        lock (_gate)
        {
            IReadOnlyList<HistoryEvent> history = _instances.TryGetValue(instanceId, out var record) && record.State is not null
                ? [.. record.History]
                : [];
            return Task.FromResult(history);
        }
    }

    public Task<WorkflowInstancePage> QueryInstancesAsync(WorkflowQuery filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(filter.PageSize, 1);
        Count();
        lock (_gate)
        {
            // Ordered by instance id, like a table keyed by it; the token is the last id returned.
            var matches = _instances.Values
                .Select(r => r.State)
                .OfType<WorkflowInstanceState>()
                .Where(s => filter.ContinuationToken is null || string.CompareOrdinal(s.InstanceId, filter.ContinuationToken) > 0)
                .Where(s => filter.Statuses is not { Count: > 0 } || filter.Statuses.Contains(s.Status))
                .Where(s => filter.CreatedFrom is null || s.CreatedAt >= filter.CreatedFrom)
                .Where(s => filter.CreatedTo is null || s.CreatedAt < filter.CreatedTo)
                .Where(s => filter.InstanceIdPrefix is null || s.InstanceId.StartsWith(filter.InstanceIdPrefix, StringComparison.Ordinal))
                .OrderBy(s => s.InstanceId, StringComparer.Ordinal)
                .Take(filter.PageSize + 1)
                .ToList();
            var hasMore = matches.Count > filter.PageSize;
            var page = matches.Take(filter.PageSize).ToList();
            return Task.FromResult(new WorkflowInstancePage(page, hasMore ? page[^1].InstanceId : null));
        }
    }

    public Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        Count();
        lock (_gate)
        {
            if (!_instances.TryGetValue(instanceId, out var record) || record.State is null || !record.State.Status.IsTerminal())
            {
                return Task.FromResult(false);
            }

            _instances.Remove(instanceId);
            _withMessages.Remove(record);
            _locked.Remove(record);
            if (record.ReadyNode is not null)
            {
                _ready.Remove(record.ReadyNode);
                record.ReadyNode = null;
            }

            SignalInstance(instanceId);
            return Task.FromResult(true);
        }
    }

    public Task<WorkflowQueueDepth> GetQueueDepthAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(new WorkflowQueueDepth(_withMessages.Sum(r => (long)r.Messages.Count), _activities.Count));
        }
    }

    public Task<bool> HasReadyWorkAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var ready = _withMessages.Any(r => (r.LockToken is null || r.LockedUntil <= now) && r.Messages.Exists(m => m.VisibleAt <= now))
                || _activities.Exists(a => a.VisibleAt <= now);
            return Task.FromResult(ready);
        }
    }

    /// <summary>Nothing to release: this store hands messages out only when they are locked.</summary>
    public Task ReleaseUnclaimedMessagesAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task WaitForInstanceChangeAsync(string instanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        Task signal;
        lock (_gate)
        {
            if (!_instanceSignals.TryGetValue(instanceId, out var waiter))
            {
                waiter = NewSignal();
                _instanceSignals[instanceId] = waiter;
            }

            signal = waiter.Task;
        }

        return signal.WaitAsync(cancellationToken);
    }

    private (WorkflowWorkItem? Item, DateTimeOffset? NextVisible) TryLockWorkflow(TimeSpan lockDuration)
    {
        var now = _time.GetUtcNow();
        DateTimeOffset? nextVisible = null;
        InstanceRecord? best = null;

        // Leases of crashed workers expire: their instances are not in the ready queue unless new messages came.
        foreach (var locked in _locked)
        {
            if (locked.LockedUntil > now)
            {
                nextVisible = Min(nextVisible, locked.LockedUntil);
            }
            else if (locked.Messages.Exists(m => m.VisibleAt <= now))
            {
                best = locked;
                break;
            }
        }

        for (var node = _ready.First; node is not null && best is null; node = node.Next)
        {
            var record = node.Value;
            if (record.LockToken is not null && record.LockedUntil > now)
            {
                nextVisible = Min(nextVisible, record.LockedUntil);
                continue;
            }

            DateTimeOffset? earliest = null;
            foreach (var message in record.Messages)
            {
                earliest = Min(earliest, message.VisibleAt);
            }

            if (earliest <= now)
            {
                best = record;
            }
            else if (earliest is not null)
            {
                nextVisible = Min(nextVisible, earliest.Value);
            }
        }

        if (best is null)
        {
            return (null, nextVisible);
        }

        if (best.ReadyNode is not null)
        {
            _ready.Remove(best.ReadyNode);
            best.ReadyNode = null;
        }

        _locked.Add(best);
        var token = Guid.NewGuid().ToString("N");
        best.LockToken = token;
        best.LockedUntil = now + lockDuration;
        var messages = new List<WorkflowMessageEnvelope>();
        foreach (var message in best.Messages.Where(m => m.VisibleAt <= now).OrderBy(m => m.Sequence))
        {
            message.DequeueCount++;
            messages.Add(new WorkflowMessageEnvelope(message.Message, message.DequeueCount) { LastError = message.LastError });
        }

        var item = new WorkflowWorkItem(best.InstanceId, best.State, [.. best.History], messages, token, best.LockedUntil)
        {
            StoreState = best.Version,
        };
        return (item, null);
    }

    private (ActivityWorkItem? Item, DateTimeOffset? NextVisible) TryLockActivity(TimeSpan lockDuration)
    {
        var now = _time.GetUtcNow();
        DateTimeOffset? nextVisible = null;
        foreach (var entry in _activities)
        {
            if (entry.VisibleAt <= now)
            {
                entry.DequeueCount++;
                entry.LockToken = Guid.NewGuid().ToString("N");
                entry.VisibleAt = now + lockDuration;
                return (
                    new ActivityWorkItem(entry.Message, entry.DequeueCount, entry.LockToken, entry.VisibleAt)
                    {
                        LastError = entry.LastError,
                    },
                    null);
            }

            nextVisible = nextVisible is null || entry.VisibleAt < nextVisible ? entry.VisibleAt : nextVisible;
        }

        return (null, nextVisible);
    }

    private async Task<T?> WaitForAsync<T>(
        Func<(T? Item, DateTimeOffset? NextVisible)> tryTake,
        Func<Task> signal,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken)
        where T : class
    {
        var deadline = _time.GetUtcNow() + receiveTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task signalled;
            (T? Item, DateTimeOffset? NextVisible) attempt;
            lock (_gate)
            {
                signalled = signal();
                attempt = tryTake();
            }

            if (attempt.Item is not null)
            {
                return attempt.Item;
            }

            var now = _time.GetUtcNow();
            if (now >= deadline)
            {
                return null;
            }

            var wakeAt = attempt.NextVisible is { } next && next < deadline ? next : deadline;
            var wait = wakeAt - now;
            using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(wait > MaxWaitHop ? MaxWaitHop : wait, _time, stopWaiting.Token);

            // A fake clock advanced between reading "now" and arming the delay would leave it late: look again
            // instead. The system clock always moves on (comparing it would spin); lateness of microseconds is harmless.
            if (ReferenceEquals(_time, TimeProvider.System) || _time.GetUtcNow() == now)
            {
                await Task.WhenAny(signalled, delay).ConfigureAwait(false);
            }

            // Synchronous: only disposes the delay's timer, nothing to schedule.
#pragma warning disable CA1849
            stopWaiting.Cancel();
#pragma warning restore CA1849
        }
    }

    private InstanceRecord GetOrAddRecord(string instanceId)
    {
        if (!_instances.TryGetValue(instanceId, out var record))
        {
            record = new InstanceRecord(instanceId);
            _instances[instanceId] = record;
        }

        return record;
    }

    private void Enqueue(InstanceRecord record, WorkflowMessage message)
    {
        record.Messages.Add(new StoredMessage(message, Next(), VisibleAt(message)));
        _withMessages.Add(record);
        record.ReadyNode ??= _ready.AddLast(record);
    }

    private static DateTimeOffset? Min(DateTimeOffset? current, DateTimeOffset candidate) =>
        current is null || candidate < current ? candidate : current;

    private DateTimeOffset VisibleAt(WorkflowMessage message) => message.VisibleAt ?? _time.GetUtcNow();

    private long Next() => ++_sequence;

    private void Release(InstanceRecord record)
    {
        record.LockToken = null;
        record.LockedUntil = default;
        _locked.Remove(record);
        if (record.Messages.Count > 0)
        {
            record.ReadyNode ??= _ready.AddLast(record);
        }
        else
        {
            if (record.ReadyNode is not null)
            {
                _ready.Remove(record.ReadyNode);
                record.ReadyNode = null;
            }

            _withMessages.Remove(record);
            if (record.State is null)
            {
                _instances.Remove(record.InstanceId);
            }
        }
    }

    private InstanceRecord OwnedRecord(WorkflowWorkItem workItem) =>
        _instances.TryGetValue(workItem.InstanceId, out var record) && record.LockToken == workItem.LockToken
            ? record
            : throw new WorkItemLockLostException(
                $"The lease on workflow instance '{workItem.InstanceId}' was lost (expired and taken by another worker, "
                + "or the instance was purged).");

    private ActivityEntry? OwnedActivityOrNull(ActivityWorkItem workItem) =>
        _activities.Find(e => e.LockToken == workItem.LockToken && e.Message.MessageId == workItem.Message.MessageId);

    private ActivityEntry OwnedActivity(ActivityWorkItem workItem) => OwnedActivityOrNull(workItem) ?? throw LostActivity(workItem);

    private static WorkItemLockLostException LostActivity(ActivityWorkItem workItem) =>
        new(
            $"The lease on activity '{workItem.Message.Event.Name}' of instance '{workItem.Message.InstanceId}' was lost (it expired and "
            + "the message was redelivered).");

    // Called under the gate.
    private void SignalInstance(string instanceId)
    {
        if (_instanceSignals.Remove(instanceId, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    private void Count() => Interlocked.Increment(ref _operations);

    private void SignalWorkflows() => Interlocked.Exchange(ref _workflowSignal, NewSignal()).TrySetResult();

    private void SignalActivities() => Interlocked.Exchange(ref _activitySignal, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
