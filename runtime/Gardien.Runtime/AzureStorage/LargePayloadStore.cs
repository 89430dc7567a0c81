using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Keeps payloads above the threshold in the hub's large-message container. Table rows store payloads as UTF-8
/// binary (a string property is capped at 32K UTF-16 characters, a binary one at 64 KB) in the column
/// <c>{name}</c>, or the blob name in <c>{name}BlobName</c>; queue messages carry the same two fields.
/// </summary>
internal sealed class LargePayloadStore(BlobContainerClient container, int thresholdBytes)
{
    private const string BlobSuffix = "BlobName";

    public int ThresholdBytes { get; } = thresholdBytes;

    public bool IsLarge(string? payload) =>
        payload is not null && (payload.Length > ThresholdBytes || Encoding.UTF8.GetByteCount(payload) > ThresholdBytes);

    /// <summary>Uploads under the instance's prefix so that purging an instance finds its blobs.</summary>
    public async Task<string> UploadAsync(string instanceId, string payload, CancellationToken cancellationToken)
    {
        var name = BlobPrefix(instanceId) + Guid.NewGuid().ToString("N");
        var blob = container.GetBlobClient(name);
        await blob.UploadAsync(BinaryData.FromString(payload), overwrite: true, cancellationToken).ConfigureAwait(false);
        return name;
    }

    public async Task<string> DownloadAsync(string blobName, CancellationToken cancellationToken)
    {
        try
        {
            var content = await container.GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return content.Value.Content.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new InvalidOperationException(
                $"The large payload blob '{blobName}' is missing from container '{container.Name}': "
                + "it was deleted outside the engine (or the instance was purged).",
                ex);
        }
    }

    public async Task DeleteForInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        await foreach (var item in container.GetBlobsAsync(new GetBlobsOptions { Prefix = BlobPrefix(instanceId) }, cancellationToken)
            .ConfigureAwait(false))
        {
            await container.DeleteBlobIfExistsAsync(item.Name, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Writes <paramref name="payload"/> into a row, offloading it first when large.</summary>
    public async Task WriteAsync(TableEntity row, string column, string instanceId, string? payload, CancellationToken cancellationToken)
    {
        if (payload is null)
        {
            return;
        }

        if (IsLarge(payload))
        {
            row[column + BlobSuffix] = await UploadAsync(instanceId, payload, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            row[column] = Encoding.UTF8.GetBytes(payload);
        }
    }

    /// <summary>Reads a payload column written by <see cref="WriteAsync"/>.</summary>
    public async Task<string?> ReadAsync(TableEntity row, string column, CancellationToken cancellationToken)
    {
        if (row.TryGetValue(column + BlobSuffix, out var blobName) && blobName is string name && name.Length > 0)
        {
            return await DownloadAsync(name, cancellationToken).ConfigureAwait(false);
        }

        return row.TryGetValue(column, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            BinaryData data => data.ToString(),
            string text => text,
            _ => null,
        } : null;
    }

    /// <summary>Clears both forms of a column on a row that is merged over an older version.</summary>
    public static void Clear(TableEntity row, string column)
    {
        row[column] = null;
        row[column + BlobSuffix] = null;
    }

    private static string BlobPrefix(string instanceId) => Uri.EscapeDataString(instanceId) + "/";
}
