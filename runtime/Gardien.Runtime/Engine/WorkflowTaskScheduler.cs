namespace Gardien.Runtime.Engine;

/// <summary>
/// Runs workflow code on the engine's thread, one continuation at a time, only while the executor drains it: every
/// <c>await</c> in workflow code comes back here (it captures <see cref="TaskScheduler.Current"/>), so replay is
/// single-threaded and ordered by history, never by thread timing.
/// </summary>
internal sealed class WorkflowTaskScheduler : TaskScheduler
{
    private readonly Queue<Task> _ready = new();

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Runs queued continuations until workflow code is blocked on something only history can complete.</summary>
    public void Drain()
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            while (_ready.TryDequeue(out var task))
            {
                TryExecuteTask(task);
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    protected override void QueueTask(Task task) => _ready.Enqueue(task);

    // Never inline: continuations must run in queue order inside Drain.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => [.. _ready];
}
