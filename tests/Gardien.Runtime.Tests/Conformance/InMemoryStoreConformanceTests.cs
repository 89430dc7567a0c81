using Gardien.Runtime.Storage;

namespace Gardien.Runtime.Tests.Conformance;

public sealed class InMemoryStoreConformanceTests : WorkflowStoreConformanceTests
{
    protected override Task<IWorkflowStore> CreateStoreAsync(TimeProvider timeProvider) =>
        Task.FromResult<IWorkflowStore>(new InMemoryWorkflowStore(timeProvider));
}
