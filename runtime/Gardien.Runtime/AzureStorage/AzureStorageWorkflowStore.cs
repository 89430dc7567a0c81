using System.Collections.Concurrent;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Gardien.Runtime.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// <see cref="IWorkflowStore"/> on Azure Storage, laid out like the Durable Task Azure Storage provider:
/// <list type="bullet">
/// <item><c>{hub}History</c>: one partition per instance holding the history rows and a sentinel row with the
/// authoritative instance state; every step commits its rows and the sentinel in one entity-group transaction
/// conditional on the sentinel's ETag.</item>
/// <item><c>{hub}Instances</c>: a query copy of each sentinel (RowKey ""), written right after the commit, plus
/// activity result rows used to never re-run an activity whose completion was persisted.</item>
/// <item><c>{hub}-control-NN</c>: orchestration messages, partitioned by instance id hash; the visibility timeout is the lease.</item>
/// <item><c>{hub}-workitems</c>: activity messages. <c>{hub}-largemessages</c>: payloads over the inline threshold.</item>
/// </list>
/// See docs/engine-azure-storage.md for the consistency design.
/// </summary>
public sealed class AzureStorageWorkflowStore : IWorkflowStore, IWorkflowStoreChangeNotifier, IAsyncDisposable
{
    // Azure queues hide a message for at most 7 days; longer delays re-hide on early delivery ("bounce").
    private static readonly TimeSpan MaxQueueVisibility = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    // With a fake clock the queue cannot know when "now" jumps, so delayed messages are re-checked this often.
    private static readonly TimeSpan FakeClockRecheck = TimeSpan.FromMilliseconds(200);

    // A buffered message whose lease ends sooner than this is dropped (the queue redelivers it) rather than handed out.
    private static readonly TimeSpan MinUsableLease = TimeSpan.FromSeconds(2);

    private readonly AzureStorageStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LargePayloadStore _payloads;
    private readonly TableGroupCommitter _resultRows;
    private readonly QueuePoller _controlPoller;
    private readonly QueuePoller _activityPoller;
    private readonly object _gate = new();

    // Messages received from control queues, waiting for their instance to be locked (by instance id).
    private readonly Dictionary<string, List<ReceivedQueueMessage>> _buffered = new(StringComparer.Ordinal);
    private readonly HashSet<string> _lockedInstances = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedQueueMessage> _bufferedActivities = new();
    private readonly RecentIds _settledMessageIds = new(4096);

    // Leased to this store object but in none of the buffers yet (or no longer): see HandOverCounter and HasReadyWorkAsync.
    private readonly HandOverCounter _handOvers = new();

    // Start messages put back for a moment because their instance row was not there yet (queue message id -> due time):
    // hidden in the queue, yet work that is about to be ready.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _heldBackUntil = new(StringComparer.Ordinal);
    private TaskCompletionSource _commitSignal = NewSignal();

    // Fake clock only: messages re-hidden because they were not due yet, by queue message id, with their due time.
    // A jump of the fake clock makes them due while the queue still hides them; HasReadyWorkAsync must know.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _bouncedUntil = new(StringComparer.Ordinal);

    // The lease the engine asks for (its LockDuration), learnt from its lock calls; messages delivered locally are
    // sent invisible for this long, so that a crash hands them to another process after the same delay as a received one.
    private long _leaseTicks;
    private int _localControlDeliveries;

    // One receive in flight per queue set: the other lockers wait for what it brings (or for a released instance).
    private readonly SemaphoreSlim _controlReceive = new(1, 1);
    private readonly SemaphoreSlim _activityReceive = new(1, 1);
    private TaskCompletionSource _bufferChanged = NewSignal();
    private TaskCompletionSource _activityBufferChanged = NewSignal();

    // The committed state of instances this store committed last: a step can skip reading the partition. A stale
    // entry (another process committed since) only costs a 412 at commit, after which it is dropped.
    private readonly Dictionary<string, CachedInstance> _cache = new(StringComparer.Ordinal);
    private const int MaxCachedInstances = 2000;

    public AzureStorageWorkflowStore(AzureStorageStoreOptions options, TimeProvider? timeProvider = null, ILogger<AzureStorageWorkflowStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Clients = AzureStorageClients.Create(options);
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _payloads = new LargePayloadStore(Clients.LargeMessages, options.LargePayloadThresholdBytes);
        _resultRows = new TableGroupCommitter(Clients.Instances);
        _controlPoller = new QueuePoller(Clients.ControlQueues, options, _handOvers);
        _activityPoller = new QueuePoller([Clients.WorkItems], options, _handOvers);
    }

    /// <summary>The clients of the task hub (tests and tools inspect the tables and queues through them).</summary>
    public AzureStorageClients Clients { get; }

    public AzureStorageNames Names => Clients.Names;

    /// <summary>Unlimited: delays beyond the queue's 7-day cap are re-hidden by the store itself when delivered early.</summary>
    public TimeSpan? MaxMessageDelay => null;

    private bool UsesSystemClock => ReferenceEquals(_time, TimeProvider.System);

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => Clients.CreateIfNotExistsAsync(cancellationToken);

    /// <summary>Deletes every table, queue and container of the hub.</summary>
    public Task DeleteTaskHubAsync(CancellationToken cancellationToken = default) => Clients.DeleteIfExistsAsync(cancellationToken);

    public async Task<bool> CreateInstanceAsync(WorkflowInstanceState instance, WorkflowMessage executionStarted, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(executionStarted);

        // Message first: a crash before the row leaves a stray message (discarded), never a row without its start.
        // Until the row exists, the locker holds such a message back instead of handing out an instance without a row.
        await SendWorkflowMessageAsync(executionStarted, wake: false, cancellationToken).ConfigureAwait(false);
        var created = await TryCreateRowsAsync(instance, cancellationToken).ConfigureAwait(false);
        _controlPoller.Wake(Clients.ControlQueueFor(instance.InstanceId));
        return created;
    }

    public Task SendMessageAsync(WorkflowMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return SendWorkflowMessageAsync(message, wake: true, cancellationToken);
    }

