using System.Globalization;
using Gardien.Runtime;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using DurableRetryPolicy = Microsoft.DurableTask.RetryPolicy;
using RetryPolicy = Gardien.Runtime.RetryPolicy;
using TaskFailureDetails = Gardien.Runtime.TaskFailureDetails;

namespace Gardien.Functions.Durable;

/// <summary>
/// The workflow port over a Durable Task orchestration: what Gardien workflow code sees when it runs as a Durable
/// Functions orchestrator. Every member maps to its <see cref="TaskOrchestrationContext"/> counterpart; the differences
/// are listed in docs/durable-functions.md.
/// </summary>
public sealed class DurableWorkflowContext(
    TaskOrchestrationContext inner,
    object? input,
    string version,
    IWorkflowSerializer serializer) : WorkflowContext
{
    // Activity calls are numbered per execution (the replay repeats them in the same order), so their keys are stable.
    private int _activitySequence;
    private DateTime? _executionStartedAt;

    public override string InstanceId => inner.InstanceId;

    public override string Name => inner.Name.Name;

    public override string Version => version;

    public override DateTime CurrentUtcDateTime => inner.CurrentUtcDateTime;

    public override bool IsReplaying => inner.IsReplaying;

    public override T? GetInput<T>()
        where T : default => input is T typed ? typed : serializer.Deserialize<T>(serializer.Serialize(input));

    public override Guid NewGuid() => inner.NewGuid();

    public override ILogger CreateReplaySafeLogger(string categoryName) => inner.CreateReplaySafeLogger(categoryName);

    public override void SetCustomStatus(object? customStatus) => inner.SetCustomStatus(customStatus);

    public override async Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, RetryPolicy? retryPolicy = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _executionStartedAt ??= inner.CurrentUtcDateTime;
        var sequence = ++_activitySequence;
        var key = string.Create(CultureInfo.InvariantCulture, $"{InstanceId}:{_executionStartedAt.Value.Ticks}:{sequence}");
        var invocation = new ActivityInvocation(InstanceId, key, sequence, serializer.Serialize(input));
        try
        {
            return await inner.CallActivityAsync<TResult>(
                name, invocation, retryPolicy is null ? null : new TaskOptions(new TaskRetryOptions(Map(retryPolicy))));
        }
        catch (TaskFailedException ex)
        {
            throw new WorkflowTaskFailedException(ex.TaskName, ex.TaskId, Map(ex.FailureDetails));
        }
    }

    public override async Task<TResult> CallSubWorkflowAsync<TResult>(
        string name,
        object? input = null,
        string? instanceId = null,
        RetryPolicy? retryPolicy = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);

        // Retries are ours, not Durable Task's: each attempt is a new child instance, as on the embedded engine
        // (Durable Task would reuse the id, and a failed instance of that id would be restarted in place).
        var firstAttemptAt = CurrentUtcDateTime;
        for (var attempt = 1; ; attempt++)
        {
            var childId = instanceId is null
                ? $"{InstanceId}:{NewGuid():N}"
                : attempt == 1 ? instanceId : string.Create(CultureInfo.InvariantCulture, $"{instanceId}-attempt{attempt}");
            try
            {
                return await inner.CallSubOrchestratorAsync<TResult>(name, input, new SubOrchestrationOptions(new TaskOptions(), childId));
            }
            catch (TaskFailedException ex)
            {
                var failure = new WorkflowTaskFailedException(ex.TaskName, ex.TaskId, Map(ex.FailureDetails));
                if (retryPolicy is null
                    || attempt >= retryPolicy.MaxNumberOfAttempts
                    || !(retryPolicy.Handle?.Invoke(failure.FailureDetails) ?? true))
                {
                    throw failure;
                }

                var delay = retryPolicy.DelayBeforeAttempt(attempt + 1);
                if (retryPolicy.RetryTimeout != Timeout.InfiniteTimeSpan
                    && CurrentUtcDateTime + delay > firstAttemptAt + retryPolicy.RetryTimeout)
                {
                    throw failure;
                }

                await inner.CreateTimer(CurrentUtcDateTime + delay, CancellationToken.None);
            }
        }
    }

    public override Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken) =>
        inner.CreateTimer(fireAtUtc, cancellationToken);

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) =>
        inner.WaitForExternalEvent<T>(eventName, cancellationToken);

    public override async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout)
    {
        try
        {
            return await inner.WaitForExternalEvent<T>(eventName, timeout);
        }
        catch (TaskCanceledException)
        {
            throw new TimeoutException($"Workflow instance '{InstanceId}' did not receive event '{eventName}' within {timeout}.");
        }
    }

    public override void SendEvent(string instanceId, string eventName, object? eventData = null) =>
        inner.SendEvent(instanceId, eventName, eventData!);

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        inner.ContinueAsNew(newInput, preserveUnprocessedEvents);

    /// <summary>
    /// Durable Task's retry policy with the same schedule; <see cref="RetryPolicy.Handle"/> sees the port's failure details.
    /// </summary>
    public static DurableRetryPolicy Map(RetryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new DurableRetryPolicy(
            policy.MaxNumberOfAttempts, policy.FirstRetryInterval, policy.BackoffCoefficient, policy.MaxRetryInterval, policy.RetryTimeout)
        {
            HandleFailure = policy.Handle is { } handle ? failure => handle(Map(failure)) : _ => true,
        };
    }

    /// <summary>
    /// The port's failure details (same error type names, so <see cref="TaskFailureDetails.IsCausedBy{TException}"/> works).
    /// </summary>
    public static TaskFailureDetails Map(Microsoft.DurableTask.TaskFailureDetails failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return new TaskFailureDetails(
            failure.ErrorType, failure.ErrorMessage, failure.StackTrace, failure.InnerFailure is { } inner ? Map(inner) : null);
    }
}
