using Microsoft.Extensions.Logging;

namespace Gardien.Runtime;

/// <summary>
/// What workflow code sees; mirrors Durable Task's <c>TaskOrchestrationContext</c> so that the same workflow runs on
/// the embedded engine and, through a thin adapter, on Durable Functions.
/// <para>
/// Workflow code is replayed: it must be deterministic. Read time with <see cref="CurrentUtcDateTime"/>, make ids
/// with <see cref="NewGuid"/>, log through <see cref="CreateReplaySafeLogger(string)"/>, do I/O only in activities,
/// and never use <c>ConfigureAwait(false)</c>, <c>Task.Run</c>, <c>Task.Delay</c> or threads.
/// </para>
/// </summary>
public abstract class WorkflowContext
{
    /// <summary>The id of the running instance.</summary>
    public abstract string InstanceId { get; }

    /// <summary>Registered name of the running workflow.</summary>
    public abstract string Name { get; }

    /// <summary>Version the instance started with (and keeps until it completes or continues as new).</summary>
    public abstract string Version { get; }

    /// <summary>Replay-safe current time: the time the current step started, identical on every replay.</summary>
    public abstract DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the code re-executes steps already recorded in history.</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>The instance's input read as a <typeparamref name="T"/>.</summary>
    public abstract T? GetInput<T>();

    /// <summary>
    /// Deterministic GUID (name-based UUID v5 over instance id, current time and a per-execution counter, as Durable
    /// Task does): the same on every replay, unique across instances.
    /// </summary>
    public abstract Guid NewGuid();

    /// <summary>A logger that writes nothing while <see cref="IsReplaying"/>.</summary>
    public abstract ILogger CreateReplaySafeLogger(string categoryName);

    /// <summary>A replay-safe logger whose category is <typeparamref name="T"/>.</summary>
    public ILogger CreateReplaySafeLogger<T>() => CreateReplaySafeLogger(typeof(T).FullName ?? typeof(T).Name);

    /// <summary>Sets the status visible through the client (serialised with the workflow serializer).</summary>
    public abstract void SetCustomStatus(object? customStatus);

    /// <summary>
    /// Schedules an activity and waits for its result; throws <see cref="WorkflowTaskFailedException"/> when it fails (after retries).
    /// </summary>
    public abstract Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, RetryPolicy? retryPolicy = null);

    /// <summary>Schedules an activity and waits for it, ignoring its result.</summary>
    public virtual Task CallActivityAsync(string name, object? input = null, RetryPolicy? retryPolicy = null) =>
        CallActivityAsync<object?>(name, input, retryPolicy);

    /// <summary>
    /// Starts a sub-workflow and waits for its output; throws <see cref="WorkflowTaskFailedException"/> when it fails.
    /// <paramref name="instanceId"/> defaults to a deterministic id derived from this instance. With a retry policy each
    /// attempt is a new child instance (explicit ids get an <c>-attempt{n}</c> suffix from the second attempt).
    /// </summary>
    public abstract Task<TResult> CallSubWorkflowAsync<TResult>(
        string name,
        object? input = null,
        string? instanceId = null,
        RetryPolicy? retryPolicy = null);

    /// <summary>Starts a sub-workflow and waits for it, ignoring its output.</summary>
    public virtual Task CallSubWorkflowAsync(
        string name,
        object? input = null,
        string? instanceId = null,
        RetryPolicy? retryPolicy = null) =>
        CallSubWorkflowAsync<object?>(name, input, instanceId, retryPolicy);

    /// <summary>A durable timer: survives restarts, any length. Cancelling it makes the returned task cancelled.</summary>
    public abstract Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken);

    /// <summary>A durable timer that fires <paramref name="delay"/> after the current step's time.</summary>
    public Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) =>
        CreateTimer(CurrentUtcDateTime.Add(delay), cancellationToken);

    /// <summary>
    /// Waits for an event raised on this instance. Events raised before the wait are buffered and delivered in order
    /// (one event per wait).
    /// </summary>
    public abstract Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Like <see cref="WaitForExternalEvent{T}(string, CancellationToken)"/> but throws <see cref="TimeoutException"/> after
    /// <paramref name="timeout"/> (a durable timer).
    /// </summary>
    public virtual async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource();
        var timer = CreateTimer(CurrentUtcDateTime.Add(timeout), cancel.Token);
        var received = WaitForExternalEvent<T>(eventName, cancel.Token);
        var winner = await Task.WhenAny(received, timer);
        // Synchronous on purpose: the losing wait must be cancelled on the workflow thread, before the code continues.
#pragma warning disable CA1849
        cancel.Cancel();
#pragma warning restore CA1849
        if (winner == received)
        {
            return await received;
        }

        throw new TimeoutException($"Workflow instance '{InstanceId}' did not receive event '{eventName}' within {timeout}.");
    }

    /// <summary>Raises an event on another instance (fire and forget), recorded as EventSent.</summary>
    public abstract void SendEvent(string instanceId, string eventName, object? eventData = null);

    /// <summary>
    /// Restarts this instance with <paramref name="newInput"/> and an empty history once the workflow method returns.
    /// Events received but not yet consumed are carried into the new execution when <paramref name="preserveUnprocessedEvents"/>.
    /// </summary>
    public abstract void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);
}
