using Azure.Data.Tables;
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
/// This class is the front: the work is done by <see cref="InstanceSessions"/> (control messages buffered and locked by
/// instance), <see cref="ActivityQueue"/> (activity messages), <see cref="MessageSender"/> (sends, packs, local
/// delivery), <see cref="QueueLeases"/> (decoding, renewing, abandoning, deleting), <see cref="ActivityResultRows"/>
/// (persisted activity outcomes) and <see cref="TrackingStore"/> (the tables, through the <see cref="InstanceCache"/>).
/// See docs/engine-azure-storage.md for the consistency design.
/// </summary>
public sealed class AzureStorageWorkflowStore : IWorkflowStore, IWorkflowStoreChangeNotifier, IAsyncDisposable
{
    private readonly AzureStorageStoreOptions _options;
    private readonly TimeProvider _time;

    // Leased to this store object but in none of the buffers yet (or no longer): see HandOverCounter and HasReadyWorkAsync.
    private readonly HandOverCounter _handOvers = new();
    private readonly QueuePollers _pollers;
    private readonly MessageSender _sender;
    private readonly QueueLeases _leases;
    private readonly InstanceSessions _sessions;
    private readonly ActivityResultRows _results;
    private readonly ActivityQueue _activities;
    private readonly TrackingStore _tracking;
    private readonly InstanceStatusSignals _statusSignals;

    public AzureStorageWorkflowStore(
        AzureStorageStoreOptions options,
        TimeProvider? timeProvider = null,
        ILogger<AzureStorageWorkflowStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Clients = AzureStorageClients.Create(options);
        _time = timeProvider ?? TimeProvider.System;
        var log = (ILogger?)logger ?? NullLogger.Instance;
        var payloads = new LargePayloadStore(Clients.LargeMessages, options.LargePayloadThresholdBytes);
        _pollers = new QueuePollers(Clients, options, _handOvers);
        _sender = new MessageSender(Clients, options, payloads, _time, _pollers);
        _leases = new QueueLeases(Clients, _sender, _pollers, payloads, _time, log);
        _sessions = new InstanceSessions(Clients, options, _sender, _leases, _pollers, _handOvers);
        _results = new ActivityResultRows(Clients.Instances, payloads);
        _activities = new ActivityQueue(options, _time, _leases, _results, _sessions, _pollers, _handOvers, log);
        _tracking = new TrackingStore(Clients, payloads, log);
        _statusSignals = new InstanceStatusSignals(options.MaxPollingInterval);
    }

    /// <summary>The clients of the task hub (tests and tools inspect the tables and queues through them).</summary>
    public AzureStorageClients Clients { get; }

    public AzureStorageNames Names => Clients.Names;

    /// <summary>Unlimited: delays beyond the queue's 7-day cap are re-hidden by the store itself when delivered early.</summary>
    public TimeSpan? MaxMessageDelay => null;

    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => Clients.CreateIfNotExistsAsync(cancellationToken);

    /// <summary>Deletes every table, queue and container of the hub.</summary>
    public Task DeleteTaskHubAsync(CancellationToken cancellationToken = default) => Clients.DeleteIfExistsAsync(cancellationToken);

    public async Task<bool> CreateInstanceAsync(
        WorkflowInstanceState instance,
        WorkflowMessage executionStarted,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(executionStarted);

        // Message first: a crash before the row leaves a stray message (discarded), never a row without its start.
        // Until the row exists, the locker holds such a message back instead of handing out an instance without a row.
        await _sender.SendWorkflowMessageAsync(executionStarted, wake: false, cancellationToken).ConfigureAwait(false);
        var created = await _tracking.TryCreateRowsAsync(instance, cancellationToken).ConfigureAwait(false);
        _pollers.Control.Wake(Clients.ControlQueueFor(instance.InstanceId));
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
        return _sender.SendGroupedAsync(message, cancellationToken);
    }

