using Azure.Core;
using Gardien.Azure.DmpTools;
using Gardien.Azure.EventGrid;
using Gardien.Azure.Graph;
using Gardien.Azure.KeyVault;
using Gardien.Azure.Storage;
using Gardien.Azure.Teams;
using Gardien.Functions.Durable;
using Gardien.Functions.Events;
using Gardien.Functions.Tests.Triggers;
using Gardien.Runtime;
using Gardien.Storage;
using Gardien.Storage.Audit;
using Gardien.Testing;
using Gardien.Workflows;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Http;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gardien.Functions.Tests.Wiring;

/// <summary>
/// The app's real composition (<see cref="Program.CreateHostBuilder"/>) with the settings a deployment gives it: every
/// port resolves to its Azure adapter, every activity, workflow, host service and function class can be created, and a
/// missing setting stops the app naming it. Nothing here reaches the network: clients are built, never called.
/// </summary>
public sealed class AppWiringTests
{
    /// <summary>What main.bicep sets (infra-bicep/app-settings.contract.json), with a deployment's values.</summary>
    public static Dictionary<string, string?> AzureSettings() => new()
    {
        ["AZURE_CLIENT_ID"] = "0f0e0d0c-0b0a-0908-0706-050403020100",
        ["AzureIdentity:Credential"] = "ManagedIdentity",
        ["WEBSITE_HOSTNAME"] = "func-gardien-prod-abc123.azurewebsites.net",
        ["Gardien:TaskHub"] = "gardienprod",
        ["Gardien:PolicyPath"] = Path.Combine(RepoPaths.Root, "policy.sample.json"),
        ["ResearchData:resourceId"] =
            "/subscriptions/6c4f6e3a-1b2c-4d5e-8f90-a1b2c3d4e5f6/resourceGroups/rg-gardien/providers/Microsoft.Storage/storageAccounts/"
            + "stdataabc123",
        ["ResearchData:blobServiceUri"] = "https://stdataabc123.blob.core.windows.net/",
        ["ResearchData:tableServiceUri"] = "https://stdataabc123.table.core.windows.net/",
        ["ResearchData:auditContainerName"] = "audit",
        ["KeyVault:VaultUri"] = "https://kv-gardien-abc123.vault.azure.net/",
        ["KeyVault:SigningKeyId"] = "k1",
        ["Graph:GroupOwnerId"] = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
        ["Graph:OrcidAttribute"] = string.Empty,
        ["Notifications:MailSender"] = "gardien@inst.example",
        ["Notifications:ActivityFeed"] = "true",
        ["Notifications:TeamsAppId"] = "7c9f3b2a-1d4e-4f60-8a9b-0c1d2e3f4a5b",
        ["Notifications:WebhookSecretName"] = "teams-workflow-webhook-url",
        ["EventGrid:DmpTopicEndpoint"] = "https://evgt-gardien-dmp-prod.westeurope-1.eventgrid.azure.net/api/events",
        ["DmpPolling:Schedule"] = "0 */15 * * * *",
        ["DmpTools:Tools:opidor:Kind"] = "Opidor",
        ["DmpTools:Tools:opidor:BaseUrl"] = "https://dmp.opidor.fr/",
        ["DmpTools:Tools:opidor:ClientIdSecretName"] = "opidor-client-id",
        ["DmpTools:Tools:opidor:ClientSecretName"] = "opidor-client-secret",
        ["DmpTools:Tools:opidor:PlanIds:0"] = "4242",
    };

    private static IHost Build(Dictionary<string, string?> settings) =>
        Program.CreateHostBuilder().ConfigureAppConfiguration(c => c.AddInMemoryCollection(settings)).Build();

