using Azure.Core;
using Azure.Identity;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Where and how the Azure Storage workflow store keeps its task hub. Point it at an account either with a
/// <see cref="ConnectionString"/> (Azurite, shared keys) or with the three service URIs and a
/// <see cref="Credential"/> (<see cref="DefaultAzureCredential"/> when none is given), the way production runs.
/// </summary>
public sealed record AzureStorageStoreOptions
{
    /// <summary>
    /// The largest payload kept inline; bigger ones go to the large-message container (queue messages are capped at 64 KB).
    /// </summary>
    public const int DefaultLargePayloadThresholdBytes = 45 * 1024;

    /// <summary>
    /// Prefixes every table, queue and container so that several hubs share one account. 3 to 45 characters,
    /// starts with a letter, letters and digits only (table names allow nothing else).
    /// </summary>
    public string TaskHubName { get; init; } = "GardienHub";

    /// <summary>A storage connection string. Takes precedence over the service URIs when set.</summary>
    public string? ConnectionString { get; init; }

    public Uri? BlobServiceUri { get; init; }

    public Uri? QueueServiceUri { get; init; }

    public Uri? TableServiceUri { get; init; }

    /// <summary>Used with the service URIs; <see cref="DefaultAzureCredential"/> when null.</summary>
    public TokenCredential? Credential { get; init; }

    /// <summary>Number of control queues orchestration messages are spread over (by instance id hash); 1 to 16.</summary>
    public int PartitionCount { get; init; } = 4;

    /// <summary>How long a dequeued message stays invisible: the lease a worker holds on it before another may take it.</summary>
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A message dequeued this many times without being completed is poison: its instance fails with the reason.</summary>
    public int MaxDequeueCount { get; init; } = 5;

    /// <summary>Payloads larger than this (UTF-8 bytes) are stored as blobs and referenced from rows and messages.</summary>
    public int LargePayloadThresholdBytes { get; init; } = DefaultLargePayloadThresholdBytes;

    /// <summary>Idle queues are polled with an exponential backoff between these two delays.</summary>
    public TimeSpan MinPollingInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan MaxPollingInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Messages fetched per queue receive call (Azure Storage caps it at 32).</summary>
    public int MessageBatchSize { get; init; } = 32;

    /// <summary>Activity messages fetched per receive call and kept (leased) until a worker takes them.</summary>
    public int ActivityBatchSize { get; init; } = 16;

    /// <summary>
    /// Messages for one instance that travel in one queue message: the activities one step schedules (a fan-out), and
    /// messages sent to the instance while a send to it is in flight (events raised together). Sent, leased, checked
    /// and deleted once per pack (see docs/engine-azure-storage.md, "Packs"); 1 sends every message alone. Members are
    /// still handed out one by one, and any member that needs a message of its own (abandoned, or its pack delivered
    /// twice) gets one.
    /// </summary>
    public int MessagePackSize { get; init; } = 32;

    /// <summary>
    /// Persist each activity's outcome (one table write) before reporting it, and check it before running a
    /// delivered activity (one point read), so that an activity whose completion was persisted is never run again,
    /// even when its message is redelivered after a crash or scheduled twice by a re-run step.
    /// </summary>
    public bool DeduplicateActivityExecutions { get; init; } = true;

    /// <summary>
    /// Messages this process produces for itself (activities scheduled by its steps, their results) are sent already
    /// leased to it and handed to its workers directly, saving a queue receive per message. A crash hands them to
    /// another process when the lease (the engine's lock duration) expires, as for received messages.
    /// </summary>
    public bool DeliverLocally { get; init; } = true;

    /// <summary>Extra HTTP pipeline policies (e.g. <see cref="StorageRequestCounter"/>) added to every client, per call.</summary>
    public IReadOnlyList<Azure.Core.Pipeline.HttpPipelinePolicy> AdditionalPolicies { get; init; } = [];

    /// <summary>The options for a local Azurite (or any account reachable by connection string).</summary>
    public static AzureStorageStoreOptions ForConnectionString(string connectionString, string taskHubName) =>
        new() { ConnectionString = connectionString, TaskHubName = taskHubName };

    /// <summary>The options for a real account reached with Entra ID, e.g. <c>https://acct.blob.core.windows.net</c>.</summary>
    public static AzureStorageStoreOptions ForAccount(string accountName, string taskHubName, TokenCredential? credential = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accountName);
        return new()
        {
            TaskHubName = taskHubName,
            BlobServiceUri = new Uri($"https://{accountName}.blob.core.windows.net"),
            QueueServiceUri = new Uri($"https://{accountName}.queue.core.windows.net"),
            TableServiceUri = new Uri($"https://{accountName}.table.core.windows.net"),
            Credential = credential,
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option and how to fix it.</summary>
    public void Validate()
    {
        _ = AzureStorageNames.For(TaskHubName);
        if (string.IsNullOrWhiteSpace(ConnectionString) && (BlobServiceUri is null || QueueServiceUri is null || TableServiceUri is null))
        {
            throw new ArgumentException(
                "AzureStorageStoreOptions: set either ConnectionString, or all of BlobServiceUri, QueueServiceUri and TableServiceUri " +
                "(with Credential, or DefaultAzureCredential is used).");
        }

        Require(PartitionCount is >= 1 and <= 16, nameof(PartitionCount), $"must be between 1 and 16 (got {PartitionCount})");
        Require(VisibilityTimeout >= TimeSpan.FromSeconds(1) && VisibilityTimeout <= TimeSpan.FromDays(7),
            nameof(VisibilityTimeout), $"must be between 1 second and 7 days (got {VisibilityTimeout})");
        Require(MaxDequeueCount >= 1, nameof(MaxDequeueCount), $"must be at least 1 (got {MaxDequeueCount})");
        Require(LargePayloadThresholdBytes is >= 1024 and <= 48 * 1024, nameof(LargePayloadThresholdBytes),
            "must be between 1 KB and 48 KB so that a message with its envelope stays under the 64 KB queue limit (got "
            + $"{LargePayloadThresholdBytes})");
        Require(MinPollingInterval > TimeSpan.Zero && MinPollingInterval <= MaxPollingInterval, nameof(MinPollingInterval),
            $"must be positive and not above MaxPollingInterval (got {MinPollingInterval} and {MaxPollingInterval})");
        Require(ActivityBatchSize is >= 1 and <= 32, nameof(ActivityBatchSize), $"must be between 1 and 32 (got {ActivityBatchSize})");
        Require(
            MessagePackSize is >= 1 and <= 100, nameof(MessagePackSize), $"must be between 1 (no packs) and 100 (got {MessagePackSize})");
        Require(MessageBatchSize is >= 1 and <= 32, nameof(MessageBatchSize), $"must be between 1 and 32 (got {MessageBatchSize})");
    }

    private static void Require(bool condition, string option, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"AzureStorageStoreOptions.{option} {problem}.", option);
        }
    }
}
