using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class PrivateNetworkingTests(CompiledInfrastructure infra)
{
    [Fact]
    public void NetworkModule_IsDeployedOnlyWhenPrivateNetworkingIsOn()
    {
        Assert.Equal("[parameters('enablePrivateNetworking')]", infra.Main.Module("network").Condition);
        Assert.False(
            ArmTemplate.Resolve(System.Text.Json.Nodes.JsonValue.Create("[parameters('enablePrivateNetworking')]"), infra.Main.Root)!
                .GetValue<bool>());
    }

    [Fact]
    public void FunctionsSubnet_IsDelegatedToMicrosoftAppEnvironments()
    {
        var vnet = infra.Main.Single("Microsoft.Network/virtualNetworks");
        var subnets = vnet.Raw("properties", "subnets")!.AsArray();

        Assert.Contains(
            subnets,
            s => s!["properties"]!["delegations"]?.AsArray()
                .Any(d => d!["properties"]!["serviceName"]!.GetValue<string>() == "Microsoft.App/environments") == true);
    }

    [Fact]
    public void PrivateEndpoints_CoverBlobQueueTableAndVault_WithDnsZones()
    {
        var endpointModule = Assert.Single(infra.Main.OfType("Microsoft.Resources/deployments"), d => d.Scope.Path == "main/network");
        var groups = endpointModule.Scope.Template["variables"]!["endpoints"]!.AsArray().Select(e => e!["groupId"]!.GetValue<string>())
            .Order();

        Assert.Equal(["blob", "blob", "queue", "table", "table", "vault"], groups);
        Assert.Single(infra.Main.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups"));
        // One zone per sub-resource kind, created in a copy loop over the zones variable.
        var zones = infra.Main.Single("Microsoft.Network/privateDnsZones");
        Assert.NotNull(zones.Raw("copy"));
        Assert.Equal(
            ["blob", "queue", "table", "vault"], zones.Scope.Template["variables"]!["zones"]!.AsObject().Select(z => z.Key).Order());
    }

    [Fact]
    public void Site_JoinsTheSubnet_OnlyWithPrivateNetworking()
    {
        var subnet = infra.Main.Module("functionapp").Raw("properties", "parameters", "virtualNetworkSubnetId")!.ToString();

        Assert.Contains("[if(parameters('enablePrivateNetworking'), ", subnet, StringComparison.Ordinal);
        Assert.Contains("functionsSubnetId", subnet, StringComparison.Ordinal);
    }

    [Fact]
    public void StorageFirewalls_DenyByDefault_WhenPrivateNetworkingIsOn()
    {
        Assert.All(infra.Main.OfType("Microsoft.Storage/storageAccounts"), account =>
        {
            Assert.Equal(
                "[if(parameters('enablePrivateNetworking'), 'Deny', 'Allow')]",
                account.Raw("properties", "networkAcls", "defaultAction")!.GetValue<string>());
            Assert.Equal("AzureServices", account.Value("properties", "networkAcls", "bypass")!.GetValue<string>());
        });
    }

    [Fact]
    public void Prod_UsesPrivateNetworking_AndClosesKeyVault_DevStaysPublic()
    {
        Assert.True(infra.ProdParameters["enablePrivateNetworking"]!.GetValue<bool>());
        Assert.Equal("Disabled", infra.ProdParameters["keyVaultPublicNetworkAccess"]!.GetValue<string>());
        Assert.False(infra.DevParameters["enablePrivateNetworking"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public void ClosingKeyVault_RequiresPrivateNetworking(string environment)
    {
        var parameters = environment == "dev" ? infra.DevParameters : infra.ProdParameters;

        if (parameters["keyVaultPublicNetworkAccess"]!.GetValue<string>() == "Disabled")
        {
            Assert.True(
                parameters["enablePrivateNetworking"]!.GetValue<bool>(),
                "The app could not reach a closed vault without private endpoints.");
        }
    }
}