    [Fact]
    public void FullSettings_EveryPortResolvesToItsAzureAdapter()
    {
        using var host = Build(AzureSettings());
        var services = host.Services;

        services.GetRequiredService<IStartupValidator>().Validate();
        GardienFunctionsRegistration.EnsurePortsRegistered(services);
        Assert.IsType<FailureTranslatingGovernanceRegistry>(services.GetRequiredService<IGovernanceRegistry>());
        var audit = Assert.IsType<AppendBlobAuditLog>(services.GetRequiredService<IAuditLog>());
        Assert.Equal(new Uri("https://stdataabc123.blob.core.windows.net/audit"), audit.Container.Uri);
        Assert.IsType<KeyVaultSecretStore>(services.GetRequiredService<ISecretStore>());
        Assert.IsType<GraphDirectory>(services.GetRequiredService<IDirectory>());
        Assert.IsType<TeamsNotifier>(services.GetRequiredService<INotifier>());
        Assert.IsType<AzureStorageProvisioner>(services.GetRequiredService<IStorageProvisioner>());
        Assert.Equal(["opidor"], Assert.IsType<DmpToolClients>(services.GetRequiredService<IDmpToolClient>()).Sources.Select(s => s.Name));
        Assert.IsType<EventGridDmpChangePublisher>(services.GetRequiredService<IDmpChangePublisher>());
        Assert.IsType<TableDmpPollCheckpointStore>(services.GetRequiredService<IDmpPollCheckpointStore>());
        Assert.NotNull(services.GetRequiredService<DmpToolPoller>());

        // One managed identity for every client, and the approval links signed with the Key Vault key.
        Assert.Equal("ManagedIdentityCredential", services.GetRequiredService<TokenCredential>().GetType().Name);
        var tokens = services.GetRequiredService<ApprovalTokenService>();
        Assert.Same(tokens, services.GetRequiredService<ApprovalTokenService>());
        Assert.Equal(
            new Uri("https://func-gardien-prod-abc123.azurewebsites.net/api/"),
            services.GetRequiredService<GardienWorkflowOptions>().ApprovalBaseUrl);
    }

    [Fact]
    public void FullSettings_EveryWorkflowActivityHostServiceAndFunctionClassCanBeCreated()
    {
        using var host = Build(AzureSettings());
        var durable = host.Services.GetRequiredService<DurableWorkflowHost>();
        var client = durable.CreateClient(new DurableClientFake().Client);
        var services = durable.WithClient(client);

        Assert.All(durable.Registry.ActivityNames, name => Assert.NotNull(durable.Registry.ResolveActivity(name, services)));
        Assert.All(
            durable.Registry.WorkflowNames,
            name => Assert.NotNull(durable.Registry.ResolveWorkflow(name, durable.Registry.LatestVersion(name), services)));

        Assert.NotNull(durable.Create<DmpSubmissionService>(client));
        Assert.NotNull(durable.Create<DmpEventRouter>(client));
        Assert.NotNull(durable.Create<ApprovalDecisionService>(client));
        Assert.NotNull(durable.Create<RetentionService>(client));
        Assert.NotNull(durable.Create<AuditTrailService>(client));
        Assert.NotNull(durable.Create<ApprovalHttpEndpoint>(client));

        var functionClasses = typeof(GardienFunctionsOptions).Assembly.GetTypes()
            .Where(
                t => t.IsClass
                    && !t.IsAbstract
                    && t.GetMethods()
                        .Any(m => m.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Length > 0))
            .ToList();
        Assert.Contains(typeof(EventQueueFunctions), functionClasses);
        Assert.Contains(typeof(DmpPollingFunctions), functionClasses);
        Assert.All(functionClasses, type => Assert.NotNull(ActivatorUtilities.CreateInstance(host.Services, type)));
    }

    [Theory]
    [InlineData("KeyVault:VaultUri", "KeyVault__VaultUri")]
    [InlineData("ResearchData:tableServiceUri", "ResearchData__tableServiceUri")]
    [InlineData("ResearchData:blobServiceUri", "ResearchData__blobServiceUri")]
    [InlineData("ResearchData:resourceId", "ResearchData__resourceId")]
    [InlineData("Notifications:MailSender", "Notifications__MailSender")]
    [InlineData("Notifications:TeamsAppId", "Notifications__TeamsAppId")]
    [InlineData("EventGrid:DmpTopicEndpoint", "EventGrid__DmpTopicEndpoint")]
    [InlineData("Gardien:TaskHub", "Gardien__TaskHub")]
    public void MissingSetting_StopsTheAppNamingIt(string key, string setting)
    {
        var settings = AzureSettings();
        settings.Remove(key);

        using var host = Build(settings);
        var ex = Assert.ThrowsAny<Exception>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());

        // One failing section throws its OptionsValidationException; several throw them together in an AggregateException.
        Assert.True(
            ex is OptionsValidationException or AggregateException { InnerExceptions: [OptionsValidationException, ..] }, ex.ToString());
        Assert.Contains(setting, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientIdThatIsNoGuid_StopsTheAppNamingTheSetting()
    {
        var settings = AzureSettings();
        settings["AZURE_CLIENT_ID"] = "gardien-identity";

        using var host = Build(settings);
        var ex = Assert.ThrowsAny<Exception>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("AzureIdentity__ClientId: 'gardien-identity' is not a client id", ex.Message, StringComparison.Ordinal);
    }
}
