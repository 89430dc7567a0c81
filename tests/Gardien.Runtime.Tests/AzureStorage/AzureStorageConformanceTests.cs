using Gardien.Runtime.Storage;
using Gardien.Runtime.Tests.Conformance;
using Gardien.Testing;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>
/// The store contract, run against <see cref="Gardien.Runtime.AzureStorage.AzureStorageWorkflowStore"/> on Azurite (one fresh task hub per
/// store).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStorageConformanceTests(AzuriteFixture fixture) : WorkflowStoreConformanceTests
{
    protected override async Task<IWorkflowStore> CreateStoreAsync(TimeProvider timeProvider) =>
        await AzureStoreTestHubs.CreateStoreAsync(fixture, timeProvider);
}
