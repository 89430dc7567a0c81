using Gardien.Runtime.AzureStorage;
using Gardien.Testing;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>Unique task hubs on the shared Azurite, so that tests never see each other's tables and queues.</summary>
internal static class AzureStoreTestHubs
{
    public static string NewHubName() => "T" + Guid.NewGuid().ToString("N")[..16];

    public static AzureStorageStoreOptions Options(AzuriteFixture fixture, string? hub = null) =>
        AzureStorageStoreOptions.ForConnectionString(fixture.ConnectionString, hub ?? NewHubName()) with
        {
            PartitionCount = 2,
            MaxPollingInterval = TimeSpan.FromMilliseconds(100),
        };

    public static async Task<AzureStorageWorkflowStore> CreateStoreAsync(AzuriteFixture fixture, TimeProvider? time = null, AzureStorageStoreOptions? options = null)
    {
        var store = new AzureStorageWorkflowStore(options ?? Options(fixture), time);
        await store.CreateIfNotExistsAsync();
        return store;
    }
}
