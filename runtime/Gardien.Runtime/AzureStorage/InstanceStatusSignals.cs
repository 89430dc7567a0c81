using System.Collections.Concurrent;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Waiters for a status change of an instance committed through this store object. Waiters only ever wait for a
/// status, and a fan-in's many steps change none: waking them at every commit would cost a read each.
/// </summary>
internal sealed class InstanceStatusSignals(TimeSpan maxWait)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);

    /// <summary>Completes at the next status change of the instance, or after <c>maxWait</c> (commits of other processes).</summary>
    public Task WaitAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (_signals.Count > 10_000)
        {
            // Waiters that gave up leave their signal behind; wake everyone (they re-read) rather than grow.
            foreach (var id in _signals.Keys)
            {
                Signal(id);
            }
        }

        var signal = _signals.GetOrAdd(instanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        return Task.WhenAny(signal, Task.Delay(maxWait, cancellationToken))
            .ContinueWith(
                _ => cancellationToken.ThrowIfCancellationRequested(),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
    }

    public void Signal(string instanceId)
    {
        if (_signals.TryRemove(instanceId, out var signal))
        {
            signal.TrySetResult();
        }
    }
}
