using System.Text.Json.Nodes;
using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class StorageInvariantTests(CompiledInfrastructure infra)
{
    private IEnumerable<ArmResource> Accounts => infra.Main.OfType("Microsoft.Storage/storageAccounts");

    [Fact]
    public void Deployment_HasExactlyTwoAccounts_HostAndResearchData()
    {
        Assert.Equal(["main/storage-host", "main/storage-research"], Accounts.Select(a => a.Scope.Path).Order());
    }

    [Fact]
    public void EveryAccount_DisallowsSharedKeyAndPublicBlobAccess()
    {
        Assert.All(Accounts, account =>
        {
            Assert.False(account.Value("properties", "allowSharedKeyAccess")!.GetValue<bool>(), account.ToString());
            Assert.False(account.Value("properties", "allowBlobPublicAccess")!.GetValue<bool>(), account.ToString());
            Assert.False(account.Value("properties", "allowCrossTenantReplication")!.GetValue<bool>(), account.ToString());
            Assert.True(account.Value("properties", "defaultToOAuthAuthentication")!.GetValue<bool>(), account.ToString());
        });
    }

    [Fact]
    public void EveryAccount_IsHttpsOnly_WithTls12_AndInfrastructureEncryption()
    {
        Assert.All(Accounts, account =>
        {
            Assert.True(account.Value("properties", "supportsHttpsTrafficOnly")!.GetValue<bool>(), account.ToString());
            Assert.Equal("TLS1_2", account.Value("properties", "minimumTlsVersion")!.GetValue<string>());
            Assert.True(account.Value("properties", "encryption", "requireInfrastructureEncryption")!.GetValue<bool>(), account.ToString());
        });
    }

    [Fact]
    public void ResearchData_BlobService_HasVersioningChangeFeedAndSoftDelete()
    {
        var blobService = Assert.Single(
            infra.Main.OfType("Microsoft.Storage/storageAccounts/blobServices"), r => r.Scope.Path == "main/storage-research");

        Assert.True(blobService.Value("properties", "isVersioningEnabled")!.GetValue<bool>());
        Assert.True(blobService.Value("properties", "changeFeed", "enabled")!.GetValue<bool>());
        Assert.True(blobService.Value("properties", "deleteRetentionPolicy", "enabled")!.GetValue<bool>());
        Assert.True(blobService.Value("properties", "containerDeleteRetentionPolicy", "enabled")!.GetValue<bool>());
        Assert.True(blobService.Value("properties", "deleteRetentionPolicy", "days")!.GetValue<int>() >= 7);
    }

    [Fact]
    public void HostStorage_BlobService_HasSoftDelete()
    {
        var blobService = Assert.Single(
            infra.Main.OfType("Microsoft.Storage/storageAccounts/blobServices"), r => r.Scope.Path == "main/storage-host");

        Assert.True(blobService.Value("properties", "deleteRetentionPolicy", "enabled")!.GetValue<bool>());
        Assert.True(blobService.Value("properties", "containerDeleteRetentionPolicy", "enabled")!.GetValue<bool>());
    }

    [Fact]
    public void AuditContainer_HasTimeBasedImmutability_FromTheRetentionParameter()
    {
        var policy = infra.Main.Single("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies");

        Assert.Equal("main/storage-research", policy.Scope.Path);
        Assert.Contains("parameters('auditContainerName')", policy.Name, StringComparison.Ordinal);
        Assert.Equal(
            "audit", ArmTemplate.Resolve(JsonValue.Create("[parameters('auditContainerName')]"), policy.Scope)!.GetValue<string>());
        Assert.Equal(
            "[parameters('auditRetentionDays')]", policy.Raw("properties", "immutabilityPeriodSinceCreationInDays")!.GetValue<string>());
        Assert.Equal(3650, policy.Value("properties", "immutabilityPeriodSinceCreationInDays")!.GetValue<int>());
        Assert.True(policy.Value("properties", "allowProtectedAppendWrites")!.GetValue<bool>());
    }

    [Fact]
    public void ProdParameters_KeepAuditForAtLeastTenYears()
    {
        var policy = infra.MainProd.Single("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies");

        Assert.True(policy.Value("properties", "immutabilityPeriodSinceCreationInDays")!.GetValue<int>() >= 3650);
    }

    [Fact]
    public void ResearchData_HasLifecyclePolicyScaffold()
    {
        var policy = infra.Main.Single("Microsoft.Storage/storageAccounts/managementPolicies");

        Assert.Equal("main/storage-research", policy.Scope.Path);
        Assert.NotEmpty(policy.Raw("properties", "policy", "rules")!.AsArray());
    }

    [Fact]
    public void HostStorage_HasDeploymentAndDeadLetterContainers_WithoutPublicAccess()
    {
        var containers = infra.Main.OfType("Microsoft.Storage/storageAccounts/blobServices/containers")
            .Where(c => c.Scope.Path == "main/storage-host")
            .ToList();

        Assert.Equal(2, containers.Count);
        Assert.All(containers, c => Assert.Equal("None", c.Value("properties", "publicAccess")!.GetValue<string>()));
        var names = infra.Main.Module("storage-host").Raw("properties", "parameters")!;
        Assert.Equal("[variables('deploymentContainerName')]", names["deploymentContainerName"]!["value"]!.GetValue<string>());
        Assert.Equal("[variables('deadLetterContainerName')]", names["deadLetterContainerName"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public void EveryAccount_HasDiagnosticSettingsToLogAnalytics()
    {
        var diagnostics = infra.Main.OfType("Microsoft.Insights/diagnosticSettings").ToList();

        foreach (var module in new[] { "main/storage-host", "main/storage-research", "main/keyvault", "main/eventgrid" })
        {
            var settings = diagnostics.Where(d => d.Scope.Path == module).ToList();
            Assert.NotEmpty(settings);
            Assert.All(
                settings,
                d => Assert.Equal("[parameters('logAnalyticsWorkspaceId')]", d.Raw("properties", "workspaceId")!.GetValue<string>()));
        }

        // Blob data-plane logs on the research account: who read or changed health data.
        Assert.Contains(
            diagnostics,
            d => d.Scope.Path == "main/storage-research"
                && (d.Raw("scope")?.ToString() ?? "").Contains("blobServices", StringComparison.Ordinal));
    }
}
