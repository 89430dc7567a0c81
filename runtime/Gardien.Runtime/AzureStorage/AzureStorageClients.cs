using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// The blob, queue and table clients of one task hub, built from <see cref="AzureStorageStoreOptions"/>: a connection
/// string (Azurite, shared key) or service URIs with a token credential (<see cref="DefaultAzureCredential"/> by default).
/// </summary>
public sealed class AzureStorageClients
{
    private AzureStorageClients(AzureStorageNames names, BlobServiceClient blobs, QueueServiceClient queues, TableServiceClient tables)
    {
        Names = names;
        BlobService = blobs;
        QueueService = queues;
        TableService = tables;
        LargeMessages = blobs.GetBlobContainerClient(names.LargeMessageContainer);
        WorkItems = queues.GetQueueClient(names.WorkItemQueue);
        ControlQueues = names.ControlQueues.Select(queues.GetQueueClient).ToArray();
        History = tables.GetTableClient(names.HistoryTable);
        Instances = tables.GetTableClient(names.InstancesTable);
    }

    public AzureStorageNames Names { get; }

    public BlobServiceClient BlobService { get; }

    public QueueServiceClient QueueService { get; }

    public TableServiceClient TableService { get; }

    public BlobContainerClient LargeMessages { get; }

    public QueueClient WorkItems { get; }

    public IReadOnlyList<QueueClient> ControlQueues { get; }

    public TableClient History { get; }

    public TableClient Instances { get; }

    public QueueClient ControlQueueFor(string instanceId) => ControlQueues[Names.PartitionOf(instanceId)];

    public static AzureStorageClients Create(AzureStorageStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var names = AzureStorageNames.For(options.TaskHubName, options.PartitionCount);

        var blobOptions = new BlobClientOptions();
        var queueOptions = new QueueClientOptions();
        var tableOptions = new TableClientOptions();
        foreach (var policy in options.AdditionalPolicies)
        {
            // Per retry, so that a counting policy sees every request that really goes on the wire.
            blobOptions.AddPolicy(policy, HttpPipelinePosition.PerRetry);
            queueOptions.AddPolicy(policy, HttpPipelinePosition.PerRetry);
            tableOptions.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        }

        ConfigureRetries(blobOptions.Retry);
        ConfigureRetries(queueOptions.Retry);
        ConfigureRetries(tableOptions.Retry);

        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new AzureStorageClients(
                names,
                new BlobServiceClient(options.ConnectionString, blobOptions),
                new QueueServiceClient(options.ConnectionString, queueOptions),
                new TableServiceClient(options.ConnectionString, tableOptions));
        }

        var credential = options.Credential ?? new DefaultAzureCredential();
        return new AzureStorageClients(
            names,
            new BlobServiceClient(options.BlobServiceUri!, credential, blobOptions),
            new QueueServiceClient(options.QueueServiceUri!, credential, queueOptions),
            new TableServiceClient(options.TableServiceUri!, credential, tableOptions));
    }

    /// <summary>Creates the hub's tables, queues and container if missing (idempotent; safe from several processes at once).</summary>
    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        var tasks = new List<Task>
        {
            IgnoreConflict(() => LargeMessages.CreateIfNotExistsAsync(cancellationToken: cancellationToken)),
            IgnoreConflict(() => WorkItems.CreateIfNotExistsAsync(cancellationToken: cancellationToken)),
            IgnoreConflict(() => History.CreateIfNotExistsAsync(cancellationToken)),
            IgnoreConflict(() => Instances.CreateIfNotExistsAsync(cancellationToken)),
        };
        tasks.AddRange(ControlQueues.Select(q => IgnoreConflict(() => q.CreateIfNotExistsAsync(cancellationToken: cancellationToken))));
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>Deletes every table, queue and container of the hub (tests, and tearing a hub down).</summary>
    public async Task DeleteIfExistsAsync(CancellationToken cancellationToken = default)
    {
        var tasks = new List<Task>
        {
            LargeMessages.DeleteIfExistsAsync(cancellationToken: cancellationToken),
            WorkItems.DeleteIfExistsAsync(cancellationToken),
            History.DeleteAsync(cancellationToken),
            Instances.DeleteAsync(cancellationToken),
        };
        tasks.AddRange(ControlQueues.Select(q => (Task)q.DeleteIfExistsAsync(cancellationToken)));
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private static void ConfigureRetries(RetryOptions retry)
    {
        // Storage calls are short; a stuck call must not hold a work item lease for the SDK's default minutes.
        retry.MaxRetries = 5;
        retry.Mode = RetryMode.Exponential;
        retry.Delay = TimeSpan.FromMilliseconds(50);
        retry.MaxDelay = TimeSpan.FromSeconds(5);
        retry.NetworkTimeout = TimeSpan.FromSeconds(30);
    }

    private static async Task IgnoreConflict(Func<Task> create)
    {
        try
        {
            await create().ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Another process created it (or a queue is being deleted): either way it is there or will be.
        }
    }
}
