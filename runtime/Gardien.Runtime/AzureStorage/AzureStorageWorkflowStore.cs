using System.Collections.Concurrent;
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

    // Activity packs stay well under the 64 KB queue message limit (JSON escapes non-ASCII, so characters are bytes);
    // a larger activity travels alone (its payload in a blob when over the large-payload threshold).
    private const int MaxPackChars = 40 * 1024;
    private const int MaxPackMemberChars = 4 * 1024;

    // A pack's persisted outcomes are read once for all its members; a member handed out later than this after that
    // read checks its own result row again, so that the check stays as fresh as a per-activity read.
    private static readonly TimeSpan PackResultsFreshFor = TimeSpan.FromSeconds(1);

    private readonly AzureStorageStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LargePayloadStore _payloads;
    private readonly TableGroupCommitter _resultRows;

    // Messages to an instance that wait for the send in flight to it and then go together (see SendMessageAsync).
    private readonly GroupCommitter<PendingSend> _groupedSends;
    private readonly QueryRowWriter _queryRows;

    // Waiters for a status change of an instance committed through this store object (WaitForInstanceChangeAsync).
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _statusSignals = new(StringComparer.Ordinal);
    private readonly QueuePoller _controlPoller;
    private readonly QueuePoller _activityPoller;
    private readonly object _gate = new();

    // Messages received from control queues, waiting for their instance to be locked (by instance id).
    private readonly Dictionary<string, List<ReceivedQueueMessage>> _buffered = new(StringComparer.Ordinal);
    private readonly HashSet<string> _lockedInstances = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedQueueMessage> _bufferedActivities = new();
    private readonly RecentIds _settledMessageIds = new(4096);

    // Result rows this store object persisted lately: a pack member whose pack read predates one of them reads again.
    private readonly RecentIds _persistedResults = new(4096);

    // Leased to this store object but in none of the buffers yet (or no longer): see HandOverCounter and HasReadyWorkAsync.
    private readonly HandOverCounter _handOvers = new();

    // Start messages put back for a moment because their instance row was not there yet (queue message id -> due time):
    // hidden in the queue, yet work that is about to be ready.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _heldBackUntil = new(StringComparer.Ordinal);

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
        _groupedSends = new GroupCommitter<PendingSend>(SelectPack, SendGroupAsync);
        _queryRows = new QueryRowWriter(Clients.Instances, _logger);
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

    /// <summary>
    /// Sends a message to an instance. Messages sent to one instance while a send to it is in flight go together in
    /// the next one, as a pack (see <see cref="MessagePack"/>): many events raised at once cost a few sends, receives
    /// and deletes instead of one each. The first message goes at once; each call returns once its own message is sent.
    /// </summary>
    public Task SendMessageAsync(WorkflowMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_options.MessagePackSize == 1 || message.VisibleAt is not null)
        {
            return SendWorkflowMessageAsync(message, wake: true, cancellationToken);
        }

        var envelope = EnvelopeOf(message);
        var text = QueueEnvelopeSerializer.Serialize(envelope);
        if (text.Length > MaxPackMemberChars)
        {
            return SendWorkflowMessageAsync(message, wake: true, cancellationToken);
        }

        return _groupedSends.EnqueueAsync(message.InstanceId, new PendingSend(message, envelope, text)).WaitAsync(cancellationToken);
    }

    /// <summary>Messages waiting for one instance: as many as one pack carries, in sending order.</summary>
    private List<int> SelectPack(IReadOnlyList<PendingSend> pending)
    {
        var chosen = new List<int>();
        var size = 0;
        while (chosen.Count < pending.Count && chosen.Count < _options.MessagePackSize && (chosen.Count == 0 || size + pending[chosen.Count].Text.Length <= MaxPackChars))
        {
            size += pending[chosen.Count].Text.Length;
            chosen.Add(chosen.Count);
        }

        return chosen;
    }

    /// <summary>Sends messages for one instance: alone, or as a pack.</summary>
    private async Task SendGroupAsync(string instanceId, IReadOnlyList<PendingSend> group)
    {
        var queue = Clients.ControlQueueFor(instanceId);
        if (group.Count == 1)
        {
            await queue.SendMessageAsync(group[0].Text, TimeSpan.Zero, TimeSpan.FromSeconds(-1), CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await SendPackAsync(queue, [.. group.Select(g => (g.Message, g.Envelope))], deliverLocally: false, CancellationToken.None).ConfigureAwait(false);
        }

        _controlPoller.Wake(queue);
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
            var activitySend = SendActivitiesAsync(result.ActivityMessages, cancellationToken);
            var sends = new List<Task> { activitySend };
            sends.AddRange(result.WorkflowMessages.Select(m => SendAsync(Clients.ControlQueueFor(m.InstanceId), m, cancellationToken)));
            await Task.WhenAll(sends).ConfigureAwait(false);
            var (localActivities, sentToQueue) = await activitySend.ConfigureAwait(false);
            foreach (var sent in localActivities)
            {
                _bufferedActivities.Enqueue(sent);
            }

            if (result.ActivityMessages.Count > 0)
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

                var previous = state.Partition?.Sentinel;
                var quiet = previous is not null && InstanceRows.SameQueryColumns(previous, committed);
                after.Add(_queryRows.WriteAsync(InstanceRows.QueryCopy(committed), VersionOf(committed), urgent: !quiet));
                if (state.Instance?.Status != result.State.Status)
                {
                    SignalStatusChange(workItem.InstanceId);
                }
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

                    received.Pack?.Touch();

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

                    if (received.Pack is not null && !await KeepPackLeasedAsync(received, lockDuration).ConfigureAwait(false))
                    {
                        // The pack was delivered elsewhere meanwhile: this copy of the member is not ours to run.
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
                BufferLocally(received.WithOutcome(EnvelopeOf(response), response));
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

    public async Task<WorkflowInstancePage> QueryInstancesAsync(WorkflowQuery filter, CancellationToken cancellationToken = default)
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
    /// Completes when <paramref name="instanceId"/>'s status changes through a commit of this store object, or after
    /// the maximum polling interval so that waiters also see commits made by other processes. Waiters only ever wait
    /// for a status, and a fan-in's many steps change none: waking them at every commit would cost a read each.
    /// </summary>
    public Task WaitForInstanceChangeAsync(string instanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        if (_statusSignals.Count > 10_000)
        {
            // Waiters that gave up leave their signal behind; wake everyone (they re-read) rather than grow.
            foreach (var id in _statusSignals.Keys)
            {
                SignalStatusChange(id);
            }
        }

        var signal = _statusSignals.GetOrAdd(instanceId, _ => NewSignal()).Task;
        return Task.WhenAny(signal, Task.Delay(_options.MaxPollingInterval, cancellationToken))
            .ContinueWith(_ => cancellationToken.ThrowIfCancellationRequested(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Releases what <see cref="ReleaseUnclaimedMessagesAsync"/> releases and writes waiting query copies.</summary>
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

        var wholePacks = new List<MessagePack>();
        var unclaimed = new List<ReceivedQueueMessage>(pending);
        pending.Clear();
        while (_bufferedActivities.TryDequeue(out var activity))
        {
            unclaimed.Add(activity);
        }

        foreach (var members in unclaimed.GroupBy(a => a.Pack))
        {
            if (members.Key is { IsPristine: true } pack && members.Count() == pack.MemberCount)
            {
                // No member was handed out: the pack message goes back whole.
                wholePacks.Add(pack);
            }
            else
            {
                // Single messages, or members of a pack whose siblings run or ran here: each released on its own.
                pending.AddRange(members);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await Task.WhenAll(pending.Select(m => AbandonMessageAsync(m, null, TimeSpan.Zero, timeout.Token))
                .Concat(wholePacks.Select(pack => ReleaseLeaseAsync(pack.Lease, UntriedText(pack.Envelope), TimeSpan.Zero, timeout.Token)))).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RequestFailedException)
        {
            // Their leases expire on their own.
        }

        // Query copies waiting to be coalesced: a stopping process writes them now rather than leaving them stale.
        try
        {
            await _queryRows.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Written in the background still; the sentinel is authoritative meanwhile.
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
            foreach (var message in taken)
            {
                message.Pack?.Touch();
            }

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
                    _heldBackUntil[message.Key] = DateTimeOffset.UtcNow + heldBack + MinUsableLease;
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

                list.AddRange(messages.Where(m => list.All(b => b.Key != m.Key)));
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

        var rows = await HistoryRows.BuildAsync(key, workItem.InstanceId, generation, count, result.NewHistory, _payloads, cancellationToken).ConfigureAwait(false);
        count += rows.Count;

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

    private static (long Generation, long HistoryCount) VersionOf(TableEntity sentinel) =>
        (sentinel.GetInt32(SentinelColumns.Generation) ?? 0, sentinel.GetInt64(SentinelColumns.HistoryCount) ?? 0);

    private void SignalStatusChange(string instanceId)
    {
        if (_statusSignals.TryRemove(instanceId, out var signal))
        {
            signal.TrySetResult();
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
            await HistoryRows.ReadAsync(row, events, _payloads, cancellationToken).ConfigureAwait(false);
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

        await _queryRows.WriteAsync(InstanceRows.QueryCopy(sentinel), VersionOf(sentinel), urgent: true).WaitAsync(cancellationToken).ConfigureAwait(false);
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
        QueueClient queue, WorkflowMessage message, CancellationToken cancellationToken, bool deliverLocally = false, TimeSpan? delay = null, int priorDeliveries = 0,
        string? lastError = null)
    {
        var visibilityDelay = delay ?? InitialDelay(message.VisibleAt);
        var lease = TimeSpan.FromTicks(Interlocked.Read(ref _leaseTicks));
        var local = deliverLocally && _options.DeliverLocally && visibilityDelay == TimeSpan.Zero && lease > MinUsableLease;
        var envelope = EnvelopeOf(message) with
        {
            Bounces = local ? -1 : 0,
            PriorDeliveries = priorDeliveries,
            LastError = lastError,
        };
        var text = QueueEnvelopeSerializer.Serialize(envelope);
        if (_payloads.IsLarge(text))
        {
            var blob = await _payloads.UploadAsync(message.InstanceId, QueueEnvelopeSerializer.SerializeEvent(message.Event), cancellationToken).ConfigureAwait(false);
            envelope = envelope with { Event = null, EventBlobName = blob };
            text = QueueEnvelopeSerializer.Serialize(envelope);
        }

        var leaseEnd = DateTimeOffset.UtcNow + lease;
        var receipt = (await queue.SendMessageAsync(text, local ? lease : visibilityDelay, TimeSpan.FromSeconds(-1), cancellationToken).ConfigureAwait(false)).Value;
        if (!local)
        {
            return null;
        }

        var sent = QueuesModelFactory.QueueMessage(receipt.MessageId, receipt.PopReceipt, text, 0, receipt.TimeNextVisible, receipt.InsertionTime, receipt.ExpirationTime);
        return new ReceivedQueueMessage(queue, sent, envelope, message, leaseEnd);
    }

    /// <summary>
    /// Sends the activities of one step: those due now in packs (up to <see cref="AzureStorageStoreOptions.MessagePackSize"/>
    /// per instance execution, see <see cref="MessagePack"/>), the others (delayed, large, or alone) in messages of their own.
    /// Returns the activities delivered locally (leased to this store object) and whether anything went to the queue only.
    /// </summary>
    private async Task<(List<ReceivedQueueMessage> Local, bool SentToQueue)> SendActivitiesAsync(IReadOnlyList<WorkflowMessage> activities, CancellationToken cancellationToken)
    {
        var singles = new List<WorkflowMessage>();
        var packs = new List<List<(WorkflowMessage Message, QueueEnvelope Envelope)>>();
        if (_options.MessagePackSize > 1 && activities.Count > 1)
        {
            foreach (var execution in activities.GroupBy(a => (a.InstanceId, a.ExecutionId)))
            {
                List<(WorkflowMessage Message, QueueEnvelope Envelope)>? current = null;
                var size = 0;
                foreach (var activity in execution)
                {
                    var member = EnvelopeOf(activity);
                    var length = activity.VisibleAt is null ? QueueEnvelopeSerializer.Serialize(member).Length : int.MaxValue;
                    if (length > MaxPackMemberChars)
                    {
                        singles.Add(activity);
                        continue;
                    }

                    if (current is null || current.Count >= _options.MessagePackSize || size + length > MaxPackChars)
                    {
                        current = [];
                        size = 0;
                        packs.Add(current);
                    }

                    current.Add((activity, member));
                    size += length;
                }
            }

            singles.AddRange(packs.Where(p => p.Count == 1).Select(p => p[0].Message));
            packs.RemoveAll(p => p.Count == 1);
        }
        else
        {
            singles.AddRange(activities);
        }

        var singleSends = singles.Select(m => SendAsync(Clients.WorkItems, m, cancellationToken, deliverLocally: true)).ToList();
        var packSends = packs.Select(p => SendPackAsync(Clients.WorkItems, p, deliverLocally: true, cancellationToken)).ToList();
        await Task.WhenAll(singleSends.Cast<Task>().Concat(packSends)).ConfigureAwait(false);

        var local = new List<ReceivedQueueMessage>(activities.Count);
        var sentToQueue = false;
        foreach (var sent in singleSends.Select(t => t.Result))
        {
            if (sent is null)
            {
                sentToQueue = true;
            }
            else
            {
                local.Add(sent);
            }
        }

        foreach (var members in packSends.Select(t => t.Result))
        {
            if (members is null)
            {
                sentToQueue = true;
            }
            else
            {
                local.AddRange(members);
            }
        }

        return (local, sentToQueue);
    }

    /// <summary>Sends one pack; its members when delivered locally (see <see cref="SendAsync"/>), else null.</summary>
    private async Task<List<ReceivedQueueMessage>?> SendPackAsync(
        QueueClient queue, List<(WorkflowMessage Message, QueueEnvelope Envelope)> members, bool deliverLocally, CancellationToken cancellationToken)
    {
        var lease = TimeSpan.FromTicks(Interlocked.Read(ref _leaseTicks));
        var local = deliverLocally && _options.DeliverLocally && lease > MinUsableLease;
        var first = members[0].Message;
        var envelope = new QueueEnvelope
        {
            MessageId = Guid.NewGuid().ToString("N"),
            InstanceId = first.InstanceId,
            ExecutionId = first.ExecutionId,
            SentAt = SendClock.Next(),
            Bounces = local ? -1 : 0,
            Pack = members.ConvertAll(m => m.Envelope),
        };
        var leaseEnd = DateTimeOffset.UtcNow + lease;
        var receipt = (await queue.SendMessageAsync(QueueEnvelopeSerializer.Serialize(envelope), local ? lease : TimeSpan.Zero, TimeSpan.FromSeconds(-1), cancellationToken)
            .ConfigureAwait(false)).Value;
        return local ? PackMembers(new QueueLease(queue, receipt.MessageId, receipt.PopReceipt, leaseEnd), envelope, 1) : null;
    }

    /// <summary>The members of a pack message, sharing its lease.</summary>
    private static List<ReceivedQueueMessage> PackMembers(QueueLease lease, QueueEnvelope packEnvelope, int effectiveDequeueCount)
    {
        var members = packEnvelope.Pack!;
        var pack = new MessagePack(lease, packEnvelope, members.Min(m => m.Event!.EventId), members.Max(m => m.Event!.EventId));
        return members.Select((member, i) => new ReceivedQueueMessage(lease, member, ToWorkflowMessage(member, member.Event!), effectiveDequeueCount, pack, i)).ToList();
    }

    /// <summary>The envelope of a message about to be sent, stamped with the send order.</summary>
    private static QueueEnvelope EnvelopeOf(WorkflowMessage message) => new()
    {
        MessageId = message.MessageId,
        InstanceId = message.InstanceId,
        ExecutionId = message.ExecutionId,
        VisibleAt = message.VisibleAt,
        SentAt = SendClock.Next(),
        Event = message.Event,
    };

    private static WorkflowMessage ToWorkflowMessage(QueueEnvelope envelope, HistoryEvent historyEvent) =>
        new(envelope.InstanceId, historyEvent)
        {
            MessageId = envelope.MessageId,
            ExecutionId = envelope.ExecutionId,
            VisibleAt = envelope.VisibleAt,
        };

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
                list.RemoveAll(m => m.Key == message.Key);
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
            WorkflowMessage? decoded = null;
            try
            {
                envelope = QueueEnvelopeSerializer.Deserialize(message.MessageText);
                if (envelope.Pack is { } members)
                {
                    if (members.Count == 0 || members.Any(m => m.Event is null))
                    {
                        throw new FormatException("The activity pack has no members, or a member without its event.");
                    }
                }
                else
                {
                    var historyEvent = envelope.Event ?? QueueEnvelopeSerializer.DeserializeEvent(
                        await _payloads.DownloadAsync(envelope.EventBlobName ?? throw new FormatException("The message has neither an event nor a blob reference."), cancellationToken)
                            .ConfigureAwait(false));
                    decoded = ToWorkflowMessage(envelope, historyEvent);
                }
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

            if (envelope.Pack is not null)
            {
                var deliveries = ReceivedQueueMessage.EffectiveCount(message.DequeueCount, envelope);
                if (deliveries > 1)
                {
                    followUps.Add(SplitPackAsync(queue, message, envelope, deliveries, cancellationToken));
                }
                else
                {
                    result.AddRange(PackMembers(new QueueLease(queue, message.MessageId, message.PopReceipt, leaseEnd), envelope, deliveries));
                }

                continue;
            }

            var received = new ReceivedQueueMessage(queue, message, envelope, decoded!, leaseEnd);
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

    /// <summary>
    /// A pack delivered a second time (its process died or its lease ended): its activities continue as messages of
    /// their own, each carrying the deliveries so far, so that poison is counted per activity from here on. Members
    /// whose outcome was persisted replay it when their own message is delivered.
    /// </summary>
    private async Task SplitPackAsync(QueueClient queue, QueueMessage message, QueueEnvelope pack, int deliveries, CancellationToken cancellationToken)
    {
        _logger.LogInformation(
            "Pack {MessageId} of instance {InstanceId} was delivered {Deliveries} times; its {Count} messages continue as single messages",
            message.MessageId, pack.InstanceId, deliveries, pack.Pack!.Count);
        await Task.WhenAll(pack.Pack.Select(member => SendAsync(queue, ToWorkflowMessage(member, member.Event!), cancellationToken,
            priorDeliveries: deliveries - 1 + member.PriorDeliveries))).ConfigureAwait(false);
        await DeleteQuietlyAsync(queue, message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
        WakePollerOf(queue);
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

        if (message.Pack is not null)
        {
            // The pack's content is its siblings' too: this member goes on alone, the bounce not counted.
            await MoveOutOfPackAsync(message, null, TimeSpan.Zero, cancellationToken, countDelivery: false).ConfigureAwait(false);
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

    /// <summary>
    /// A pack's lease is shared: members that each run shorter than half the lease never renew it, so handing out a
    /// member renews it once half of it has passed (otherwise the pack could come back while its last members run).
    /// False when the lease was lost.
    /// </summary>
    private async Task<bool> KeepPackLeasedAsync(ReceivedQueueMessage member, TimeSpan lockDuration)
    {
        if (member.LeaseExpiresAt - DateTimeOffset.UtcNow > lockDuration / 2)
        {
            return true;
        }

        try
        {
            await RenewLeaseAsync(member, lockDuration, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (WorkItemLockLostException)
        {
            return false;
        }
    }

    private async Task RenewLeaseAsync(ReceivedQueueMessage message, TimeSpan lockDuration, CancellationToken cancellationToken)
    {
        var lease = message.Lease;
        await lease.Updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (message.Pack is not null && lease.ExpiresAt - DateTimeOffset.UtcNow > lockDuration * 0.9)
            {
                // A sibling renewed the shared lease moments ago.
                return;
            }

            var receipt = await lease.Queue.UpdateMessageAsync(lease.QueueMessageId, lease.PopReceipt, visibilityTimeout: lockDuration, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            lease.PopReceipt = receipt.Value.PopReceipt;
            lease.ExpiresAt = DateTimeOffset.UtcNow + lockDuration;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            throw new WorkItemLockLostException($"The lease on message {message.Message.MessageId} of instance '{message.Message.InstanceId}' was lost.", ex);
        }
        finally
        {
            lease.Updates.Release();
        }
    }

    private async Task AbandonMessageAsync(ReceivedQueueMessage message, string? reason, TimeSpan retryDelay, CancellationToken cancellationToken)
    {
        if (message.Pack is not null)
        {
            await MoveOutOfPackAsync(message, reason, retryDelay, cancellationToken).ConfigureAwait(false);
            return;
        }

        // An outcome backed by its activity message: the activity message's content must stay the activity.
        var text = reason is null || message.BackedByActivityMessage
            ? null
            : QueueEnvelopeSerializer.Serialize(message.Envelope with { LastError = QueueEnvelopeSerializer.TrimError(reason) });
        await ReleaseLeaseAsync(message.Lease, text, retryDelay, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The content of a pack released before any member was tried: this delivery does not count (a local hand-off
    /// counts as one, see <see cref="SendAsync"/>), so that a stop and restart does not split it.
    /// </summary>
    private static string UntriedText(QueueEnvelope pack) => QueueEnvelopeSerializer.Serialize(pack with { Bounces = pack.Bounces + 1 });

    /// <summary>Makes a leased message visible after <paramref name="delay"/>, with new content when given. Ignores a lost lease.</summary>
    private static async Task ReleaseLeaseAsync(QueueLease lease, string? newText, TimeSpan delay, CancellationToken cancellationToken)
    {
        await lease.Updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (newText is null)
            {
                await lease.Queue.UpdateMessageAsync(lease.QueueMessageId, lease.PopReceipt, visibilityTimeout: delay, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await lease.Queue.UpdateMessageAsync(lease.QueueMessageId, lease.PopReceipt, newText, delay, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            // Lease already lost: the message is visible again anyway.
        }
        finally
        {
            lease.Updates.Release();
        }
    }

    /// <summary>
    /// Abandons one member of a pack without touching its siblings (which may be running): the activity, or the
    /// outcome whose step was abandoned, is sent again as a message of its own (visible after
    /// <paramref name="retryDelay"/>, carrying its deliveries so far), then the member is settled in the pack.
    /// A crash in between leaves both copies: the activity's result row and the engine's duplicate checks absorb that.
    /// </summary>
    private async Task MoveOutOfPackAsync(ReceivedQueueMessage member, string? reason, TimeSpan retryDelay, CancellationToken cancellationToken, bool countDelivery = true)
    {
        var deliveries = countDelivery ? member.EffectiveDequeueCount : member.EffectiveDequeueCount - 1;

        // An activity outcome goes to its instance; any other member to the queue its pack came from.
        var queue = member.BackedByActivityMessage ? Clients.ControlQueueFor(member.Message.InstanceId) : member.Queue;
        await SendAsync(queue, member.Message, cancellationToken, delay: retryDelay, priorDeliveries: deliveries,
            lastError: member.BackedByActivityMessage ? null : QueueEnvelopeSerializer.TrimError(reason)).ConfigureAwait(false);
        WakePollerOf(queue);
        await DeleteMessageAsync(member, cancellationToken).ConfigureAwait(false);
    }

    private void WakePollerOf(QueueClient queue)
    {
        if (ReferenceEquals(queue, Clients.WorkItems))
        {
            _activityPoller.Wake(queue);
        }
        else
        {
            _controlPoller.Wake(queue);
        }
    }

    /// <summary>
    /// Consumes a message: deletes it, or for a pack member settles it and deletes the pack message once every member is settled.
    /// </summary>
    /// <returns>False when the lease was lost (the message was redelivered, or already deleted).</returns>
    private async Task<bool> DeleteMessageAsync(ReceivedQueueMessage message, CancellationToken cancellationToken)
    {
        if (message.Pack is { } pack && !pack.Settle(message.PackIndex))
        {
            return true;
        }

        var lease = message.Lease;
        _settledMessageIds.Add(lease.QueueMessageId);
        await lease.Updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await lease.Queue.DeleteMessageAsync(lease.QueueMessageId, lease.PopReceipt, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            return false;
        }
        finally
        {
            lease.Updates.Release();
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

    private static string ResultRowKey(WorkflowMessage activity) => ResultRowKey(activity.ExecutionId, activity.Event.EventId);

    private static string ResultRowKey(string? executionId, int taskId) =>
        "result-" + TableKeys.Encode(executionId ?? string.Empty) + "-" + taskId.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);

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
        _persistedResults.Add(row.PartitionKey + "/" + row.RowKey);
    }

    /// <summary>
    /// When this activity's outcome was persisted already (a redelivery after a crash, or a duplicate schedule from a
    /// re-run step), sends the same response again (same message id: the engine discards the duplicate) and consumes
    /// the message without running the activity.
    /// </summary>
    private async Task<bool> TryReplayPersistedResultAsync(ReceivedQueueMessage received, CancellationToken cancellationToken)
    {
        var row = await FindPersistedResultAsync(received, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return false;
        }

        var json = await _payloads.ReadAsync(row, "Response", cancellationToken).ConfigureAwait(false);
        if (json is null)
        {
            return false;
        }

        var response = new WorkflowMessage(received.Message.InstanceId, QueueEnvelopeSerializer.DeserializeEvent(json))
        {
            MessageId = row.GetString("ResponseMessageId") ?? Guid.NewGuid().ToString("N"),
            ExecutionId = row.GetString("ResponseExecutionId"),
        };
        _logger.LogInformation(
            "Activity {Activity} #{TaskId} of instance {InstanceId} already completed; replaying its persisted result instead of running it again",
            received.Message.Event.Name, received.Message.Event.EventId, received.Message.InstanceId);
        await SendResponseAsync(response, cancellationToken).ConfigureAwait(false);
        await DeleteMessageAsync(received, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The activity's result row, or null: one point read, or for a pack member the pack's one range query while it is fresh.</summary>
    private async Task<TableEntity?> FindPersistedResultAsync(ReceivedQueueMessage received, CancellationToken cancellationToken)
    {
        var partitionKey = TableKeys.Encode(received.Message.InstanceId);
        var rowKey = ResultRowKey(received.Message);
        if (received.Pack is { } pack)
        {
            var results = await pack.GetResultsAsync(() => ReadPackResultsAsync(received.Message, pack, cancellationToken)).ConfigureAwait(false);
            if (results.Rows.TryGetValue(rowKey, out var found))
            {
                return found;
            }

            if (DateTimeOffset.UtcNow - results.ReadAt < PackResultsFreshFor && !_persistedResults.Contains(partitionKey + "/" + rowKey))
            {
                return null;
            }
        }

        var row = await Clients.Instances.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return row.HasValue ? row.Value : null;
    }

    private async Task<MessagePack.PersistedResults> ReadPackResultsAsync(WorkflowMessage member, MessagePack pack, CancellationToken cancellationToken)
    {
        var readAt = DateTimeOffset.UtcNow;
        var partitionKey = TableKeys.Encode(member.InstanceId);
        var first = ResultRowKey(member.ExecutionId, pack.FirstTaskId);
        var last = ResultRowKey(member.ExecutionId, pack.LastTaskId);
        var rows = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        await foreach (var row in Clients.Instances.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {first} and RowKey le {last}"), cancellationToken: cancellationToken)
                           .ConfigureAwait(false))
        {
            rows[row.RowKey] = row;
        }

        return new MessagePack.PersistedResults(rows, readAt);
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

    private sealed record PendingSend(WorkflowMessage Message, QueueEnvelope Envelope, string Text);

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
