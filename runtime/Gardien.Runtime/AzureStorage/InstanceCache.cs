using Gardien.Runtime.Storage;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// The committed state of the instances this store object committed last, so that a step can skip reading the
/// partition. A stale entry (another process committed since) only costs a 412 at commit, after which it is dropped.
/// </summary>
internal sealed class InstanceCache
{
    private const int MaxInstances = 2000;

    private readonly object _gate = new();
    private readonly Dictionary<string, CachedInstance> _instances = new(StringComparer.Ordinal);

    public CachedInstance? Get(string instanceId)
    {
        lock (_gate)
        {
            return _instances.GetValueOrDefault(instanceId);
        }
    }

    public void Set(string instanceId, CachedInstance instance)
    {
        lock (_gate)
        {
            if (_instances.Count >= MaxInstances)
            {
                // Crude but bounded: a miss only costs a read.
                _instances.Clear();
            }

            _instances[instanceId] = instance;
        }
    }

    public void Forget(string instanceId)
    {
        lock (_gate)
        {
            _instances.Remove(instanceId);
        }
    }
}

/// <summary>An instance as committed: its partition (sentinel with the new ETag, live rows), state and history.</summary>
internal sealed record CachedInstance(HistoryPartition Partition, WorkflowInstanceState Instance, IReadOnlyList<HistoryEvent> History);
