using Azure.Core;
using Azure.Core.Pipeline;

namespace Gardien.Runtime.AzureStorage;

/// <summary>The storage service a request went to.</summary>
public enum StorageService
{
    Blob,
    Queue,
    Table,
    Other,
}

/// <summary>
/// Counts the HTTP requests the store sends, per service, including retries (it sits in the per-retry position).
/// Add one instance to <see cref="AzureStorageStoreOptions.AdditionalPolicies"/>; the benchmark divides the totals
/// by the activities run to report requests per activity.
/// </summary>
public sealed class StorageRequestCounter : HttpPipelineSynchronousPolicy
{
    private long _blob;
    private long _queue;
    private long _table;
    private long _other;

    public long BlobRequests => Interlocked.Read(ref _blob);

    public long QueueRequests => Interlocked.Read(ref _queue);

    public long TableRequests => Interlocked.Read(ref _table);

    public long OtherRequests => Interlocked.Read(ref _other);

    public long TotalRequests => BlobRequests + QueueRequests + TableRequests + OtherRequests;

    public StorageRequestSnapshot Snapshot() => new(BlobRequests, QueueRequests, TableRequests, OtherRequests);

    public void Reset()
    {
        Interlocked.Exchange(ref _blob, 0);
        Interlocked.Exchange(ref _queue, 0);
        Interlocked.Exchange(ref _table, 0);
        Interlocked.Exchange(ref _other, 0);
    }

    public override void OnSendingRequest(HttpMessage message) => Count(message);

    /// <summary>
    /// The SDK's User-Agent names the client library ("azsdk-net-Storage.Blobs/12.x"), which works for Azurite's
    /// loopback endpoints where the host name says nothing about the service.
    /// </summary>
    internal static StorageService Classify(HttpMessage message)
    {
        if (message.Request.Headers.TryGetValue("User-Agent", out var agent) && agent is not null)
        {
            if (agent.Contains("Storage.Blobs", StringComparison.OrdinalIgnoreCase))
            {
                return StorageService.Blob;
            }

            if (agent.Contains("Storage.Queues", StringComparison.OrdinalIgnoreCase))
            {
                return StorageService.Queue;
            }

            if (agent.Contains("Data.Tables", StringComparison.OrdinalIgnoreCase))
            {
                return StorageService.Table;
            }
        }

        var host = message.Request.Uri.Host ?? string.Empty;
        return host.Contains(".blob.", StringComparison.OrdinalIgnoreCase) ? StorageService.Blob
            : host.Contains(".queue.", StringComparison.OrdinalIgnoreCase) ? StorageService.Queue
            : host.Contains(".table.", StringComparison.OrdinalIgnoreCase) ? StorageService.Table
            : StorageService.Other;
    }

    private void Count(HttpMessage message)
    {
        switch (Classify(message))
        {
            case StorageService.Blob:
                Interlocked.Increment(ref _blob);
                break;
            case StorageService.Queue:
                Interlocked.Increment(ref _queue);
                break;
            case StorageService.Table:
                Interlocked.Increment(ref _table);
                break;
            default:
                Interlocked.Increment(ref _other);
                break;
        }
    }
}

/// <summary>Request totals at one moment; subtract two to measure a run.</summary>
public readonly record struct StorageRequestSnapshot(long Blob, long Queue, long Table, long Other)
{
    public long Total => Blob + Queue + Table + Other;

    public static StorageRequestSnapshot operator -(StorageRequestSnapshot after, StorageRequestSnapshot before) =>
        new(after.Blob - before.Blob, after.Queue - before.Queue, after.Table - before.Table, after.Other - before.Other);

    public StorageRequestSnapshot Subtract(StorageRequestSnapshot before) => this - before;
}
