using Gardien.Runtime.Storage;
using Gardien.Runtime.Tests.AzureStorage;
using Gardien.Testing;

namespace Gardien.Runtime.Tests.Port;

/// <summary>The port on the Azure Storage store (Azurite, a fresh task hub per test).</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStorageEnginePortTests(AzuriteFixture fixture) : EnginePortTests
{
    protected override async Task<IWorkflowStore> CreateStoreAsync(TimeProvider timeProvider) =>
        await AzureStoreTestHubs.CreateStoreAsync(fixture, timeProvider);
}
