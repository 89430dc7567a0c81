namespace Gardien.Runtime.Storage;

// The in-memory store's records: an instance with its history and waiting messages, and an activity message.
public sealed partial class InMemoryWorkflowStore
{
    private sealed class InstanceRecord(string instanceId)
    {
        public string InstanceId { get; } = instanceId;

        public WorkflowInstanceState? State { get; set; }

        public List<HistoryEvent> History { get; } = [];

        public List<StoredMessage> Messages { get; } = [];

        public string? LockToken { get; set; }

        public DateTimeOffset LockedUntil { get; set; }

        public long Version { get; set; }

        public LinkedListNode<InstanceRecord>? ReadyNode { get; set; }
    }

    private sealed class StoredMessage(WorkflowMessage message, long sequence, DateTimeOffset visibleAt)
    {
        public WorkflowMessage Message { get; } = message;

        public long Sequence { get; } = sequence;

        public DateTimeOffset VisibleAt { get; set; } = visibleAt;

        public int DequeueCount { get; set; }

        public string? LastError { get; set; }
    }

    private sealed class ActivityEntry(WorkflowMessage message, long sequence, DateTimeOffset visibleAt)
    {
        public WorkflowMessage Message { get; } = message;

        public long Sequence { get; } = sequence;

        public DateTimeOffset VisibleAt { get; set; } = visibleAt;

        public int DequeueCount { get; set; }

        public string? LockToken { get; set; }

        public string? LastError { get; set; }
    }
}
