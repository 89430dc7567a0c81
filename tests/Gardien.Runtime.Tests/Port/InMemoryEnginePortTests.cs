using Gardien.Runtime.Storage;

namespace Gardien.Runtime.Tests.Port;

public sealed class InMemoryEnginePortTests : EnginePortTests
{
    protected override Task<IWorkflowStore> CreateStoreAsync(TimeProvider timeProvider) =>
        Task.FromResult<IWorkflowStore>(new InMemoryWorkflowStore(timeProvider));
}