    public async Task<WorkflowWorkItem?> LockNextWorkflowWorkItemAsync(
        TimeSpan lockDuration,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken)
    {
        _sender.LearnLease(lockDuration);
        var deadline = DateTimeOffset.UtcNow + receiveTimeout;
        while (await _sessions.LockNextAsync(lockDuration, deadline, cancellationToken).ConfigureAwait(false) is { } taken)
        {
            WorkflowWorkItem? item;
            try
            {
                item = await TryBuildWorkItemAsync(taken.InstanceId, taken.Messages, lockDuration, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Begun by the sessions' take; from here on the engine counts the work item as its own.
                _handOvers.End();
            }

            if (item is not null)
            {
                return item;
            }
        }

        return null;
    }

    public async Task RenewWorkflowWorkItemAsync(
        WorkflowWorkItem workItem,
        TimeSpan lockDuration,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        var state = StateOf(workItem);
        await Task.WhenAll(state.Messages.Select(m => _leases.RenewAsync(m, lockDuration, cancellationToken))).ConfigureAwait(false);
        workItem.LockedUntil = _time.GetUtcNow() + lockDuration;
    }

    public async Task CompleteWorkflowWorkItemAsync(
        WorkflowWorkItem workItem,
        WorkflowStepResult result,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        ArgumentNullException.ThrowIfNull(result);
        var state = StateOf(workItem);
        try
        {
            // 1. Outbound messages first (see STORE-CONTRACT.md, "send before commit").
            var activitySend = _sender.SendActivitiesAsync(result.ActivityMessages, cancellationToken);
            var sends = new List<Task> { activitySend };
            sends.AddRange(
                result.WorkflowMessages.Select(m => _sender.SendAsync(Clients.ControlQueueFor(m.InstanceId), m, cancellationToken)));
            await Task.WhenAll(sends).ConfigureAwait(false);
            var (localActivities, sentToQueue) = await activitySend.ConfigureAwait(false);
            if (result.ActivityMessages.Count > 0)
            {
                _activities.Deliver(localActivities, sentToQueue);
            }

            if (result.NewInstances.Count > 0)
            {
                await Task.WhenAll(result.NewInstances.Select(i => _tracking.TryCreateRowsAsync(i, cancellationToken)))
                    .ConfigureAwait(false);
            }

            // 2. History and instance state, atomically and conditionally.
            var after = new List<Task>();
            if (result.State is not null)
            {
                TableEntity committed;
                try
                {
                    committed = await _tracking.CommitAsync(workItem, state.Partition, state.Instance, result, cancellationToken)
                        .ConfigureAwait(false);
                }
                catch (WorkItemLockLostException)
                {
                    // Another store object (another process) committed this instance since it was read: both held
                    // messages of it. Hand ours back at once, not counted as a failed delivery, so that the step is
                    // redone on the fresh state instead of waiting for the leases to expire.
                    await Task.WhenAll(state.Messages.Select(m => _leases.BounceAsync(m, CancellationToken.None))).ConfigureAwait(false);
                    _pollers.Control.Wake(Clients.ControlQueueFor(workItem.InstanceId));
                    throw;
                }

                after.Add(_tracking.WriteQueryCopyAsync(state.Partition?.Sentinel, committed));
                if (state.Instance?.Status != result.State.Status)
                {
                    _statusSignals.Signal(workItem.InstanceId);
                }
            }

            // 3. Consume exactly the work item's messages (alongside the query-row copy).
            after.AddRange(state.Messages.Select(m => _leases.DeleteAsync(m, cancellationToken)));
            await Task.WhenAll(after).ConfigureAwait(false);
        }
        finally
        {
            _sessions.Release(workItem.InstanceId);
        }

        foreach (var queue in result.WorkflowMessages.Select(m => Clients.ControlQueueFor(m.InstanceId)).Distinct())
        {
            _pollers.Control.Wake(queue);
        }
    }

    public async Task AbandonWorkflowWorkItemAsync(
        WorkflowWorkItem workItem,
        string? reason,
        TimeSpan retryDelay,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        if (workItem.StoreState is not WorkItemState state)
        {
            return;
        }

        _tracking.Forget(workItem.InstanceId);
        try
        {
            await Task.WhenAll(state.Messages.Select(m => _leases.AbandonAsync(m, reason, retryDelay, cancellationToken)))
                .ConfigureAwait(false);
        }
        finally
        {
            _sessions.Release(workItem.InstanceId);
        }
    }

    public Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(
        TimeSpan lockDuration,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken)
    {
        _sender.LearnLease(lockDuration);
        return _activities.LockNextAsync(lockDuration, receiveTimeout, cancellationToken);
    }

    public async Task RenewActivityWorkItemAsync(
        ActivityWorkItem workItem,
        TimeSpan lockDuration,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        await _leases.RenewAsync(ActivityStateOf(workItem), lockDuration, cancellationToken).ConfigureAwait(false);
        workItem.LockedUntil = _time.GetUtcNow() + lockDuration;
    }

    public async Task CompleteActivityWorkItemAsync(
        ActivityWorkItem workItem,
        WorkflowMessage response,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        ArgumentNullException.ThrowIfNull(response);
        var received = ActivityStateOf(workItem);
        if (_options.DeduplicateActivityExecutions)
        {
            // Persist the outcome before anything else: from here on a redelivery replays it instead of re-running the activity.
            await _results.PersistAsync(received.Message, response, cancellationToken).ConfigureAwait(false);
            if (_options.DeliverLocally && received.LeaseExpiresAt - DateTimeOffset.UtcNow > QueueLease.MinUsable)
            {
                // No response message: the outcome goes to this process's workflow locker in memory, and the activity
                // message, still leased, is its crash backup. The step that commits the outcome to history deletes
                // the activity message; if this process dies first, the activity message comes back when its lease
                // ends and its redelivery replays the persisted outcome (see ActivityQueue) without running the
                // activity. Saves sending and deleting a response message per activity.
                _sessions.Deliver(received.WithOutcome(_sender.EnvelopeOf(response), response));
                return;
            }
        }

        await _sessions.SendResponseAsync(response, cancellationToken).ConfigureAwait(false);
        if (!await _leases.DeleteAsync(received, cancellationToken).ConfigureAwait(false))
        {
            throw new WorkItemLockLostException(
                $"The lease on activity '{workItem.Message.Event.Name}' of instance '{workItem.Message.InstanceId}' was lost " +
                "(it expired and the message was redelivered).");
        }
    }

    public async Task AbandonActivityWorkItemAsync(
        ActivityWorkItem workItem,
        string? reason,
        TimeSpan retryDelay,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        if (workItem.StoreState is ReceivedQueueMessage received)
        {
            await _leases.AbandonAsync(received, reason, retryDelay, cancellationToken).ConfigureAwait(false);
            _pollers.Activities.Wake();
        }
    }

    public Task<WorkflowInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        return _tracking.GetInstanceAsync(instanceId, cancellationToken);
    }

