using System.Text.RegularExpressions;
using Gardien.Testing;

namespace Gardien.Infra.Tests;

/// <summary>The ops pipeline keeps its supply-chain and permission hygiene.</summary>
public sealed partial class WorkflowTests
{
    private static readonly string Workflows = Path.Combine(RepoPaths.Root, ".github", "workflows");

    public static TheoryData<string> WorkflowFiles() => ["ci.yml", "deploy.yml"];

    [Theory]
    [MemberData(nameof(WorkflowFiles))]
    public void EveryAction_IsPinnedByFullCommitSha(string file)
    {
        var uses = UsesLine().Matches(File.ReadAllText(Path.Combine(Workflows, file))).Select(m => m.Groups[1].Value).ToList();

        Assert.NotEmpty(uses);
        Assert.All(uses, action => Assert.Matches(@"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$", action));
    }

    [Theory]
    [MemberData(nameof(WorkflowFiles))]
    public void DefaultPermissions_AreReadOnly_AndOidcIsGrantedPerJob(string file)
    {
        var text = File.ReadAllText(Path.Combine(Workflows, file));

        Assert.Matches(@"(?m)^permissions:\r?\n  contents: read\r?\n", text);
        // id-token: write only ever appears indented inside a job, never at workflow level.
        Assert.DoesNotMatch(@"(?m)^  id-token: write", text);
        Assert.DoesNotContain("secrets.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_IsOneStage_InfraThenSigningKeyThenCode_ThroughTheOneCommandScript()
    {
        var script = File.ReadAllText(Path.Combine(RepoPaths.Root, "scripts", "deploy.sh"));
        var deploy = File.ReadAllText(Path.Combine(Workflows, "deploy.yml"));

        Assert.Contains("scripts/deploy.sh", deploy, StringComparison.Ordinal);
        var infra = script.IndexOf("main.json\" --parameters", StringComparison.Ordinal);
        var key = script.IndexOf("az keyvault secret set", StringComparison.Ordinal);
        var publish = script.IndexOf("config-zip", StringComparison.Ordinal);
        Assert.True(
            infra > 0 && key > infra && publish > key, "deploy.sh must deploy the infrastructure, then seed the signing key, then publish");

        // The Event Grid subscriptions deliver to queues and are part of main.bicep: nothing is deployed after the code.
        Assert.Single(Regex.Matches(script, "az deployment group create"));
        Assert.DoesNotContain("subscriptions.bicep", script, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(RepoPaths.Root, "infra-bicep", "subscriptions.bicep")));
    }

    [Fact]
    public void Deploy_SeedsTheSigningKeySecretTheKeyVaultAdapterReads()
    {
        var main = File.ReadAllText(Path.Combine(RepoPaths.Root, "infra-bicep", "main.bicep"));

        // The adapter reads {KeyVault__SigningKeySecretPrefix}{KeyVault__SigningKeyId} (prefix approval-signing-key-, checked
        // against the adapter in Gardien.Functions.Tests); the template names that secret and sets that id.
        Assert.Contains(
            "output APPROVAL_LINK_KEY_SECRET_NAME string = 'approval-signing-key-${approvalSigningKeyId}'", main, StringComparison.Ordinal);
        Assert.Contains("KeyVault__SigningKeyId: approvalSigningKeyId", main, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?m)^\s*-?\s*uses:\s*([^\s#]+)")]
    private static partial Regex UsesLine();
}
