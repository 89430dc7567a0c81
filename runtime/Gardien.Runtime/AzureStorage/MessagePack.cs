using Azure.Data.Tables;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// One queue message carrying several messages for one instance, so that sending, leasing and deleting (and for
/// activities, checking for persisted outcomes) cost one request per pack instead of one per message:
/// <list type="bullet">
/// <item>on the work-item queue, the activities one step scheduled (a fan-out);</item>
/// <item>on a control queue, messages sent to one instance at the same moment (events raised together).</item>
/// </list>
/// The members are handed out one by one; the pack message is deleted once every member is <em>settled</em>:
/// consumed by a committed step, its activity outcome committed or replayed from its result row, or moved into a
/// message of its own.
/// <para>Per-message semantics are kept by moving a member out of the pack whenever it would need its own message:
/// an abandoned member (or an activity outcome whose step was abandoned) is re-sent alone, carrying its delivery
/// count, and a pack delivered a second time (its process died, or its lease ended) is split into single messages at
/// once, so that one message that keeps failing becomes poison on its own instead of taking its siblings along.</para>
/// </summary>
internal sealed class MessagePack(QueueLease lease, QueueEnvelope envelope, int firstTaskId, int lastTaskId)
{
    private readonly object _sync = new();
    private readonly bool[] _settled = new bool[envelope.Pack!.Count];
    private int _open = envelope.Pack!.Count;
    private bool _touched;
    private Task<PersistedResults>? _results;

    public QueueLease Lease { get; } = lease;

    /// <summary>The pack message's content, as sent.</summary>
    public QueueEnvelope Envelope { get; } = envelope;

    public int MemberCount { get; } = envelope.Pack!.Count;

    /// <summary>Lowest and highest task id of the members (activity packs): the range of result rows one query reads.</summary>
    public int FirstTaskId { get; } = firstTaskId;

    public int LastTaskId { get; } = lastTaskId;

    /// <summary>Marks the member settled; true when it was the last open one (the pack message can go).</summary>
    public bool Settle(int index)
    {
        lock (_sync)
        {
            _touched = true;
            if (_settled[index])
            {
                return false;
            }

            _settled[index] = true;
            return --_open == 0;
        }
    }

    /// <summary>A member left the buffer for a worker (or was consumed): the pack can no longer be released whole.</summary>
    public void Touch()
    {
        lock (_sync)
        {
            _touched = true;
        }
    }

    /// <summary>No member was handed out or settled: releasing the pack message itself loses nothing.</summary>
    public bool IsPristine
    {
        get
        {
            lock (_sync)
            {
                return !_touched && _open == MemberCount;
            }
        }
    }

    /// <summary>The members' persisted outcomes, read once for the whole pack (one range query) by the first member that asks.</summary>
    public Task<PersistedResults> GetResultsAsync(Func<Task<PersistedResults>> read)
    {
        lock (_sync)
        {
            if (_results is null || _results.IsFaulted || _results.IsCanceled)
            {
                _results = read();
            }

            return _results;
        }
    }

    /// <summary>The members of a pack message, sharing its lease.</summary>
    public static List<ReceivedQueueMessage> Members(QueueLease lease, QueueEnvelope packEnvelope, int effectiveDequeueCount)
    {
        var members = packEnvelope.Pack!;
        var pack = new MessagePack(lease, packEnvelope, members.Min(m => m.Event!.EventId), members.Max(m => m.Event!.EventId));
        return members.Select((member, i) =>
            new ReceivedQueueMessage(lease, member, member.ToWorkflowMessage(member.Event!), effectiveDequeueCount, pack, i)).ToList();
    }

    /// <summary>Result rows found by row key, and when they were read (wall clock).</summary>
    public sealed record PersistedResults(IReadOnlyDictionary<string, TableEntity> Rows, DateTimeOffset ReadAt);
}
