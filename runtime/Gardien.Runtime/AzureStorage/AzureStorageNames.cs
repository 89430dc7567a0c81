using System.Globalization;
using System.Text.RegularExpressions;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// The table, queue and container names of one task hub, all derived from the hub name so that several hubs share
/// an account without seeing each other. Tables only allow letters and digits; queues and containers only lowercase
/// letters, digits and single hyphens, so the hub name is restricted to what all three accept.
/// </summary>
public sealed partial record AzureStorageNames
{
    public const int MinHubNameLength = 3;

    // 45 leaves room for the longest suffix ("-largemessages", 14) under the 63-character limit of every name.
    public const int MaxHubNameLength = 45;

    private AzureStorageNames(string taskHubName, int partitionCount)
    {
        TaskHubName = taskHubName;
        var lower = taskHubName.ToLowerInvariant();
        InstancesTable = taskHubName + "Instances";
        HistoryTable = taskHubName + "History";
        WorkItemQueue = lower + "-workitems";
        LargeMessageContainer = lower + "-largemessages";
        ControlQueues = Enumerable.Range(0, partitionCount)
            .Select(i => lower + "-control-" + i.ToString("00", CultureInfo.InvariantCulture))
            .ToArray();
    }

    public string TaskHubName { get; }

    /// <summary>Query copy of every instance's status (PartitionKey = instance id, RowKey = "").</summary>
    public string InstancesTable { get; }

    /// <summary>Authoritative history and instance state (PartitionKey = instance id).</summary>
    public string HistoryTable { get; }

    /// <summary>Activity work items, consumed by any worker.</summary>
    public string WorkItemQueue { get; }

    /// <summary>Orchestration messages, one queue per partition (instance id hash).</summary>
    public IReadOnlyList<string> ControlQueues { get; }

    /// <summary>Payloads above the inline threshold.</summary>
    public string LargeMessageContainer { get; }

    /// <summary>Derives and validates every name; throws <see cref="ArgumentException"/> saying what is wrong and how to fix it.</summary>
    public static AzureStorageNames For(string? taskHubName, int partitionCount = 1)
    {
        if (string.IsNullOrEmpty(taskHubName))
        {
            throw new ArgumentException(
                "The task hub name is empty. Choose 3 to 45 letters and digits starting with a letter, e.g. 'GardienHub'.",
                nameof(taskHubName));
        }

        if (taskHubName.Length is < MinHubNameLength or > MaxHubNameLength || !HubNamePattern().IsMatch(taskHubName))
        {
            throw new ArgumentException(
                $"The task hub name '{taskHubName}' is not valid: it prefixes Azure table names (letters and digits only, "
                + "starting with a letter) " +
                "and queue/container names (lowercase, at most 63 characters with the suffix), "
                + $"so it must be {MinHubNameLength} to {MaxHubNameLength} " +
                "letters and digits starting with a letter, e.g. 'GardienHub' or 'Tenant42'. Hyphens, "
                + "underscores and dots are not allowed.",
                nameof(taskHubName));
        }

        if (partitionCount is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(partitionCount), partitionCount, "The partition count must be between 1 and 100.");
        }

        if (taskHubName.StartsWith("tables", StringComparison.OrdinalIgnoreCase))
        {
            // "tables" is reserved by the Table service.
            throw new ArgumentException(
                $"The task hub name '{taskHubName}' may not start with 'tables' (reserved by Azure Table storage).", nameof(taskHubName));
        }

        return new AzureStorageNames(taskHubName, partitionCount);
    }

    /// <summary>The control queue partition an instance's messages go to: a stable hash, identical in every process.</summary>
    public int PartitionOf(string instanceId)
    {
        // FNV-1a: string.GetHashCode is randomised per process, and every process must agree on the partition.
        var hash = 2166136261u;
        foreach (var c in instanceId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)ControlQueues.Count);
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]*$", RegexOptions.CultureInvariant)]
    private static partial Regex HubNamePattern();
}
