using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

/// <summary>
/// infra-bicep/app-settings.contract.json, main.bicep and local.settings.sample.json agree on every setting the app reads.
/// </summary>
[Collection(InfraCollection.Name)]
public sealed class AppSettingsContractTests(CompiledInfrastructure infra)
{
    private static readonly JsonArray Contract = JsonNode.Parse(File.ReadAllText(InfraPaths.AppSettingsContract))!["settings"]!.AsArray();

    private static bool IsPattern(JsonNode? setting) => setting!["pattern"]?.GetValue<bool>() ?? false;

    /// <summary>The exact names a target sets (pattern entries stand for families of names: see <see cref="Patterns"/>).</summary>
    private static IEnumerable<string> Names(string target) =>
        Contract.Where(s => s![target]!.GetValue<bool>() && !IsPattern(s)).Select(s => s!["name"]!.GetValue<string>());

    /// <summary>
    /// Pattern entries as regular expressions: each &lt;part&gt; is one name segment, or a list item (<c>PlanIds__0</c>).
    /// </summary>
    private static List<Regex> Patterns(string target) =>
        [.. Contract.Where(s => s![target]!.GetValue<bool>() && IsPattern(s))
            .Select(
                s => new Regex(
                    "^" + Regex.Replace(Regex.Escape(s!["name"]!.GetValue<string>()), "<[a-z]+>", "[A-Za-z0-9]+(__[0-9]+)?") + "$"))];

    private ArmResource SiteConfig() =>
        Assert.Single(infra.Main.OfType("Microsoft.Web/sites/config"), c => c.Name.Contains("'appsettings'", StringComparison.Ordinal));

    /// <summary>The fixed settings main.bicep passes the app (the DMP tools' settings are added to them, see below).</summary>
    private JsonObject SiteSettings() =>
        Assert.IsType<JsonObject>(ArmTemplate.Resolve(JsonValue.Create("[parameters('appSettings')]"), SiteConfig().Scope));

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
        string[] rejected =
        [
            "FUNCTIONS_WORKER_RUNTIME",
            "FUNCTIONS_EXTENSION_VERSION",
            "WEBSITE_RUN_FROM_PACKAGE",
            "AzureWebJobsStorage",
            "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        ];

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
        Assert.All(
            settings, pair => Assert.DoesNotContain("AccountKey=", pair.Value?.ToString() ?? "", StringComparison.OrdinalIgnoreCase));
        Assert.All(settings, pair => Assert.DoesNotContain("listKeys", pair.Value?.ToString() ?? "", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Bicep_AppSettings_AreTheFixedSettingsPlusTheDmpToolSettings_WhichDefaultToNone()
    {
        Assert.Equal(
            "[union(parameters('appSettings'), parameters('dmpToolSettings'))]", SiteConfig().Raw("properties")!.GetValue<string>());
        Assert.Empty(
            Assert.IsType<JsonObject>(ArmTemplate.Resolve(JsonValue.Create("[parameters('dmpToolSettings')]"), SiteConfig().Scope)));
        Assert.Contains(
            Patterns("azure"), p => p.IsMatch("DmpTools__Tools__opidor__PlanIds__0") && p.IsMatch("DmpTools__Tools__damap__BaseUrl"));
    }

    [Fact]
    public void Bicep_SecretsAreNeverSettings_TheAppReadsKeyVaultItself()
    {
        var settings = SiteSettings();

        // The approval-link key and the webhook URL stay in Key Vault (read with the identity, rotated in place): the
        // settings only name them.
        Assert.DoesNotContain(settings, pair => (pair.Value?.ToString() ?? "").Contains("@Microsoft.KeyVault", StringComparison.Ordinal));
        Assert.Equal("[parameters('approvalSigningKeyId')]", settings["KeyVault__SigningKeyId"]!.GetValue<string>());
        Assert.Equal("ManagedIdentity", settings["AzureIdentity__Credential"]!.GetValue<string>());
        Assert.Contains("outputs.principalId", settings["Graph__GroupOwnerId"]!.GetValue<string>(), StringComparison.Ordinal);
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
        var local = LocalValues().Select(pair => pair.Key).ToList();
        var patterns = Patterns("local");

        Assert.Equal(
            Names("local").Order(StringComparer.Ordinal), local.Where(n => !patterns.Any(p => p.IsMatch(n))).Order(StringComparer.Ordinal));
        Assert.Contains(local, n => patterns.Any(p => p.IsMatch(n)));
    }

    [Fact]
    public void LocalSample_TaskHubOnAzurite_ResearchDataIdentityBasedOverHttps()
    {
        var values = LocalValues();

        // func start keeps the task hub on Azurite; the adapters only ever use tokens, which the SDKs send over https only.
        Assert.Equal("UseDevelopmentStorage=true", values["AzureWebJobsStorage"]!.GetValue<string>());
        Assert.Equal("Default", values["AzureIdentity__Credential"]!.GetValue<string>());
        foreach (var (name, value) in values.Where(
            pair => pair.Key.EndsWith("ServiceUri", StringComparison.Ordinal) || pair.Key.EndsWith("VaultUri", StringComparison.Ordinal)))
        {
            Assert.StartsWith("https://", value!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(values, pair => (pair.Value?.ToString() ?? "").Contains("AccountKey=", StringComparison.OrdinalIgnoreCase));
    }
}
