using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Storage;
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

    public static async Task<AzureStorageWorkflowStore> CreateStoreAsync(
        AzuriteFixture fixture,
        TimeProvider? time = null,
        AzureStorageStoreOptions? options = null)
    {
        var store = new AzureStorageWorkflowStore(options ?? Options(fixture), time);
        await store.CreateIfNotExistsAsync();
        return store;
    }

    /// <summary>The row of a test instance "Wf" in execution "e1".</summary>
    public static WorkflowInstanceState State(string id, string? input = null) => new(id, "Wf")
    {
        ExecutionId = "e1",
        Input = input,
        CreatedAt = DateTimeOffset.UtcNow,
        LastUpdatedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>The ExecutionStarted message of a test instance (see <see cref="State"/>).</summary>
    public static WorkflowMessage Start(string id, string? input = null) =>
        new(
            id,
            new HistoryEvent(HistoryEventType.ExecutionStarted, DateTime.UtcNow)
            {
                Name = "Wf",
                InstanceId = id,
                ExecutionId = "e1",
                Input = input,
            });
}
