using Gardien.Functions.Tests.Conformance;
using Gardien.Runtime;
using Gardien.Testing;
using Gardien.Workflows;

namespace Gardien.Functions.Tests.Backend;

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}

/// <summary>
/// The conformance scenarios that need no timer to fire, on the Durable Task Framework's Azure Storage provider (the
/// Durable Functions backend) on Azurite, compared with the embedded engine: the workflows behave the same on the very
/// storage backend Durable Functions uses.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DtfBackendConformanceTests(AzuriteFixture azurite)
{
    [Fact]
    public Task Intake_ApprovedByAllRoles_AlikeOnTheAzureStorageBackend() => CompareAsync(Scenarios.IntakeApprovedAsync);

    [Fact]
    public Task Intake_Rejected_AlikeOnTheAzureStorageBackend() => CompareAsync(Scenarios.IntakeRejectedAsync);

    [Fact]
    public Task Intake_FailureCompensates_AlikeOnTheAzureStorageBackend() => CompareAsync(Scenarios.IntakeFailureCompensatesAsync);

    [Fact]
    public Task Update_AlikeOnTheAzureStorageBackend() => CompareAsync(Scenarios.DmpUpdateAsync);

    [Fact]
    public Task BlobEvents_AlikeOnTheAzureStorageBackend() => CompareAsync(Scenarios.BlobEventsAsync);

    private async Task CompareAsync(Func<ScenarioEngine, ConformanceWorld, Task<ScenarioRecord>> scenario)
    {
        var embeddedWorld = new ConformanceWorld();
        ScenarioRecord embedded;
        await using (var engine = await EmbeddedScenarioEngine.StartAsync(embeddedWorld))
        {
            embedded = await scenario(engine, embeddedWorld);
        }

        var world = new ConformanceWorld();
        await using var backend = await DtfBackendScenarioEngine.StartAsync(azurite.ConnectionString, world);
        var durable = await scenario(backend, world);

        Assert.Equal(embedded.Instances, durable.Instances);
        Assert.Equal(embedded.Notifications, durable.Notifications);
        Assert.Equal(embedded.Audit, durable.Audit);
        Assert.Equal(embedded.State, durable.State);
    }
}

/// <summary>Scenarios on <see cref="DtfAzureStorageBackend"/>; logical time stands still (these scenarios wait for no timer).</summary>
public sealed class DtfBackendScenarioEngine : ScenarioEngine
{
    private DtfAzureStorageBackend _backend = null!;

    public override string Name => "Durable Task Framework, Azure Storage provider";

    public override IWorkflowClient Client => _backend.Client;

    public static async Task<ScenarioEngine> StartAsync(string connectionString, ConformanceWorld world)
    {
        var clock = new LogicalClock(Epoch);
        var engine = new DtfBackendScenarioEngine();
        engine._backend = await DtfAzureStorageBackend.StartAsync(
            connectionString,
            "conf" + Guid.NewGuid().ToString("N")[..12],
            new WorkflowRegistry().AddGardienWorkflows(),
            client => engine.Services = world.Services(clock, client),
            wrap: clock.Wrap);
        return engine;
    }

    public override Task RunUntilAsync(string instanceId, Func<Task<bool>> done) => WaitUntilAsync(done, instanceId);

    public override async Task RaiseEventAndWaitAsync(string instanceId, string eventName, object? eventData) =>
        await Client.RaiseEventAsync(instanceId, eventName, eventData);

    public override ValueTask DisposeAsync() => _backend.DisposeAsync();
}
