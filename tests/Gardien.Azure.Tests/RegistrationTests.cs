using Azure.Core;
using Gardien.Azure.Arm;
using Gardien.Azure.Graph;
using Gardien.Azure.Identity;
using Gardien.Azure.KeyVault;
using Gardien.Azure.Teams;
using Gardien.Azure.Tests.Fakes;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.Tests;

public sealed class RegistrationTests
{
    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["AzureIdentity:ClientId"] = "0f0e0d0c-0b0a-0908-0706-050403020100",
        ["KeyVault:VaultUri"] = "https://kv-gardien.vault.azure.net/",
        ["Graph:OrcidAttribute"] = FakeGraph.OrcidAttribute,
        ["Notifications:MailSender"] = "gardien@inst.example",
        ["Notifications:TeamsAppId"] = "7c9f3b2a-1d4e-4f60-8a9b-0c1d2e3f4a5b",
        ["Notifications:WebhookSecretName"] = "teams-workflow-webhook-url",
        ["Notifications:CardKinds:0"] = "ApprovalRequest",
    };

    [Fact]
    public void ValidSettings_RegisterEveryAzurePortAdapter()
    {
        using var services = Build(Valid).BuildServiceProvider();

        Assert.IsType<KeyVaultSecretStore>(services.GetRequiredService<ISecretStore>());
        Assert.IsType<GraphDirectory>(services.GetRequiredService<IDirectory>());
        Assert.IsType<TeamsNotifier>(services.GetRequiredService<INotifier>());
        Assert.NotNull(services.GetRequiredService<ApprovalTokenService>());
        Assert.NotNull(services.GetRequiredService<TokenCredential>());
        Assert.Equal(
            [NotificationKind.ApprovalRequest], services.GetRequiredService<IOptions<TeamsNotificationOptions>>().Value.EffectiveCardKinds);
    }

    [Fact]
    public async Task MissingAndWrongSettings_StopTheHostNamingEachSetting()
    {
        var settings = new Dictionary<string, string?>
        {
            ["AzureIdentity:ClientId"] = "not-a-guid",
            ["Graph:BaseUrl"] = "http://graph.microsoft.com/v1.0",
            ["Graph:OrcidAttribute"] = "orcid",
            ["Notifications:WebhookSecretName"] = "teams webhook",
        };
        using var host = new HostBuilder()
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(settings))
            .ConfigureServices(s => AddAll(s))
            .Build();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        var text = ex.ToString();
        foreach (var setting in new[]
        {
            "AzureIdentity__ClientId",
            "KeyVault__VaultUri",
            "Graph__BaseUrl",
            "Graph__OrcidAttribute",
            "Notifications__MailSender",
            "Notifications__TeamsAppId",
            "Notifications__WebhookSecretName",
        })
        {
            Assert.Contains(setting, text, StringComparison.Ordinal);
        }
    }

    private static ServiceCollection Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        AddAll(services);
        return services;
    }

    private static void AddAll(IServiceCollection services)
    {
        services.AddSingleton<IContainerRoleAssignments, RecordingRoleAssignments>();
        services.AddSingleton<IGovernanceRegistry, MemoryLedger>();
        services.AddGardienAzureTeamsNotifications();
    }
}
