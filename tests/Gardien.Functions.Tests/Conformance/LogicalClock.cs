using System.Collections.Concurrent;
using Gardien.Runtime;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;

namespace Gardien.Functions.Tests.Conformance;

/// <summary>
/// A test clock for Durable Task, which has none: logical time is a step function of real time that only the test
/// moves (<see cref="AdvanceTo"/>), so months of approval reminders and retention notices pass at once, and a replayed
/// step sees exactly the time its first execution saw (a step's real timestamp maps to the checkpoint before it).
/// Durable timers become waits on <c>logical-timer</c> events that <see cref="AdvanceTo"/> raises when their time comes.
/// </summary>
public sealed class LogicalClock : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<(DateTime Real, DateTime Logical)> _checkpoints;
    private readonly ConcurrentDictionary<(string InstanceId, string EventName), DateTime> _pending = new();
    private long _lastProgressTicks = DateTime.UtcNow.Ticks;

    public LogicalClock(DateTimeOffset start) => _checkpoints = [(DateTime.UtcNow, start.UtcDateTime)];

    public DateTime UtcNow => LogicalAt(DateTime.UtcNow);

    /// <summary>Real time of the last step, activity or timer change (the driver advances time only after a quiet spell).</summary>
    public DateTime LastProgress => new(Interlocked.Read(ref _lastProgressTicks), DateTimeKind.Utc);

    public override DateTimeOffset GetUtcNow() => new(UtcNow, TimeSpan.Zero);

    public DateTime LogicalAt(DateTime real)
    {
        lock (_gate)
        {
            for (var i = _checkpoints.Count - 1; i > 0; i--)
            {
                if (_checkpoints[i].Real <= real)
                {
                    return _checkpoints[i].Logical;
                }
            }

            return _checkpoints[0].Logical;
        }
    }

    public void Progress() => Interlocked.Exchange(ref _lastProgressTicks, DateTime.UtcNow.Ticks);

    /// <summary>Earliest pending durable timer, or null.</summary>
    public DateTime? NextTimer => _pending.IsEmpty ? null : _pending.Values.Min();

    /// <summary>Moves logical time to <paramref name="logical"/> (never back) and returns the timers now due (to be raised).</summary>
    public IReadOnlyList<(string InstanceId, string EventName)> AdvanceTo(DateTime logical)
    {
        lock (_gate)
        {
            if (logical > _checkpoints[^1].Logical)
            {
                // Strictly after the last checkpoint's real time, so that no step already started maps to the new time.
                var real = DateTime.UtcNow;
                if (real <= _checkpoints[^1].Real)
                {
                    real = _checkpoints[^1].Real.AddTicks(1);
                }

                _checkpoints.Add((real, logical));
            }
        }

        Progress();
        var due = _pending.Where(p => p.Value <= logical).Select(p => p.Key).ToList();
        foreach (var key in due)
        {
            _pending.TryRemove(key, out _);
        }

        return due;
    }

    internal void Register(string instanceId, string eventName, DateTime fireAt)
    {
        _pending[(instanceId, eventName)] = fireAt;
        Progress();
    }

    internal void Unregister(string instanceId, string eventName)
    {
        _pending.TryRemove((instanceId, eventName), out _);
        Progress();
    }

    /// <summary>The orchestration context Gardien's adapter wraps on the test host: logical time, logical timers.</summary>
    public TaskOrchestrationContext Wrap(TaskOrchestrationContext inner) => new LogicalContext(inner, this);

    private sealed class LogicalContext : TaskOrchestrationContext
    {
        private readonly TaskOrchestrationContext _inner;
        private readonly LogicalClock _clock;
        private readonly DateTime _executionKey;
        private int _timers;

        public LogicalContext(TaskOrchestrationContext inner, LogicalClock clock)
        {
            _inner = inner;
            _clock = clock;
            _executionKey = inner.CurrentUtcDateTime;

            // Every step counts as progress: the driver moves the clock only when no step has run for a while.
            clock.Progress();
        }

        public override TaskName Name => _inner.Name;

        public override string InstanceId => _inner.InstanceId;

        public override ParentOrchestrationInstance? Parent => _inner.Parent;

        public override DateTime CurrentUtcDateTime => _clock.LogicalAt(_inner.CurrentUtcDateTime);

        public override bool IsReplaying => _inner.IsReplaying;

        public override string Version => _inner.Version;

        public override IReadOnlyDictionary<string, object?> Properties => _inner.Properties;

        public override TaskOrchestrationEntityFeature Entities => _inner.Entities;

        protected override ILoggerFactory LoggerFactory => Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

        public override T GetInput<T>() => _inner.GetInput<T>()!;

        public override Guid NewGuid() => _inner.NewGuid();

        public override Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null) =>
            _inner.CallActivityAsync<TResult>(name, input, options);

        public override Task<TResult> CallSubOrchestratorAsync<TResult>(
            TaskName orchestratorName,
            object? input = null,
            TaskOptions? options = null) => _inner.CallSubOrchestratorAsync<TResult>(orchestratorName, input, options);

        public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
            _inner.ContinueAsNew(newInput, preserveUnprocessedEvents);

        public override void SetCustomStatus(object? customStatus) => _inner.SetCustomStatus(customStatus);

        public override void SendEvent(string instanceId, string eventName, object payload) =>
            _inner.SendEvent(instanceId, eventName, payload);

        public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) =>
            _inner.WaitForExternalEvent<T>(eventName, cancellationToken);

        public override async Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
        {
            // Named per execution so that an event left over from before ContinueAsNew fires nothing.
            var eventName = $"logical-timer-{_executionKey.Ticks}-{++_timers}";
            if (CurrentUtcDateTime >= fireAt)
            {
                return;
            }

            _clock.Register(InstanceId, eventName, fireAt);
            try
            {
                await _inner.WaitForExternalEvent<bool>(eventName, cancellationToken);
            }
            finally
            {
                _clock.Unregister(InstanceId, eventName);
            }
        }
    }
}
