using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;

namespace Gardien.Local.Configuration;

/// <summary>
/// The storage clients the local adapters share. Held in one object (not registered as bare SDK clients) so that the
/// hosts' own <see cref="BlobServiceClient"/> registrations (durable engine store, ...) never collide with these.
/// </summary>
public sealed class LocalStorageClients(BlobServiceClient blobs, TableServiceClient tables)
{
    public BlobServiceClient Blobs { get; } = blobs;

    public TableServiceClient Tables { get; } = tables;

    public static LocalStorageClients Create(LocalAdaptersOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.EffectiveConnectionString is { } connectionString)
        {
            return new LocalStorageClients(new BlobServiceClient(connectionString), new TableServiceClient(connectionString));
        }

        var credential = new DefaultAzureCredential();
        return new LocalStorageClients(
            new BlobServiceClient(options.BlobServiceUri, credential), new TableServiceClient(options.TableServiceUri, credential));
    }
}
