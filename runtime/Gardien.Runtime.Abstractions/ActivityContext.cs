namespace Gardien.Runtime;

/// <summary>What an activity sees; mirrors Durable Task's <c>TaskActivityContext</c> plus an idempotency key.</summary>
public abstract class ActivityContext
{
    /// <summary>The activity's registered name.</summary>
    public abstract string Name { get; }

    /// <summary>The workflow instance that scheduled the activity.</summary>
    public abstract string InstanceId { get; }

    /// <summary>Task id of the call in the workflow's history.</summary>
    public abstract int TaskId { get; }

    /// <summary>
    /// Stable across redeliveries of the same call (activities run at least once): use it to deduplicate side effects.
    /// Built from the instance id, the execution id (task ids restart after ContinueAsNew) and the task id.
    /// A retry of a failed call is a new task and gets a new key.
    /// </summary>
    public abstract string IdempotencyKey { get; }

    /// <summary>Signalled when the host stops; the activity is then redelivered later, never reported as failed.</summary>
    public abstract CancellationToken CancellationToken { get; }
}
