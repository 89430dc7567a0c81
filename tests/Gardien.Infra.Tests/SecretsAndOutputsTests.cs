using System.Text.RegularExpressions;
using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed partial class SecretsAndOutputsTests(CompiledInfrastructure infra)
{
    private IEnumerable<ArmScope> AllScopes => infra.Main.Scopes;

    [Fact]
    public void NoSecureParameter_HasADefault()
    {
        foreach (var scope in AllScopes)
        {
            foreach (var (name, parameter) in scope.Parameters)
            {
                var type = parameter!["type"]!.GetValue<string>();
                if (type.StartsWith("secure", StringComparison.OrdinalIgnoreCase))
                {
                    Assert.Null(parameter["defaultValue"]);
                }

                var fallback = parameter["defaultValue"]?.ToJsonString() ?? "";
                Assert.False(SecretLooking().IsMatch(fallback), $"{scope.Path} parameter {name} default looks like a secret: {fallback}");
            }
        }
    }

    [Fact]
    public void NoOutput_ExposesKeysOrSecretValues()
    {
        foreach (var scope in AllScopes)
        {
            foreach (var (name, output) in scope.Outputs)
            {
                var value = output!["value"]?.ToJsonString() ?? "";
                Assert.False(ListFunction().IsMatch(value), $"{scope.Path} output {name} calls a list*() function: {value}");
                Assert.DoesNotContain("Microsoft.KeyVault/vaults/secrets", value, StringComparison.OrdinalIgnoreCase);
                Assert.False(SecretLooking().IsMatch(value), $"{scope.Path} output {name} looks like a secret");
                Assert.NotEqual("securestring", output["type"]!.GetValue<string>(), StringComparer.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public void Templates_NeverReadAccountKeys()
    {
        var everything = infra.Main.Root.Template.ToJsonString();

        Assert.DoesNotMatch(ListFunction(), everything);
    }

    [Fact]
    public void ParameterFiles_ContainNoSecret()
    {
        foreach (var file in new[] { InfraPaths.DevParameters, InfraPaths.ProdParameters })
        {
            var text = File.ReadAllText(file);
            Assert.False(SecretLooking().IsMatch(text), file);
            Assert.DoesNotContain("@secure", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RootOutputs_AreUpperSnakeCase_AndDescribed()
    {
        Assert.NotEmpty(infra.Main.Root.Outputs);
        foreach (var (name, output) in infra.Main.Root.Outputs)
        {
            Assert.Matches("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$", name);
            Assert.NotNull(output!["metadata"]?["description"]);
        }
    }

    [Fact]
    public void MainOutputs_GiveThePipelineWhatItNeeds()
    {
        // scripts/deploy.sh reads these (one stage: nothing else is deployed with them afterwards).
        string[] required =
        [
            "FUNCTION_APP_NAME",
            "FUNCTION_APP_URL",
            "IDENTITY_PRINCIPAL_ID",
            "KEY_VAULT_NAME",
            "APPROVAL_LINK_KEY_SECRET_NAME",
        ];

        Assert.All(required, name => Assert.True(infra.Main.Root.Outputs.ContainsKey(name), name));
        var script = File.ReadAllText(Path.Combine(Gardien.Testing.RepoPaths.Root, "scripts", "deploy.sh"));
        Assert.All(required, name => Assert.Contains($"out {name}", script, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryParameterAndOutput_InEveryModule_HasADescription()
    {
        foreach (var scope in AllScopes)
        {
            foreach (var (name, parameter) in scope.Parameters)
            {
                Assert.True(parameter!["metadata"]?["description"] is not null, $"{scope.Path} parameter {name} has no @description");
            }

            foreach (var (name, output) in scope.Outputs)
            {
                Assert.True(output!["metadata"]?["description"] is not null, $"{scope.Path} output {name} has no @description");
            }
        }
    }

    [GeneratedRegex(@"\blist(Keys|Secrets|AccountSas|ServiceSas|ConnectionStrings|Credentials?)?\(", RegexOptions.IgnoreCase)]
    private static partial Regex ListFunction();

    [GeneratedRegex(@"AccountKey=|SharedAccessSignature=|[?&]sig=|-----BEGIN|InstrumentationKey=[0-9a-f]{8}-", RegexOptions.IgnoreCase)]
    private static partial Regex SecretLooking();
}
