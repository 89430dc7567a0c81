using System.Text.Json;
using Gardien.Cli;
using Gardien.Local.Tests.Hosting;
using Gardien.Testing;

namespace Gardien.Local.Tests.Cli;

/// <summary>The workflow commands end to end: the real engine on its Azure Storage store and the local adapters, on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LocalHostCommandsTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task SubmitInboxApproveStatus_HealthDmp_BecomesActiveWithContainersAndGrants()
    {
        using var sandbox = new LocalHostSandbox(fixture);

        var (submitExit, submitOut, submitErr) = await sandbox.RunAsync("submit", sandbox.DmpPath);
        Assert.True(submitExit == CliRunner.Ok, submitErr);
        Assert.Contains("Submitted " + sandbox.DmpId, submitOut, StringComparison.Ordinal);
        Assert.Contains("awaiting-approvals", submitOut, StringComparison.Ordinal);
        Assert.Contains("claire.dubois@neuro-institute.example", submitOut, StringComparison.Ordinal);

        var (inboxExit, inboxOut, _) = await sandbox.RunAsync("inbox", "--open", "--json");
        Assert.Equal(CliRunner.Ok, inboxExit);
        var requests = JsonDocument.Parse(inboxOut).RootElement.EnumerateArray().ToList();
        Assert.Equal(["claire.dubois@neuro-institute.example", "data-steward@neuro-institute.example", "dpo@neuro-institute.example"],
            requests.Select(r => r.GetProperty("to").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(
            requests,
            r => Assert.Contains("/approvals/", r.GetProperty("links")[0].GetProperty("url").GetString(), StringComparison.Ordinal));
        var tokens = requests.Select(r => r.GetProperty("approveToken").GetString()!).ToList();

        // The first approval leaves the intake waiting for the two others and provisions nothing yet.
        var (firstExit, firstOut, firstErr) = await sandbox.RunAsync("approve", tokens[0], "--comment", "ok for me");
        Assert.True(firstExit == CliRunner.Ok, firstErr);
        Assert.Contains("your decision (approve) was recorded", firstOut, StringComparison.Ordinal);
        Assert.Contains("still awaiting", firstOut, StringComparison.Ordinal);

        foreach (var token in tokens.Skip(1))
        {
            var (exit, _, err) = await sandbox.RunAsync("approve", token);
            Assert.True(exit == CliRunner.Ok, err);
        }

        var (statusExit, statusOut, statusErr) = await sandbox.RunAsync("status", sandbox.DmpId, "--json");
        Assert.True(statusExit == CliRunner.Ok, statusErr);
        var status = JsonDocument.Parse(statusOut).RootElement;
        Assert.True(status.GetProperty("registry").GetProperty("state").GetString() == "Active", statusOut + statusErr);
        Assert.Equal("Active", status.GetProperty("result").GetProperty("state").GetString());
        var datasets = status.GetProperty("datasets").EnumerateArray().ToList();
        Assert.Equal(4, datasets.Count);
        Assert.All(
            datasets,
            d => Assert.Equal(
                sandbox.DmpId,
                d.GetProperty("container").GetProperty("metadata").GetProperty("gardien_dmp_id").GetString() is { } id
                    ? Uri.UnescapeDataString(id)
                    : null));
        // Controls read back from the store at provisioning: Azurite enforces the metadata, records the rest as not enforced.
        Assert.All(
            datasets,
            d => Assert.Contains(
                "container-metadata",
                d.GetProperty("dataset").GetProperty("controls").GetProperty("enforced").EnumerateArray().Select(e => e.GetString())));
        Assert.Contains(datasets, d => d.GetProperty("dataset").GetProperty("controls").GetProperty("notEnforced").EnumerateArray().Any());
        var grants = status.GetProperty("grants").EnumerateArray().ToList();
        Assert.Contains(
            grants, g => g.GetProperty("principalId").GetString() == "u-claire-dubois" && g.GetProperty("level").GetString() == "Owner");
        Assert.All(grants, g => Assert.NotEmpty(g.GetProperty("approvalIds").EnumerateArray()));

        // A used link is refused with a clear message, and changes nothing.
        var (reuseExit, _, reuseErr) = await sandbox.RunAsync("approve", tokens[0], "--reject");
        Assert.Equal(CliRunner.Invalid, reuseExit);
        Assert.Contains("not recorded", reuseErr, StringComparison.Ordinal);

        var (listExit, listOut, _) = await sandbox.RunAsync("status");
        Assert.Equal(CliRunner.Ok, listExit);
        Assert.Contains(sandbox.Slug, listOut, StringComparison.Ordinal);
        Assert.Contains("Active", listOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_Sample_RunsTheMainJobToActiveAndChangesNothingOnASecondRun()
    {
        using var sandbox = new LocalHostSandbox(fixture);

        var (exit, output, error) = await sandbox.RunAsync("demo", "--file", sandbox.DmpPath);

        Assert.True(exit == CliRunner.Ok, error + output);
        Assert.Contains("[demo] approving as dpo@neuro-institute.example", output, StringComparison.Ordinal);
        Assert.Contains($"Intake    {IntakeId(sandbox)}: Active", output, StringComparison.Ordinal);
        Assert.Contains("Containers as stored", output, StringComparison.Ordinal);
        Assert.Contains("immutability_days=3650", output, StringComparison.Ordinal);
        Assert.Contains("NOT enforced locally", output, StringComparison.Ordinal);
        Assert.Contains("Summary to claire.dubois@neuro-institute.example", output, StringComparison.Ordinal);
        Assert.Contains("Audit chain intact", output, StringComparison.Ordinal);
        Assert.Contains("DRY RUN", output, StringComparison.Ordinal);
        Assert.Contains("WouldStartCase", output, StringComparison.Ordinal);

        var (again, secondOutput, secondError) = await sandbox.RunAsync("demo", "--file", sandbox.DmpPath);

        Assert.True(again == CliRunner.Ok, secondError + secondOutput);
        Assert.Contains("is the version in force: nothing to do", secondOutput, StringComparison.Ordinal);
        Assert.Contains("No open approval request", secondOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approve_Reject_EndsTheIntakeRejectedWithNothingProvisioned()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        Assert.Equal(CliRunner.Ok, (await sandbox.RunAsync("submit", sandbox.DmpPath)).Exit);
        var (_, inboxOut, _) = await sandbox.RunAsync("inbox", "--to", "dpo@neuro-institute.example", "--json");
        var token = JsonDocument.Parse(inboxOut).RootElement[0].GetProperty("rejectToken").GetString()!;

        var (exit, output, error) = await sandbox.RunAsync(
            "approve", token, "--reject", "--comment", "no consent form for the clinical data");

        Assert.True(exit == CliRunner.Ok, error);
        Assert.Contains("Rejected", output, StringComparison.Ordinal);
        Assert.Contains("no consent form", output, StringComparison.Ordinal);
        var (_, statusOut, _) = await sandbox.RunAsync("status", sandbox.DmpId, "--json");
        var status = JsonDocument.Parse(statusOut).RootElement;
        Assert.Equal("Rejected", status.GetProperty("registry").GetProperty("state").GetString());
        Assert.Empty(status.GetProperty("grants").EnumerateArray());
        Assert.All(status.GetProperty("datasets").EnumerateArray(), d => Assert.False(d.TryGetProperty("container", out _)));
    }

    [Fact]
    public async Task Submit_DocumentWithoutDmpId_ExitsOneAndSaysWhatToAdd()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        var file = sandbox.Combine("no-id.json");
        await File.WriteAllTextAsync(file, """{ "dmp": { "title": "No identifier" } }""");

        var (exit, _, error) = await sandbox.RunAsync("submit", file);

        Assert.Equal(CliRunner.Invalid, exit);
        Assert.Contains("/dmp/dmp_id/identifier", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCommand_InvalidEngineSettings_ExitsTwoNamingTheSetting()
    {
        using var sandbox = new LocalHostSandbox(fixture, s => ((Dictionary<string, object>)s["Engine"])["TaskHubName"] = "x!");

        var (exit, _, error) = await sandbox.RunAsync("status");

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("Engine:TaskHubName must be 3–45 letters and digits", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCommand_StorageUnreachable_ExitsTwoAndSaysHowToStartAzurite()
    {
        using var sandbox = new LocalHostSandbox(fixture, s => ((Dictionary<string, object>)s["Local"])["StorageConnectionString"] =
            $"DefaultEndpointsProtocol=http;AccountName={AzuriteInstance.AccountName};AccountKey={AzuriteInstance.AccountKey}"
            + ";BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;TableEndpoint=http:/"
            + "/127.0.0.1:1/devstoreaccount1;");

        var (exit, _, error) = await sandbox.RunAsync("inbox");

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("not reachable at http://127.0.0.1:1/devstoreaccount1", error, StringComparison.Ordinal);
        Assert.Contains("./run-local.sh", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCommand_MissingSigningKey_ExitsTwoAndNamesTheSecret()
    {
        using var sandbox = new LocalHostSandbox(fixture, s => s.Remove("Secrets"));

        var (exit, _, error) = await sandbox.RunAsync("status");

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("Secrets:approval-signing-key-k1", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCommand_MissingConfigFile_ExitsTwo()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        File.Delete(sandbox.ConfigPath);

        var (exit, _, error) = await sandbox.RunAsync("status");

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    private static string IntakeId(LocalHostSandbox sandbox) => Gardien.Workflows.Intake.IntakeDmpWorkflow.InstanceIdFor(sandbox.DmpId);
}
