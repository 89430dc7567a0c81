using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class KeyVaultAndFunctionAppTests(CompiledInfrastructure infra)
{
    private ArmResource Site => infra.Main.Single("Microsoft.Web/sites");

    [Fact]
    public void KeyVault_UsesRbac_WithSoftDeleteAndPurgeProtection_AndNoAccessPolicies()
    {
        var vault = infra.Main.Single("Microsoft.KeyVault/vaults");

        Assert.True(vault.Value("properties", "enableRbacAuthorization")!.GetValue<bool>());
        Assert.True(vault.Value("properties", "enableSoftDelete")!.GetValue<bool>());
        Assert.True(vault.Value("properties", "enablePurgeProtection")!.GetValue<bool>());
        Assert.Null(vault.Raw("properties", "accessPolicies"));
        Assert.False(vault.Value("properties", "enabledForTemplateDeployment")!.GetValue<bool>());
    }

    [Fact]
    public void KeyVault_PublicNetworkAccess_IsParameterised_AndClosedInProd()
    {
        var vault = infra.Main.Single("Microsoft.KeyVault/vaults");
        Assert.Equal("[parameters('publicNetworkAccess')]", vault.Raw("properties", "publicNetworkAccess")!.GetValue<string>());

        var prodVault = infra.MainProd.Single("Microsoft.KeyVault/vaults");
        Assert.Equal("Disabled", prodVault.Value("properties", "publicNetworkAccess")!.GetValue<string>());
    }

    [Fact]
    public void Templates_CreateNoSecretValues()
    {
        // Secret values are set after deployment (docs/ops.md); a secrets resource would need a value in the template.
        Assert.Empty(infra.Main.OfType("Microsoft.KeyVault/vaults/secrets"));
    }

    [Fact]
    public void Plan_IsFlexConsumptionFc1_OnLinux()
    {
        var plan = infra.Main.Single("Microsoft.Web/serverfarms");

        Assert.Equal("FC1", plan.Value("sku", "name")!.GetValue<string>());
        Assert.Equal("FlexConsumption", plan.Value("sku", "tier")!.GetValue<string>());
        Assert.True(plan.Value("properties", "reserved")!.GetValue<bool>());
    }

    [Fact]
    public void Site_IsLinuxFunctionApp_HttpsOnly_Tls12_FtpsDisabled()
    {
        Assert.Equal("functionapp,linux", Site.Value("kind")!.GetValue<string>());
        Assert.True(Site.Value("properties", "httpsOnly")!.GetValue<bool>());
        Assert.Equal("1.2", Site.Value("properties", "siteConfig", "minTlsVersion")!.GetValue<string>());
        Assert.Equal("1.2", Site.Value("properties", "siteConfig", "scmMinTlsVersion")!.GetValue<string>());
        Assert.Equal("Disabled", Site.Value("properties", "siteConfig", "ftpsState")!.GetValue<string>());
    }

    [Fact]
    public void Site_BasicPublishingCredentials_AreOffForFtpAndScm()
    {
        var policies = infra.Main.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();

        Assert.Equal(2, policies.Count);
        Assert.All(policies, p => Assert.False(p.Value("properties", "allow")!.GetValue<bool>()));
        Assert.Contains(policies, p => p.Name.Contains("'ftp'", StringComparison.Ordinal));
        Assert.Contains(policies, p => p.Name.Contains("'scm'", StringComparison.Ordinal));
    }

    [Fact]
    public void Site_RunsOnlyAsTheUserAssignedIdentity_IncludingKeyVaultReferences()
    {
        Assert.Equal("UserAssigned", Site.Value("identity", "type")!.GetValue<string>());
        Assert.Equal("[parameters('identityResourceId')]", Site.Raw("properties", "keyVaultReferenceIdentity")!.GetValue<string>());
    }

    [Fact]
    public void FunctionAppConfig_IsDotnetIsolated10_WithIdentityDeploymentStorage_AndDurableAlwaysReady()
    {
        Assert.Equal("dotnet-isolated", Site.Value("properties", "functionAppConfig", "runtime", "name")!.GetValue<string>());
        Assert.Equal("10.0", Site.Value("properties", "functionAppConfig", "runtime", "version")!.GetValue<string>());

        Assert.Equal("blobContainer", Site.Value("properties", "functionAppConfig", "deployment", "storage", "type")!.GetValue<string>());
        Assert.Equal(
            "UserAssignedIdentity",
            Site.Value("properties", "functionAppConfig", "deployment", "storage", "authentication", "type")!.GetValue<string>());
        Assert.Equal(
            "[parameters('identityResourceId')]",
            Site.Raw("properties", "functionAppConfig", "deployment", "storage", "authentication", "userAssignedIdentityResourceId")!
                .GetValue<string>());

        var scale = Site.Raw("properties", "functionAppConfig", "scaleAndConcurrency")!;
        Assert.NotNull(scale["maximumInstanceCount"]);
        Assert.NotNull(scale["instanceMemoryMB"]);
        var alwaysReady = Assert.Single(scale["alwaysReady"]!.AsArray());
        Assert.Equal("durable", alwaysReady!["name"]!.GetValue<string>());
        Assert.Equal(1, ArmTemplate.Resolve(alwaysReady["instanceCount"], Site.Scope)!.GetValue<int>());
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public void ParameterFiles_KeepOneAlwaysReadyDurableInstance(string environment)
    {
        var template = environment == "dev" ? infra.MainDev : infra.MainProd;
        var site = template.Single("Microsoft.Web/sites");
        var alwaysReady = Assert.Single(site.Raw("properties", "functionAppConfig", "scaleAndConcurrency", "alwaysReady")!.AsArray());

        Assert.Equal(1, ArmTemplate.Resolve(alwaysReady!["instanceCount"], site.Scope)!.GetValue<int>());
    }

    [Fact]
    public void Authentication_SendsAnonymousBrowsersToEntraId_OnEveryRouteButTheKeyedApiAndTheHealthProbe()
    {
        var auth = Assert.Single(
            infra.Main.OfType("Microsoft.Web/sites/config"), c => c.Name.Contains("authsettingsV2", StringComparison.Ordinal));

        Assert.True(auth.Value("properties", "platform", "enabled")!.GetValue<bool>());
        Assert.True(auth.Value("properties", "globalValidation", "requireAuthentication")!.GetValue<bool>());
        Assert.Equal(
            "RedirectToLoginPage", auth.Value("properties", "globalValidation", "unauthenticatedClientAction")!.GetValue<string>());
        Assert.Equal("azureactivedirectory", auth.Value("properties", "globalValidation", "redirectToProvider")!.GetValue<string>());
        Assert.True(auth.Value("properties", "identityProviders", "azureActiveDirectory", "enabled")!.GetValue<bool>());
        Assert.True(auth.Value("properties", "httpSettings", "requireHttps")!.GetValue<bool>());

        // Deny by default: only the listed paths skip the sign-in; the approval pages are never among them.
        var excluded = auth.Value("properties", "globalValidation", "excludedPaths")!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Equal(["/api/health", "/api/dmps", "/api/dmps/*", "/api/workflows/*"], excluded);
        Assert.DoesNotContain(excluded, p => p.StartsWith("/api/approvals", StringComparison.Ordinal) || p is "/*" or "/api/*" or "/");
    }
}
