namespace Gardien.Runtime.AzureStorage;

/// <summary>A bounded set of recently seen ids (FIFO eviction).</summary>
internal sealed class RecentIds(int capacity)
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
