namespace Gardien.Runtime.Engine;

/// <summary>Tuning and collaborators of a <see cref="WorkflowEngine"/>.</summary>
public sealed record WorkflowEngineOptions
{
    /// <summary>Drives durable timers, leases and history timestamps; a fake one makes a 90-day wait instant in tests.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public IWorkflowSerializer Serializer { get; init; } = JsonWorkflowSerializer.Default;

    /// <summary>Workflow steps processed at once (different instances; one instance is always processed serially).</summary>
    public int MaxConcurrentWorkflowSteps { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>
    /// Activities whose code runs at once in this engine. Reporting a finished activity's outcome to the store has a
    /// bound of its own (four times this), so that a slow outcome write does not keep a worker idle.
    /// </summary>
    public int MaxConcurrentActivities { get; init; } = Math.Max(4, Environment.ProcessorCount * 4);

    /// <summary>
    /// A message dequeued more often than this without completing is poison: its instance (or activity call) fails with the reason.
    /// </summary>
    public int MaxDequeueCount { get; init; } = 5;

    /// <summary>Lease on a locked workflow step or activity; activities renew it at half-time while they run.</summary>
    public TimeSpan LockDuration { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one store receive call may wait for work before the loop checks for shutdown.</summary>
    public TimeSpan ReceiveTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Delay before an abandoned work item is retried, by its dequeue count.</summary>
    public Func<int, TimeSpan> AbandonDelay { get; init; } = DefaultAbandonDelay;

    /// <summary>Backoff after a store call failed in a dispatcher loop.</summary>
    public TimeSpan StoreErrorBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the queue-depth gauge is refreshed from the store.</summary>
    public TimeSpan QueueDepthRefreshInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often <see cref="WorkflowEngine.WaitForIdleAsync"/> looks at the store (real time, not the engine's clock).</summary>
    public TimeSpan IdlePollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Live workflow executions kept between steps (like Durable Task's extended sessions): the next step of a cached
    /// instance resumes the suspended code instead of replaying its whole history. Used only when nothing else changed
    /// the instance since (same execution, same history length); 0 turns it off. Non-determinism is detected on replay,
    /// which still happens after a restart, a cache miss, or a step committed by another engine.
    /// </summary>
    public int MaxCachedExecutions { get; init; } = 1000;

    /// <summary>
    /// Services activities (and workflows) are created from; a new scope per activity when it is an <c>IServiceScopeFactory</c> provider.
    /// </summary>
    public IServiceProvider? Services { get; init; }

    private static TimeSpan DefaultAbandonDelay(int dequeueCount) =>
        TimeSpan.FromMilliseconds(Math.Min(30_000, 100 * Math.Pow(2, Math.Max(0, dequeueCount - 1))));
}
