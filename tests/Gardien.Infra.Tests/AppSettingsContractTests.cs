using System.Text.Json.Nodes;
using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

/// <summary>infra-bicep/app-settings.contract.json, main.bicep and local.settings.sample.json agree on every setting the app reads.</summary>
[Collection(InfraCollection.Name)]
public sealed class AppSettingsContractTests(CompiledInfrastructure infra)
{
    private static readonly JsonArray Contract = JsonNode.Parse(File.ReadAllText(InfraPaths.AppSettingsContract))!["settings"]!.AsArray();

    private static IEnumerable<string> Names(string target) =>
        Contract.Where(s => s![target]!.GetValue<bool>()).Select(s => s!["name"]!.GetValue<string>());

    private JsonObject SiteSettings()
    {
        var config = Assert.Single(infra.Main.OfType("Microsoft.Web/sites/config"), c => c.Name.Contains("'appsettings'", StringComparison.Ordinal));
        return Assert.IsType<JsonObject>(config.Value("properties"));
    }

    private static JsonObject LocalValues() =>
        JsonNode.Parse(File.ReadAllText(InfraPaths.LocalSettingsSample))!["Values"]!.AsObject();

    [Fact]
    public void Contract_EntriesAreUniqueAndDocumented()
    {
        var names = Contract.Select(s => s!["name"]!.GetValue<string>()).ToList();

        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(Contract, s =>
        {
            Assert.False(string.IsNullOrWhiteSpace(s!["purpose"]?.GetValue<string>()));
            Assert.False(string.IsNullOrWhiteSpace(s["source"]?.GetValue<string>()));
        });
    }

    [Fact]
    public void Bicep_SetsEveryAzureContractSetting_AndNothingElse()
    {
        var set = SiteSettings().Select(pair => pair.Key).Order(StringComparer.Ordinal);

        Assert.Equal(Names("azure").Order(StringComparer.Ordinal), set);
    }

    [Fact]
    public void Bicep_DoesNotSetSettingsFlexConsumptionRejects()
    {
        string[] rejected = ["FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE", "AzureWebJobsStorage", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"];

        Assert.DoesNotContain(SiteSettings(), pair => rejected.Contains(pair.Key));
    }

    [Fact]
    public void Bicep_HostStorageConnection_IsIdentityBased()
    {
        var settings = SiteSettings();

        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]!.GetValue<string>());
        Assert.Equal("managedidentity", settings["ResearchData__credential"]!.GetValue<string>());
        Assert.Contains("outputs.clientId", settings["AzureWebJobsStorage__clientId"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("outputs.clientId", settings["AZURE_CLIENT_ID"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.All(settings, pair => Assert.DoesNotContain("AccountKey=", pair.Value?.ToString() ?? "", StringComparison.OrdinalIgnoreCase));
        Assert.All(settings, pair => Assert.DoesNotContain("listKeys", pair.Value?.ToString() ?? "", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Bicep_ApprovalLinkKey_IsAKeyVaultReference()
    {
        var value = SiteSettings()["Approvals__LinkSigningKey"]!.GetValue<string>();

        Assert.StartsWith("[format('@Microsoft.KeyVault(VaultName={0};SecretName={1})'", value, StringComparison.Ordinal);
    }

    [Fact]
    public void Bicep_Telemetry_AuthenticatesWithTheIdentity()
    {
        var value = SiteSettings()["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]!.GetValue<string>();

        Assert.Contains("Authorization=AAD;ClientId=", value, StringComparison.Ordinal);
    }

    [Fact]
    public void LocalSample_HasExactlyTheLocalContractSettings()
    {
        var local = LocalValues().Select(pair => pair.Key).Order(StringComparer.Ordinal);

        Assert.Equal(Names("local").Order(StringComparer.Ordinal), local);
    }

    [Fact]
    public void LocalSample_StorageEndpoints_PointAtAzuriteOnLoopback()
    {
        var values = LocalValues();

        Assert.Equal("UseDevelopmentStorage=true", values["AzureWebJobsStorage"]!.GetValue<string>());
        foreach (var (name, value) in values.Where(pair => pair.Key.EndsWith("ServiceUri", StringComparison.Ordinal)))
        {
            Assert.StartsWith("http://127.0.0.1:", value!.GetValue<string>(), StringComparison.Ordinal);
        }
    }
}