    public Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        return _tracking.GetHistoryAsync(instanceId, cancellationToken);
    }

    public Task<WorkflowInstancePage> QueryInstancesAsync(WorkflowQuery filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(filter.PageSize, 1);
        return _tracking.QueryInstancesAsync(filter, cancellationToken);
    }

    /// <summary>Pending messages are left to the queue: the engine discards messages to instances that do not exist.</summary>
    public Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        return _tracking.PurgeInstanceAsync(instanceId, cancellationToken);
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
        // On a fake clock a not-yet-due message cycles through visibility (see MessageSender), so check its due time.
        var peeks = await Task.WhenAll(
            Clients.ControlQueues.Append(Clients.WorkItems).Select(q => q.PeekMessagesAsync(32, cancellationToken)))
            .ConfigureAwait(false);
        var now = _time.GetUtcNow();
        if (peeks.SelectMany(p => p.Value).Any(m => IsDue(m.MessageText, now)))
        {
            return true;
        }

        return HoldsWorkInMemory();
    }

    /// <summary>
    /// Completes when <paramref name="instanceId"/>'s status changes through a commit of this store object, or after
    /// the maximum polling interval so that waiters also see commits made by other processes. Waiters only ever wait
    /// for a status, and a fan-in's many steps change none: waking them at every commit would cost a read each.
    /// </summary>
    public Task WaitForInstanceChangeAsync(string instanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        return _statusSignals.WaitAsync(instanceId, cancellationToken);
    }

    /// <summary>Releases what <see cref="ReleaseUnclaimedMessagesAsync"/> releases and writes waiting query copies.</summary>
    public async ValueTask DisposeAsync() => await ReleaseUnclaimedMessagesAsync().ConfigureAwait(false);

    /// <summary>
    /// Hands back messages received but not yet given to a worker (visible again at once, best effort) so that
    /// another process does not wait for their leases to expire. Locked work items are left to their owners.
    /// </summary>
    public async Task ReleaseUnclaimedMessagesAsync(CancellationToken cancellationToken = default)
    {
        var unclaimed = _sessions.TakeUnclaimed();
        unclaimed.AddRange(_activities.TakeAll());
        await _leases.ReleaseUnclaimedAsync(unclaimed, cancellationToken).ConfigureAwait(false);

        // Query copies waiting to be coalesced: a stopping process writes them now rather than leaving them stale.
        try
        {
            await _tracking.FlushQueryCopiesAsync().WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Written in the background still; the sentinel is authoritative meanwhile.
        }
    }

    /// <summary>The in-memory stages of <see cref="HasReadyWorkAsync"/>, in hand-over order (see there).</summary>
    private bool HoldsWorkInMemory() =>
        _handOvers.Any
            || _sessions.HasBuffered
            || !_activities.IsEmpty
            || _handOvers.Any
            || _leases.AnyBouncedDue()
            || _sessions.HasHeldBack();

    private static bool IsDue(string messageText, DateTimeOffset now)
    {
        try
        {
            return QueueEnvelopeSerializer.Deserialize(messageText).VisibleAt is not { } visibleAt || visibleAt <= now;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException
            or FormatException
            or InvalidOperationException
            or NotSupportedException)
        {
            // Unreadable: the next receiver deletes it, which is work.
            return true;
        }
    }

    private async Task<WorkflowWorkItem?> TryBuildWorkItemAsync(
        string instanceId, List<ReceivedQueueMessage> messages, TimeSpan lockDuration, CancellationToken cancellationToken)
    {
        try
        {
            var snapshot = await _tracking.ReadForStepAsync(instanceId, cancellationToken).ConfigureAwait(false);
            if (snapshot.Partition is null
                && messages.Any(
                    m => m.Message.Event.EventType == HistoryEventType.ExecutionStarted
                        && m.EffectiveDequeueCount < _options.MaxDequeueCount))
            {
                // The creator sends the start message before inserting the row: give it a moment rather than
                // letting the engine discard a start whose row is about to appear.
                var heldBack = TimeSpan.FromMilliseconds(500);
                _sessions.HoldBack(messages, DateTimeOffset.UtcNow + heldBack + QueueLease.MinUsable);
                await Task.WhenAll(messages.Select(m => _leases.AbandonAsync(m, null, heldBack, CancellationToken.None)))
                    .ConfigureAwait(false);
                _sessions.Release(instanceId);
                return null;
            }

            var envelopes = messages
                .Select(m => new WorkflowMessageEnvelope(m.Message, m.EffectiveDequeueCount) { LastError = m.Envelope.LastError })
                .ToList();
            return new WorkflowWorkItem(
                instanceId, snapshot.Instance, snapshot.History, envelopes, Guid.NewGuid().ToString("N"), _time.GetUtcNow() + lockDuration)
            {
                StoreState = new WorkItemState(messages, snapshot.Partition, snapshot.Instance),
            };
        }
        catch (OperationCanceledException)
        {
            // Stopping: the messages keep their leases; back to the buffer, from which the stopping engine releases them
            // (rather than leaving them hidden until their leases expire).
            _sessions.PutBack(instanceId, messages);
            _sessions.Release(instanceId);
            throw;
        }
        catch
        {
            // The messages keep their leases and come back when those expire (counted as a failed delivery).
            _sessions.Release(instanceId);
            throw;
        }
    }

    private static WorkItemState StateOf(WorkflowWorkItem workItem) =>
        workItem.StoreState as WorkItemState
            ?? throw new ArgumentException("The work item was not issued by this Azure Storage store.", nameof(workItem));

    private static ReceivedQueueMessage ActivityStateOf(ActivityWorkItem workItem) =>
        workItem.StoreState as ReceivedQueueMessage
            ?? throw new ArgumentException("The work item was not issued by this Azure Storage store.", nameof(workItem));

    /// <summary>What a locked workflow work item needs at completion: the leases it holds and what it read.</summary>
    private sealed record WorkItemState(List<ReceivedQueueMessage> Messages, HistoryPartition? Partition, WorkflowInstanceState? Instance);
}
