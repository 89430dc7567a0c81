using Gardien.Azure.Arm;
using Gardien.Azure.DmpTools;
using Gardien.Azure.EventGrid;
using Gardien.Azure.Storage;
using Gardien.Azure.Tests.Fakes;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;

namespace Gardien.Azure.Tests;

/// <summary>Each area's registration: the adapters resolve from valid settings, and bad settings fail naming the app setting.</summary>
public sealed class ArmRegistrationTests
{
    private static readonly (string, string)[] Research =
    [
        ("ResearchData:resourceId", FakeArm.AccountId),
        ("ResearchData:tableServiceUri", "https://research01.table.core.windows.net/"),
    ];

    private static readonly (string, string)[] Tools =
    [
        ("DmpTools:Tools:opidor:Kind", "Opidor"),
        ("DmpTools:Tools:opidor:BaseUrl", "https://dmp.opidor.fr/"),
        ("DmpTools:Tools:opidor:ClientIdSecretName", "opidor-client-id"),
        ("DmpTools:Tools:opidor:ClientSecretName", "opidor-client-secret"),
        ("DmpTools:Tools:opidor:PlanIds:0", "4242"),
        ("DmpTools:Tools:damap:Kind", "CommonMadmpApi"),
        ("DmpTools:Tools:damap:BaseUrl", "https://damap.example.org/api/"),
        ("DmpTools:Tools:damap:GrantType", "bearer"),
        ("DmpTools:Tools:damap:ClientSecretName", "damap-token"),
    ];

    private static ServiceProvider Build(Action<IServiceCollection> register, params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(new Mock<IGovernanceRegistry>().Object);
        services.AddSingleton<ISecretStore>(new DictionarySecretStore([]));
        register(services);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AzureStorageAndRoleAssignments_ResolveFromTheResearchDataSettings()
    {
        using var provider = Build(s => s.AddGardienAzureStorage().AddGardienAzureRoleAssignments(), Research);

        Assert.IsType<AzureStorageProvisioner>(provider.GetRequiredService<IStorageProvisioner>());
        Assert.IsType<ContainerRoleAssignments>(provider.GetRequiredService<IContainerRoleAssignments>());
        Assert.Equal(
            new Uri("https://research01.blob.core.windows.net/"),
            provider.GetRequiredService<global::Azure.Storage.Blobs.BlobServiceClient>().Uri);
    }

    [Theory]
    [InlineData(null, "ResearchData__resourceId is required")]
    [InlineData(
        "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/Bad_Name",
        "ResearchData__resourceId '/subscriptions/x")]
    public void AzureStorage_BadResourceId_FailsNamingTheSetting(string? resourceId, string expected)
    {
        (string, string)[] settings = resourceId is null ? [] : [("ResearchData:resourceId", resourceId)];
        using var provider = Build(s => s.AddGardienAzureStorage(), settings);

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ResearchStorageOptions>>().Value);

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AzureStorage_PlainHttpEndpointOrTieringOutOfOrder_FailNamingTheSettings()
    {
        using var provider = Build(
            s => s.AddGardienAzureStorage(),
            [
                .. Research,
                ("ResearchData:blobServiceUri", "http://research01.blob.core.windows.net/"),
                ("ResearchData:tierToCoolAfterDays", "90"),
                ("ResearchData:tierToArchiveAfterDays", "30"),
            ]);

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ResearchStorageOptions>>().Value);

        Assert.Contains("ResearchData__blobServiceUri must be an https:// URL", ex.Message, StringComparison.Ordinal);
        Assert.Contains(
            "ResearchData__tierToArchiveAfterDays (30) must be greater than ResearchData__tierToCoolAfterDays",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void DmpTools_ResolveOneClientPerConfiguredTool()
    {
        using var provider = Build(s => s.AddGardienAzureDmpTools(), Tools);

        var clients = Assert.IsType<DmpToolClients>(provider.GetRequiredService<IDmpToolClient>());
        Assert.Equal(
            ["damap:CommonMadmpApiClient", "opidor:OpidorDmpToolClient"],
            clients.Sources.Select(s => $"{s.Name}:{s.Client.GetType().Name}"));
    }

    [Fact]
    public void DmpTools_IncompleteSettings_FailNamingEachSetting()
    {
        using var provider = Build(s => s.AddGardienAzureDmpTools(),
            ("DmpTools:Tools:opidor:Kind", "Opidor"),
            ("DmpTools:Tools:opidor:BaseUrl", "http://dmp.opidor.fr/"),
            ("DmpTools:Tools:damap:Kind", "CommonMadmpApi"),
            ("DmpTools:Tools:damap:BaseUrl", "https://damap.example.org/"),
            ("DmpTools:Tools:damap:ClientIdSecretName", "id"),
            ("DmpTools:Tools:damap:ClientSecretName", "secret"));

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DmpToolsOptions>>().Value);

        Assert.Contains("DmpTools__Tools__opidor__BaseUrl is required and must be an https:// URL", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DmpTools__Tools__opidor__ClientIdSecretName is required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DmpTools__Tools__opidor__PlanIds is empty", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DmpTools__Tools__damap__TokenUrl is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DmpPolling_ResolvesThePollerOverEveryTool()
    {
        using var provider = Build(
            s => s.AddGardienAzureDmpPolling(),
            [.. Research, .. Tools, ("EventGrid:DmpTopicEndpoint", "https://gardien-dmp.westeurope-1.eventgrid.azure.net/api/events")]);

        Assert.NotNull(provider.GetRequiredService<DmpToolPoller>());
        Assert.IsType<EventGridDmpChangePublisher>(provider.GetRequiredService<IDmpChangePublisher>());
        Assert.IsType<TableDmpPollCheckpointStore>(provider.GetRequiredService<IDmpPollCheckpointStore>());
    }

    [Fact]
    public void DmpPolling_WithoutTheTopic_FailsNamingTheSetting()
    {
        using var provider = Build(s => s.AddGardienAzureDmpPolling(), [.. Research, .. Tools, ("DmpPolling:BatchSize", "0")]);

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DmpPollingOptions>>().Value);

        Assert.Contains("EventGrid__DmpTopicEndpoint is required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DmpPolling__BatchSize must be 1–500", ex.Message, StringComparison.Ordinal);
    }
}
