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
    public void Deploy_RunsBothStages_ThroughTheOneCommandScript()
    {
        var script = File.ReadAllText(Path.Combine(RepoPaths.Root, "scripts", "deploy.sh"));
        var deploy = File.ReadAllText(Path.Combine(Workflows, "deploy.yml"));

        Assert.Contains("scripts/deploy.sh", deploy, StringComparison.Ordinal);
        var stage1 = script.IndexOf("main.json\" --parameters", StringComparison.Ordinal);
        var publish = script.IndexOf("config-zip", StringComparison.Ordinal);
        var stage2 = script.IndexOf("subscriptions.json\" \\", StringComparison.Ordinal);
        Assert.True(stage1 > 0 && publish > stage1 && stage2 > publish, "deploy.sh must run stage 1, then publish, then stage 2");
    }

    [GeneratedRegex(@"(?m)^\s*-?\s*uses:\s*([^\s#]+)")]
    private static partial Regex UsesLine();
}