    public async Task<WorkflowWorkItem?> LockNextWorkflowWorkItemAsync(TimeSpan lockDuration, TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _leaseTicks, lockDuration.Ticks);
        var deadline = DateTimeOffset.UtcNow + receiveTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (taken, changed) = TakeReadyInstance();
            if (taken is not null)
            {
                WorkflowWorkItem? item;
                try
                {
                    item = await TryBuildWorkItemAsync(taken.Value.InstanceId, taken.Value.Messages, lockDuration, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    // Begun by TakeReadyInstance; from here on the engine counts the work item as its own.
                    _handOvers.End();
                }

                if (item is not null)
                {
                    return item;
                }

                continue;
            }

            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }

            if (!await _controlReceive.WaitAsync(0, cancellationToken).ConfigureAwait(false))
            {
                await Task.WhenAny(changed, Task.Delay(remaining, cancellationToken)).ConfigureAwait(false);
                continue;
            }

            try
            {
                var localBefore = Volatile.Read(ref _localControlDeliveries);
                var received = await _controlPoller.ReceiveAsync(
                    _options.MessageBatchSize, lockDuration, remaining, cancellationToken, () => Volatile.Read(ref _localControlDeliveries) != localBefore).ConfigureAwait(false);
                if (received.Count > 0)
                {
                    try
                    {
                        // Not cancellable: leased messages must reach the buffer, from which a stopping engine releases them.
                        await IngestControlMessagesAsync(received, lockDuration, CancellationToken.None).ConfigureAwait(false);
                    }
                    finally
                    {
                        _handOvers.End();
                    }
                }
            }
            finally
            {
                _controlReceive.Release();
                SignalBufferChanged();
            }
        }
    }

    public async Task RenewWorkflowWorkItemAsync(WorkflowWorkItem workItem, TimeSpan lockDuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        var state = StateOf(workItem);
        await Task.WhenAll(state.Messages.Select(m => RenewLeaseAsync(m, lockDuration, cancellationToken))).ConfigureAwait(false);
        workItem.LockedUntil = _time.GetUtcNow() + lockDuration;
    }

    public async Task CompleteWorkflowWorkItemAsync(WorkflowWorkItem workItem, WorkflowStepResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        ArgumentNullException.ThrowIfNull(result);
        var state = StateOf(workItem);
        try
        {
            // 1. Outbound messages first (see STORE-CONTRACT.md, "send before commit").
            var activitySends = result.ActivityMessages.Select(m => SendAsync(Clients.WorkItems, m, cancellationToken, deliverLocally: true)).ToList();
            var sends = new List<Task>(activitySends);
            sends.AddRange(result.WorkflowMessages.Select(m => SendAsync(Clients.ControlQueueFor(m.InstanceId), m, cancellationToken)));
            await Task.WhenAll(sends).ConfigureAwait(false);
            var sentToQueue = false;
            foreach (var sent in activitySends.Select(t => t.Result))
            {
                if (sent is null)
                {
                    sentToQueue = true;
                }
                else
                {
                    _bufferedActivities.Enqueue(sent);
                }
            }

            if (activitySends.Count > 0)
            {
                Interlocked.Exchange(ref _activityBufferChanged, NewSignal()).TrySetResult();
                if (sentToQueue)
                {
                    _activityPoller.Wake(Clients.WorkItems);
                }
                else
                {
                    _activityPoller.Interrupt();
                }
            }
            if (result.NewInstances.Count > 0)
            {
                await Task.WhenAll(result.NewInstances.Select(i => TryCreateRowsAsync(i, cancellationToken))).ConfigureAwait(false);
            }

            // 2. History and instance state, atomically and conditionally.
            var after = new List<Task>();
            if (result.State is not null)
            {
                TableEntity committed;
                try
                {
                    committed = await CommitAsync(workItem, state, result, cancellationToken).ConfigureAwait(false);
                }
                catch (WorkItemLockLostException)
                {
                    // Another store object (another process) committed this instance since it was read: both held
                    // messages of it. Hand ours back at once, not counted as a failed delivery, so that the step is
                    // redone on the fresh state instead of waiting for the leases to expire.
                    await Task.WhenAll(state.Messages.Select(m => BounceAsync(m, CancellationToken.None))).ConfigureAwait(false);
                    _controlPoller.Wake(Clients.ControlQueueFor(workItem.InstanceId));
                    throw;
                }

                after.Add(UpdateQueryRowAsync(workItem.InstanceId, committed, cancellationToken));
            }

            // 3. Consume exactly the work item's messages (alongside the query-row copy).
            after.AddRange(state.Messages.Select(m => DeleteMessageAsync(m, cancellationToken)));
            await Task.WhenAll(after).ConfigureAwait(false);
        }
        finally
        {
            Release(workItem.InstanceId);
        }

        foreach (var queue in result.WorkflowMessages.Select(m => Clients.ControlQueueFor(m.InstanceId)).Distinct())
        {
            _controlPoller.Wake(queue);
        }

        Interlocked.Exchange(ref _commitSignal, NewSignal()).TrySetResult();
    }

    public async Task AbandonWorkflowWorkItemAsync(WorkflowWorkItem workItem, string? reason, TimeSpan retryDelay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        if (workItem.StoreState is not WorkItemState state)
        {
            return;
        }

        Forget(workItem.InstanceId);
        try
        {
            await Task.WhenAll(state.Messages.Select(m => AbandonMessageAsync(m, reason, retryDelay, cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            Release(workItem.InstanceId);
        }
    }

    public async Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(TimeSpan lockDuration, TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _leaseTicks, lockDuration.Ticks);
        var deadline = DateTimeOffset.UtcNow + receiveTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var changed = Volatile.Read(ref _activityBufferChanged).Task;
            while (true)
            {
                // Counted from before it leaves the buffer until the engine has it (the engine counts it from then on).
                _handOvers.Begin();
                try
                {
                    if (!_bufferedActivities.TryDequeue(out var received))
                    {
                        break;
                    }

                    if (received.LeaseExpiresAt - DateTimeOffset.UtcNow < MinUsableLease)
                    {
                        continue;
                    }

                    bool replayed;
                    try
                    {
                        replayed = _options.DeduplicateActivityExecutions && await TryReplayPersistedResultAsync(received, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        // Still leased to us: keep it where a stopping engine releases it (or the next locker retries it).
                        _bufferedActivities.Enqueue(received);
                        throw;
                    }

                    if (replayed)
                    {
                        continue;
                    }

                    return new ActivityWorkItem(received.Message, received.EffectiveDequeueCount, Guid.NewGuid().ToString("N"), _time.GetUtcNow() + lockDuration)
                    {
                        LastError = received.Envelope.LastError,
                        StoreState = received,
                    };
                }
                finally
                {
                    _handOvers.End();
                }
            }

            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }

            if (!await _activityReceive.WaitAsync(0, cancellationToken).ConfigureAwait(false))
            {
                await Task.WhenAny(changed, Task.Delay(remaining, cancellationToken)).ConfigureAwait(false);
                continue;
            }

            try
            {
                var batch = await _activityPoller.ReceiveAsync(
                    _options.ActivityBatchSize, lockDuration, remaining, cancellationToken, () => !_bufferedActivities.IsEmpty).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    try
                    {
                        foreach (var message in await DecodeAsync(batch, lockDuration, CancellationToken.None).ConfigureAwait(false))
                        {
                            _bufferedActivities.Enqueue(message);
                        }
                    }
                    finally
                    {
                        _handOvers.End();
                    }
                }
            }
            finally
            {
                _activityReceive.Release();
                Interlocked.Exchange(ref _activityBufferChanged, NewSignal()).TrySetResult();
            }
        }
    }

    public async Task RenewActivityWorkItemAsync(ActivityWorkItem workItem, TimeSpan lockDuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        await RenewLeaseAsync(ActivityStateOf(workItem), lockDuration, cancellationToken).ConfigureAwait(false);
        workItem.LockedUntil = _time.GetUtcNow() + lockDuration;
    }

    public async Task CompleteActivityWorkItemAsync(ActivityWorkItem workItem, WorkflowMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        ArgumentNullException.ThrowIfNull(response);
        var received = ActivityStateOf(workItem);
        if (_options.DeduplicateActivityExecutions)
        {
            // Persist the outcome before anything else: from here on a redelivery replays it instead of re-running the activity.
            await PersistActivityResultAsync(received.Message, response, cancellationToken).ConfigureAwait(false);
            if (_options.DeliverLocally && received.LeaseExpiresAt - DateTimeOffset.UtcNow > MinUsableLease)
            {
                // No response message: the outcome goes to this process's workflow locker in memory, and the activity
                // message, still leased, is its crash backup. The step that commits the outcome to history deletes
                // the activity message; if this process dies first, the activity message comes back when its lease
                // ends and its redelivery replays the persisted outcome (TryReplayPersistedResultAsync) without
                // running the activity. Saves sending and deleting a response message per activity.
                var envelope = new QueueEnvelope
                {
                    MessageId = response.MessageId,
                    InstanceId = response.InstanceId,
                    ExecutionId = response.ExecutionId,
                    SentAt = SendClock.Next(),
                    Event = response.Event,
                };
                BufferLocally(received.WithOutcome(envelope, response));
                return;
            }
        }

        await SendResponseAsync(response, cancellationToken).ConfigureAwait(false);
        if (!await DeleteMessageAsync(received, cancellationToken).ConfigureAwait(false))
        {
            throw new WorkItemLockLostException(
                $"The lease on activity '{workItem.Message.Event.Name}' of instance '{workItem.Message.InstanceId}' was lost (it expired and the message was redelivered).");
        }
    }

    public async Task AbandonActivityWorkItemAsync(ActivityWorkItem workItem, string? reason, TimeSpan retryDelay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        if (workItem.StoreState is ReceivedQueueMessage received)
        {
            await AbandonMessageAsync(received, reason, retryDelay, cancellationToken).ConfigureAwait(false);
            _activityPoller.Wake();
        }
    }

    public async Task<WorkflowInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        var row = await Clients.History.GetEntityIfExistsAsync<TableEntity>(TableKeys.Encode(instanceId), TableKeys.SentinelRowKey, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return row.HasValue && row.Value is { } sentinel ? await InstanceRows.ReadAsync(sentinel, _payloads, cancellationToken).ConfigureAwait(false) : null;
    }

    public async Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        var partition = await HistoryTableReader.ReadAsync(Clients.History, TableKeys.Encode(instanceId), cancellationToken).ConfigureAwait(false);
        return partition is null ? [] : await ReadEventsAsync(partition, cancellationToken).ConfigureAwait(false);
    }

    public async Task<WorkflowInstancePage> QueryInstancesAsync(WorkflowInstanceFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(filter.PageSize, 1);

        // Ordered by (encoded) instance id; the continuation token is the last id returned, as in the in-memory store.
        var clauses = new List<string> { TableClient.CreateQueryFilter($"RowKey eq {InstanceRows.InstanceRowKey}") };
        if (filter.ContinuationToken is { } after)
        {
            clauses.Add(TableClient.CreateQueryFilter($"PartitionKey gt {TableKeys.Encode(after)}"));
        }

        if (filter.InstanceIdPrefix is { Length: > 0 } prefix)
        {
            var encoded = TableKeys.Encode(prefix);
            clauses.Add(TableClient.CreateQueryFilter($"PartitionKey ge {encoded} and PartitionKey lt {encoded + char.MaxValue}"));
        }

        if (filter.Statuses is { Count: > 0 } statuses)
        {
            clauses.Add("(" + string.Join(" or ", statuses.Select(s => TableClient.CreateQueryFilter($"Status eq {s.ToString()}"))) + ")");
        }

        if (filter.CreatedFrom is { } from)
        {
            clauses.Add(TableClient.CreateQueryFilter($"CreatedAt ge {from.ToUniversalTime()}"));
        }

        if (filter.CreatedTo is { } to)
        {
            clauses.Add(TableClient.CreateQueryFilter($"CreatedAt lt {to.ToUniversalTime()}"));
        }

        var query = string.Join(" and ", clauses);
        var page = new List<WorkflowInstanceState>(filter.PageSize);
        var hasMore = false;
        await foreach (var row in Clients.Instances.QueryAsync<TableEntity>(query, maxPerPage: Math.Min(1000, filter.PageSize + 1), cancellationToken: cancellationToken)
                           .ConfigureAwait(false))
        {
            if (page.Count == filter.PageSize)
            {
                hasMore = true;
                break;
            }

            page.Add(await InstanceRows.ReadAsync(row, _payloads, cancellationToken).ConfigureAwait(false));
        }

        return new WorkflowInstancePage(page, hasMore ? page[^1].InstanceId : null);
    }

    public async Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        Forget(instanceId);
        var key = TableKeys.Encode(instanceId);
        var sentinel = await Clients.History.GetEntityIfExistsAsync<TableEntity>(key, TableKeys.SentinelRowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!sentinel.HasValue || sentinel.Value is null
            || !Enum.TryParse<WorkflowStatus>(sentinel.Value.GetString("Status"), out var status) || !status.IsTerminal())
        {
            return false;
        }

        try
        {
            // Conditional: an instance that changed since the read (it cannot leave a terminal status, but be strict) is not purged.
            await Clients.History.DeleteEntityAsync(key, TableKeys.SentinelRowKey, sentinel.Value.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }

        await DeletePartitionAsync(Clients.History, key, cancellationToken).ConfigureAwait(false);
        await DeletePartitionAsync(Clients.Instances, key, cancellationToken).ConfigureAwait(false);
        await _payloads.DeleteForInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false);

        // Pending messages are left to the queue: the engine discards messages to instances that do not exist.
        return true;
    }

    public async Task<WorkflowQueueDepth> GetQueueDepthAsync(CancellationToken cancellationToken = default)
    {
        var control = await Task.WhenAll(Clients.ControlQueues.Select(q => q.GetPropertiesAsync(cancellationToken))).ConfigureAwait(false);
        var activities = await Clients.WorkItems.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
        return new WorkflowQueueDepth(control.Sum(p => (long)p.Value.ApproximateMessagesCount), activities.Value.ApproximateMessagesCount);
    }

    public async Task<bool> HasReadyWorkAsync(CancellationToken cancellationToken = default)
    {
        // A message moves queue -> receive in flight -> decoded -> buffer -> being handed over -> engine, each stage
        // entered before the previous one is left; looking in that same order, a message present throughout is seen
        // at least once. (The engine's own count and its work epoch cover the last move.)
        if (HoldsWorkInMemory())
        {
            // Ready already; spares the peeks.
            return true;
        }

        // Peeking sees visible messages only: leased ones and (on the system clock) timers not yet due stay hidden.
        // On a fake clock a not-yet-due message cycles through visibility (see FakeClockRecheck), so check its due time.
        var peeks = await Task.WhenAll(Clients.ControlQueues.Append(Clients.WorkItems).Select(q => q.PeekMessagesAsync(32, cancellationToken)))
            .ConfigureAwait(false);
        var now = _time.GetUtcNow();
        if (peeks.SelectMany(p => p.Value).Any(m => IsDue(m.MessageText, now)))
        {
            return true;
        }

        return HoldsWorkInMemory();
    }

    /// <summary>The in-memory stages of <see cref="HasReadyWorkAsync"/>, in hand-over order (see there).</summary>
    private bool HoldsWorkInMemory()
    {
        if (_handOvers.Any)
        {
            return true;
        }

        lock (_gate)
        {
            if (_buffered.Values.Any(list => list.Count > 0))
            {
                return true;
            }
        }

        if (!_bufferedActivities.IsEmpty || _handOvers.Any || _bouncedUntil.Values.Any(due => due <= _time.GetUtcNow()))
        {
            return true;
        }

        foreach (var (messageId, until) in _heldBackUntil)
        {
            if (until > DateTimeOffset.UtcNow)
            {
                return true;
            }

            _heldBackUntil.TryRemove(messageId, out _);
        }

        return false;
    }

    private static bool IsDue(string messageText, DateTimeOffset now)
    {
        try
        {
            return QueueEnvelopeSerializer.Deserialize(messageText).VisibleAt is not { } visibleAt || visibleAt <= now;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            // Unreadable: the next receiver deletes it, which is work.
            return true;
        }
    }

    /// <summary>
    /// Completes at the next commit made through this store object, or after the maximum polling interval so that
    /// waiters also see commits made by other processes (they re-read the instance either way).
    /// </summary>
    public Task WaitForNextCommitAsync(CancellationToken cancellationToken)
    {
        var signal = Volatile.Read(ref _commitSignal).Task;
        return Task.WhenAny(signal, Task.Delay(_options.MaxPollingInterval, cancellationToken))
            .ContinueWith(_ => cancellationToken.ThrowIfCancellationRequested(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Releases what <see cref="ReleaseUnclaimedMessagesAsync"/> releases.</summary>
    public async ValueTask DisposeAsync() => await ReleaseUnclaimedMessagesAsync().ConfigureAwait(false);

    /// <summary>
    /// Hands back messages received but not yet given to a worker (visible again at once, best effort) so that
    /// another process does not wait for their leases to expire. Locked work items are left to their owners.
    /// </summary>
    public async Task ReleaseUnclaimedMessagesAsync(CancellationToken cancellationToken = default)
    {
        List<ReceivedQueueMessage> pending;
        lock (_gate)
        {
            pending = _buffered.Where(b => !_lockedInstances.Contains(b.Key)).SelectMany(b => b.Value).ToList();
            _buffered.Clear();
        }

        while (_bufferedActivities.TryDequeue(out var activity))
        {
            pending.Add(activity);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await Task.WhenAll(pending.Select(m => AbandonMessageAsync(m, null, TimeSpan.Zero, timeout.Token))).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RequestFailedException)
        {
            // Their leases expire on their own.
        }
    }

    // ---- Workflow work items -------------------------------------------------------------------------------------

    private ((string InstanceId, List<ReceivedQueueMessage> Messages)? Taken, Task Changed) TakeReadyInstance()
    {
        lock (_gate)
        {
            var changed = _bufferChanged.Task;
            var now = DateTimeOffset.UtcNow;
            string? best = null;
            long bestSentAt = long.MaxValue;
            List<string>? empty = null;
            foreach (var (instanceId, messages) in _buffered)
            {
                messages.RemoveAll(m => m.LeaseExpiresAt - now < MinUsableLease);
                if (messages.Count == 0)
                {
                    (empty ??= []).Add(instanceId);
                    continue;
                }

                if (_lockedInstances.Contains(instanceId))
                {
                    continue;
                }

                var oldest = messages.Min(m => m.Envelope.SentAt);
                if (oldest < bestSentAt)
                {
                    best = instanceId;
                    bestSentAt = oldest;
                }
            }

            foreach (var id in empty ?? [])
            {
                _buffered.Remove(id);
            }

            if (best is null)
            {
                return (null, changed);
            }

            var taken = _buffered[best];
            _handOvers.Begin();
            _buffered.Remove(best);
            _lockedInstances.Add(best);
            taken.Sort((a, b) => a.Envelope.SentAt.CompareTo(b.Envelope.SentAt));
            return ((best, taken), changed);
        }
    }

    private async Task<WorkflowWorkItem?> TryBuildWorkItemAsync(string instanceId, List<ReceivedQueueMessage> messages, TimeSpan lockDuration, CancellationToken cancellationToken)
    {
        try
        {
            CachedInstance? cached;
            lock (_gate)
            {
                _cache.TryGetValue(instanceId, out cached);
            }

            if (cached is not null)
            {
                var envelopesFromCache = messages
                    .Select(m => new WorkflowMessageEnvelope(m.Message, m.EffectiveDequeueCount) { LastError = m.Envelope.LastError })
                    .ToList();
                return new WorkflowWorkItem(instanceId, cached.Instance, cached.History, envelopesFromCache, Guid.NewGuid().ToString("N"), _time.GetUtcNow() + lockDuration)
                {
                    StoreState = new WorkItemState(messages, cached.Partition, cached.Instance),
                };
            }

            var partition = await HistoryTableReader.ReadAsync(Clients.History, TableKeys.Encode(instanceId), cancellationToken).ConfigureAwait(false);
            if (partition is null && messages.Any(m => m.Message.Event.EventType == HistoryEventType.ExecutionStarted && m.EffectiveDequeueCount < _options.MaxDequeueCount))
            {
                // The creator sends the start message before inserting the row: give it a moment rather than
                // letting the engine discard a start whose row is about to appear.
                var heldBack = TimeSpan.FromMilliseconds(500);
                foreach (var message in messages)
                {
                    _heldBackUntil[message.QueueMessageId] = DateTimeOffset.UtcNow + heldBack + MinUsableLease;
                }

                await Task.WhenAll(messages.Select(m => AbandonMessageAsync(m, null, heldBack, CancellationToken.None))).ConfigureAwait(false);
                Release(instanceId);
                return null;
            }

            WorkflowInstanceState? instance = null;
            IReadOnlyList<HistoryEvent> history = [];
            if (partition is not null)
            {
                instance = await InstanceRows.ReadAsync(partition.Sentinel, _payloads, cancellationToken).ConfigureAwait(false);
                history = await ReadEventsAsync(partition, cancellationToken).ConfigureAwait(false);
            }

            var envelopes = messages
                .Select(m => new WorkflowMessageEnvelope(m.Message, m.EffectiveDequeueCount) { LastError = m.Envelope.LastError })
                .ToList();
            return new WorkflowWorkItem(instanceId, instance, history, envelopes, Guid.NewGuid().ToString("N"), _time.GetUtcNow() + lockDuration)
            {
                StoreState = new WorkItemState(messages, partition, instance),
            };
        }
        catch (OperationCanceledException)
        {
            // Stopping: the messages keep their leases; back to the buffer, from which the stopping engine releases them
            // (rather than leaving them hidden until their leases expire).
            lock (_gate)
            {
                if (!_buffered.TryGetValue(instanceId, out var list))
                {
                    list = [];
                    _buffered[instanceId] = list;
                }

                list.AddRange(messages.Where(m => list.All(b => b.QueueMessageId != m.QueueMessageId)));
            }

            Release(instanceId);
            throw;
        }
        catch
        {
            // The messages keep their leases and come back when those expire (counted as a failed delivery).
            Release(instanceId);
            throw;
        }
    }

    /// <returns>The committed sentinel row (with its new ETag).</returns>
    private async Task<TableEntity> CommitAsync(WorkflowWorkItem workItem, WorkItemState state, WorkflowStepResult result, CancellationToken cancellationToken)
    {
        var key = TableKeys.Encode(workItem.InstanceId);
        var generation = state.Partition?.Generation ?? 0;
        var count = state.Partition?.HistoryCount ?? 0;
        var toDelete = new List<TableEntity>(state.Partition?.StaleRows ?? []);
        if (result.ReplaceHistory && state.Partition is not null)
        {
            toDelete.AddRange(state.Partition.Rows);
            generation++;
            count = 0;
        }

        var rows = new List<TableEntity>(result.NewHistory.Count);
        foreach (var historyEvent in result.NewHistory)
        {
            var row = new TableEntity(key, TableKeys.HistoryRowKey(generation, count++)) { ["EventType"] = historyEvent.EventType.ToString() };
            await _payloads.WriteAsync(row, "Event", workItem.InstanceId, QueueEnvelopeSerializer.SerializeEvent(historyEvent), cancellationToken).ConfigureAwait(false);
            rows.Add(row);
        }

        var sentinel = new TableEntity(key, TableKeys.SentinelRowKey)
        {
            [SentinelColumns.Generation] = generation,
            [SentinelColumns.HistoryCount] = count,
        };
        var previous = state.Instance is not null && state.Partition is not null ? (state.Instance, state.Partition.Sentinel) : ((WorkflowInstanceState, TableEntity)?)null;
        await InstanceRows.WriteAsync(sentinel, result.State!, _payloads, previous, cancellationToken).ConfigureAwait(false);

        ETag newETag;
        try
        {
            newETag = await HistoryTableWriter.CommitAsync(Clients.History, workItem.InstanceId, state.Partition?.ETag, sentinel, rows, toDelete, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (HistoryTableWriter.ConcurrencyConflictException ex)
        {
            Forget(workItem.InstanceId);
            throw new WorkItemLockLostException(ex.Message, ex);
        }

        sentinel.ETag = newETag;
        var keptRows = result.ReplaceHistory || state.Partition is null ? rows : [.. state.Partition.Rows, .. rows];
        IReadOnlyList<HistoryEvent> history = result.ReplaceHistory ? [.. result.NewHistory] : [.. workItem.History, .. result.NewHistory];
        lock (_gate)
        {
            if (_cache.Count >= MaxCachedInstances)
            {
                _cache.Clear();
            }

            _cache[workItem.InstanceId] = new CachedInstance(new HistoryPartition(sentinel, keptRows, []), result.State!, history);
        }

        return sentinel;
    }

    private async Task UpdateQueryRowAsync(string instanceId, TableEntity sentinel, CancellationToken cancellationToken)
    {
        try
        {
            await Clients.Instances.UpsertEntityAsync(InstanceRows.QueryCopy(sentinel), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            // The History sentinel is authoritative and already committed; the query copy catches up at the next step.
            _logger.LogWarning(ex, "Could not update the query row of workflow instance {InstanceId}", instanceId);
        }
    }

    private void Forget(string instanceId)
    {
        lock (_gate)
        {
            _cache.Remove(instanceId);
        }
    }

    private async Task<IReadOnlyList<HistoryEvent>> ReadEventsAsync(HistoryPartition partition, CancellationToken cancellationToken)
    {
        var events = new List<HistoryEvent>(partition.Rows.Count);
        foreach (var row in partition.Rows)
        {
            var json = await _payloads.ReadAsync(row, "Event", cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"History row {row.PartitionKey}/{row.RowKey} holds no event.");
            events.Add(QueueEnvelopeSerializer.DeserializeEvent(json));
        }

        return events;
    }

    private void Release(string instanceId)
    {
        bool more;
        lock (_gate)
        {
            _lockedInstances.Remove(instanceId);
            more = _buffered.ContainsKey(instanceId);
        }

        if (more)
        {
            SignalBufferChanged();
        }
    }

    private void SignalBufferChanged()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _bufferChanged;
            _bufferChanged = NewSignal();
        }

        changed.TrySetResult();
    }

    private async Task<bool> TryCreateRowsAsync(WorkflowInstanceState instance, CancellationToken cancellationToken)
    {
        var sentinel = new TableEntity(TableKeys.Encode(instance.InstanceId), TableKeys.SentinelRowKey)
        {
            [SentinelColumns.Generation] = 0,
            [SentinelColumns.HistoryCount] = 0L,
        };
        await InstanceRows.WriteAsync(sentinel, instance, _payloads, null, cancellationToken).ConfigureAwait(false);
        try
        {
            await Clients.History.AddEntityAsync(sentinel, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }

        await Clients.Instances.UpsertEntityAsync(InstanceRows.QueryCopy(sentinel), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        return true;
    }

    // ---- Queues ----------------------------------------------------------------------------------------------------

    private async Task SendWorkflowMessageAsync(WorkflowMessage message, bool wake, CancellationToken cancellationToken)
    {
        var queue = Clients.ControlQueueFor(message.InstanceId);
        await SendAsync(queue, message, cancellationToken).ConfigureAwait(false);
        if (wake)
        {
            _controlPoller.Wake(queue);
        }
    }

    /// <summary>
    /// Sends a message. With <paramref name="deliverLocally"/> (and <see cref="AzureStorageStoreOptions.DeliverLocally"/>)
    /// a message due now is sent already leased to this store object (invisible for the engine's lock duration) and
    /// returned as if received, saving the receive round trip; the local delivery counts as the first attempt
    /// (<c>Bounces = -1</c>). If this process dies, the lease expires and another process receives it as usual.
    /// </summary>
    private async Task<ReceivedQueueMessage?> SendAsync(
        QueueClient queue, WorkflowMessage message, CancellationToken cancellationToken, bool deliverLocally = false)
    {
        var delay = InitialDelay(message.VisibleAt);
        var lease = TimeSpan.FromTicks(Interlocked.Read(ref _leaseTicks));
        var local = deliverLocally && _options.DeliverLocally && delay == TimeSpan.Zero && lease > MinUsableLease;
        var envelope = new QueueEnvelope
        {
            MessageId = message.MessageId,
            InstanceId = message.InstanceId,
            ExecutionId = message.ExecutionId,
            VisibleAt = message.VisibleAt,
            SentAt = SendClock.Next(),
            Event = message.Event,
            Bounces = local ? -1 : 0,
        };
        var text = QueueEnvelopeSerializer.Serialize(envelope);
        if (_payloads.IsLarge(text))
        {
            var blob = await _payloads.UploadAsync(message.InstanceId, QueueEnvelopeSerializer.SerializeEvent(message.Event), cancellationToken).ConfigureAwait(false);
            envelope = envelope with { Event = null, EventBlobName = blob };
            text = QueueEnvelopeSerializer.Serialize(envelope);
        }

        var leaseEnd = DateTimeOffset.UtcNow + lease;
        var receipt = (await queue.SendMessageAsync(text, local ? lease : delay, TimeSpan.FromSeconds(-1), cancellationToken).ConfigureAwait(false)).Value;
        if (!local)
        {
            return null;
        }

        var sent = QueuesModelFactory.QueueMessage(receipt.MessageId, receipt.PopReceipt, text, 0, receipt.TimeNextVisible, receipt.InsertionTime, receipt.ExpirationTime);
        return new ReceivedQueueMessage(queue, sent, envelope, message, leaseEnd);
    }

    /// <summary>Sends an activity outcome to its instance, delivered locally when possible.</summary>
    private async Task SendResponseAsync(WorkflowMessage response, CancellationToken cancellationToken)
    {
        var queue = Clients.ControlQueueFor(response.InstanceId);
        if (await SendAsync(queue, response, cancellationToken, deliverLocally: true).ConfigureAwait(false) is { } local)
        {
            BufferLocally(local);
        }
        else
        {
            _controlPoller.Wake(queue);
        }
    }

    /// <summary>Adds a locally delivered orchestration message to the buffer the workflow locker takes instances from.</summary>
    private void BufferLocally(ReceivedQueueMessage message)
    {
        lock (_gate)
        {
            if (!_buffered.TryGetValue(message.Message.InstanceId, out var list))
            {
                list = [];
                _buffered[message.Message.InstanceId] = list;
            }

            list.Add(message);
        }

        Interlocked.Increment(ref _localControlDeliveries);
        SignalBufferChanged();
        _controlPoller.Interrupt();
    }

    private TimeSpan InitialDelay(DateTimeOffset? visibleAt)
    {
        if (visibleAt is not { } at)
        {
            return TimeSpan.Zero;
        }

        var delay = at - _time.GetUtcNow();
        if (delay <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var cap = UsesSystemClock ? MaxQueueVisibility : FakeClockRecheck;
        return delay < cap ? delay : cap;
    }

    private async Task IngestControlMessagesAsync(IReadOnlyList<(QueueClient Queue, QueueMessage Message)> batch, TimeSpan lockDuration, CancellationToken cancellationToken)
    {
        var decoded = await DecodeAsync(batch, lockDuration, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var message in decoded)
            {
                if (!_buffered.TryGetValue(message.Message.InstanceId, out var list))
                {
                    list = [];
                    _buffered[message.Message.InstanceId] = list;
                }

                // The same message can come back while buffered (its lease expired): keep the newest pop receipt only.
                list.RemoveAll(m => m.QueueMessageId == message.QueueMessageId);
                list.Add(message);
            }
        }
    }

    /// <summary>Decodes a received batch, re-hiding messages that are not due yet and deleting ones already settled here.</summary>
    private async Task<List<ReceivedQueueMessage>> DecodeAsync(IReadOnlyList<(QueueClient Queue, QueueMessage Message)> batch, TimeSpan lockDuration, CancellationToken cancellationToken)
    {
        var leaseEnd = DateTimeOffset.UtcNow + lockDuration;
        var result = new List<ReceivedQueueMessage>(batch.Count);
        var followUps = new List<Task>();
        foreach (var (queue, message) in batch)
        {
            QueueEnvelope envelope;
            WorkflowMessage decoded;
            try
            {
                envelope = QueueEnvelopeSerializer.Deserialize(message.MessageText);
                var historyEvent = envelope.Event ?? QueueEnvelopeSerializer.DeserializeEvent(
                    await _payloads.DownloadAsync(envelope.EventBlobName ?? throw new FormatException("The message has neither an event nor a blob reference."), cancellationToken)
                        .ConfigureAwait(false));
                decoded = new WorkflowMessage(envelope.InstanceId, historyEvent)
                {
                    MessageId = envelope.MessageId,
                    ExecutionId = envelope.ExecutionId,
                    VisibleAt = envelope.VisibleAt,
                };
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException or NotSupportedException)
            {
                // Not ours, corrupt, or its payload blob was purged: no engine can ever process it.
                _logger.LogError(ex, "Discarding unreadable message {MessageId} from queue {Queue}", message.MessageId, queue.Name);
                followUps.Add(DeleteQuietlyAsync(queue, message.MessageId, message.PopReceipt, cancellationToken));
                continue;
            }

            if (_settledMessageIds.Contains(message.MessageId))
            {
                // Consumed here already; this copy is a redelivery whose delete raced with its lease expiry.
                followUps.Add(DeleteQuietlyAsync(queue, message.MessageId, message.PopReceipt, cancellationToken));
                continue;
            }

            var received = new ReceivedQueueMessage(queue, message, envelope, decoded, leaseEnd);
            if (envelope.VisibleAt is { } visibleAt && visibleAt > _time.GetUtcNow())
            {
                if (!UsesSystemClock)
                {
                    _bouncedUntil[message.MessageId] = visibleAt;
                }

                followUps.Add(BounceAsync(received, cancellationToken));
                continue;
            }

            _bouncedUntil.TryRemove(message.MessageId, out _);

            result.Add(received);
        }

        await Task.WhenAll(followUps).ConfigureAwait(false);
        return result;
    }

    /// <summary>Hides a message that was delivered before its time again, without counting the delivery as an attempt.</summary>
    private async Task BounceAsync(ReceivedQueueMessage message, CancellationToken cancellationToken)
    {
        if (message.BackedByActivityMessage)
        {
            // Its redelivery replays the persisted outcome (a real response message from then on).
            await AbandonMessageAsync(message, null, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            return;
        }

        var envelope = message.Envelope with { Bounces = message.Envelope.Bounces + 1 };
        try
        {
            await message.Queue.UpdateMessageAsync(message.QueueMessageId, message.PopReceipt, QueueEnvelopeSerializer.Serialize(envelope),
                InitialDelay(envelope.VisibleAt), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            // Lease lost: it is visible again and will be bounced by whoever receives it.
        }
    }

    private async Task RenewLeaseAsync(ReceivedQueueMessage message, TimeSpan lockDuration, CancellationToken cancellationToken)
    {
        try
        {
            var receipt = await message.Queue.UpdateMessageAsync(message.QueueMessageId, message.PopReceipt, visibilityTimeout: lockDuration, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            message.PopReceipt = receipt.Value.PopReceipt;
            message.LeaseExpiresAt = DateTimeOffset.UtcNow + lockDuration;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            throw new WorkItemLockLostException($"The lease on message {message.Message.MessageId} of instance '{message.Message.InstanceId}' was lost.", ex);
        }
    }

    private async Task AbandonMessageAsync(ReceivedQueueMessage message, string? reason, TimeSpan retryDelay, CancellationToken cancellationToken)
    {
        try
        {
            // An outcome backed by its activity message: the activity message's content must stay the activity.
            if (reason is null || message.BackedByActivityMessage)
            {
                await message.Queue.UpdateMessageAsync(message.QueueMessageId, message.PopReceipt, visibilityTimeout: retryDelay, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
            }
            else
            {
                var envelope = message.Envelope with { LastError = QueueEnvelopeSerializer.TrimError(reason) };
                await message.Queue.UpdateMessageAsync(message.QueueMessageId, message.PopReceipt, QueueEnvelopeSerializer.Serialize(envelope), retryDelay, cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            // Lease already lost: the message is visible again anyway.
        }
    }

    /// <returns>False when the lease was lost (the message was redelivered, or already deleted).</returns>
    private async Task<bool> DeleteMessageAsync(ReceivedQueueMessage message, CancellationToken cancellationToken)
    {
        _settledMessageIds.Add(message.QueueMessageId);
        try
        {
            await message.Queue.DeleteMessageAsync(message.QueueMessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            return false;
        }
    }

    private static async Task DeleteQuietlyAsync(QueueClient queue, string messageId, string popReceipt, CancellationToken cancellationToken)
    {
        try
        {
            await queue.DeleteMessageAsync(messageId, popReceipt, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException)
        {
            // Someone else has it or it is gone: nothing to do.
        }
    }

    // ---- Activity results --------------------------------------------------------------------------------------

    private static string ResultRowKey(WorkflowMessage activity) =>
        "result-" + TableKeys.Encode(activity.ExecutionId ?? string.Empty) + "-" + activity.Event.EventId.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);

    private async Task PersistActivityResultAsync(WorkflowMessage activity, WorkflowMessage response, CancellationToken cancellationToken)
    {
        var row = new TableEntity(TableKeys.Encode(activity.InstanceId), ResultRowKey(activity))
        {
            ["ResponseMessageId"] = response.MessageId,
            ["ResponseExecutionId"] = response.ExecutionId,
        };
        await _payloads.WriteAsync(row, "Response", activity.InstanceId, QueueEnvelopeSerializer.SerializeEvent(response.Event), cancellationToken).ConfigureAwait(false);

        // Group commit: the outcomes of a fan-out's activities finishing together share one table transaction.
        await _resultRows.UpsertAsync(row).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// When this activity's outcome was persisted already (a redelivery after a crash, or a duplicate schedule from a
    /// re-run step), sends the same response again (same message id: the engine discards the duplicate) and consumes
    /// the message without running the activity.
    /// </summary>
    private async Task<bool> TryReplayPersistedResultAsync(ReceivedQueueMessage received, CancellationToken cancellationToken)
    {
        var row = await Clients.Instances.GetEntityIfExistsAsync<TableEntity>(TableKeys.Encode(received.Message.InstanceId), ResultRowKey(received.Message),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!row.HasValue || row.Value is null)
        {
            return false;
        }

        var json = await _payloads.ReadAsync(row.Value, "Response", cancellationToken).ConfigureAwait(false);
        if (json is null)
        {
            return false;
        }

        var response = new WorkflowMessage(received.Message.InstanceId, QueueEnvelopeSerializer.DeserializeEvent(json))
        {
            MessageId = row.Value.GetString("ResponseMessageId") ?? Guid.NewGuid().ToString("N"),
            ExecutionId = row.Value.GetString("ResponseExecutionId"),
        };
        _logger.LogInformation(
            "Activity {Activity} #{TaskId} of instance {InstanceId} already completed; replaying its persisted result instead of running it again",
            received.Message.Event.Name, received.Message.Event.EventId, received.Message.InstanceId);
        await SendResponseAsync(response, cancellationToken).ConfigureAwait(false);
        await DeleteMessageAsync(received, cancellationToken).ConfigureAwait(false);
        return true;
    }

    // ---- Helpers --------------------------------------------------------------------------------------------------

    private static async Task DeletePartitionAsync(TableClient table, string partitionKey, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}"), select: ["PartitionKey", "RowKey"],
                           cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }

        foreach (var chunk in rows.Chunk(HistoryTableWriter.MaxOperationsPerBatch))
        {
            try
            {
                await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (TableTransactionFailedException)
            {
                // A row vanished concurrently; delete the rest one by one.
                foreach (var row in chunk)
                {
                    await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static WorkItemState StateOf(WorkflowWorkItem workItem) =>
        workItem.StoreState as WorkItemState ?? throw new ArgumentException("The work item was not issued by this Azure Storage store.", nameof(workItem));

    private static ReceivedQueueMessage ActivityStateOf(ActivityWorkItem workItem) =>
        workItem.StoreState as ReceivedQueueMessage ?? throw new ArgumentException("The work item was not issued by this Azure Storage store.", nameof(workItem));

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>What a locked workflow work item needs at completion: the leases it holds and what it read.</summary>
    private sealed record WorkItemState(List<ReceivedQueueMessage> Messages, HistoryPartition? Partition, WorkflowInstanceState? Instance);

    private sealed record CachedInstance(HistoryPartition Partition, WorkflowInstanceState Instance, IReadOnlyList<HistoryEvent> History);

    /// <summary>A bounded set of recently seen ids (FIFO eviction).</summary>
    private sealed class RecentIds(int capacity)
    {
        private readonly HashSet<string> _set = new(StringComparer.Ordinal);
        private readonly Queue<string> _order = new();
        private readonly object _sync = new();

        public void Add(string id)
        {
            lock (_sync)
            {
                if (_set.Add(id))
                {
                    _order.Enqueue(id);
                    if (_order.Count > capacity)
                    {
                        _set.Remove(_order.Dequeue());
                    }
                }
            }
        }

        public bool Contains(string id)
        {
            lock (_sync)
            {
                return _set.Contains(id);
            }
        }
    }

    /// <summary>Strictly increasing send stamps within a process (UTC ticks, bumped on ties).</summary>
    private static class SendClock
    {
        private static long _last;

        public static long Next()
        {
            while (true)
            {
                var last = Interlocked.Read(ref _last);
                var next = Math.Max(last + 1, DateTime.UtcNow.Ticks);
                if (Interlocked.CompareExchange(ref _last, next, last) == last)
                {
                    return next;
                }
            }
        }
    }
}
