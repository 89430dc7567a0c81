using System.Text.Json;
using Azure.Storage.Blobs;
using Gardien.Cli;
using Gardien.Local.Serve;
using Gardien.Local.Tests.Hosting;
using Gardien.Runtime;
using Gardien.Testing;
using Gardien.Workflows.BlobEvents;
using Microsoft.Extensions.DependencyInjection;

namespace Gardien.Local.Tests.Serve;

/// <summary>The README's main job on the service, blob events without Event Grid, and the CLI talking to a running service.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ServeMainJobTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task ServeDemoOnce_StartsSubmitsApprovesOverHttp_SeesTheContainersOnAzurite_AndStops()
    {
        using var sandbox = new LocalHostSandbox(fixture);

        var (exit, output, error) = await sandbox.RunAsync("serve", "--demo", "--once", "--file", sandbox.DmpPath);

        Assert.True(exit == CliRunner.Ok, output + error);
        Assert.Contains("Dashboard: http://127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Contains("Inbox:     http://127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Equal(3, output.Split('\n').Count(l => l.StartsWith("[demo] approving over HTTP as", StringComparison.Ordinal)));
        Assert.Contains("The DMP is Active.", output, StringComparison.Ordinal);
        Assert.Equal(4, output.Split('\n').Count(l => l.Contains(": present on Azurite", StringComparison.Ordinal)));
        Assert.Contains("Audit chain intact", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(sandbox.Combine("state"), ServiceDiscovery.DiscoveryFileName)));

        // Nothing pretends: the containers are on Azurite, independently of the service that made them.
        var blobs = new BlobServiceClient(sandbox.ConnectionString);
        var containers = new List<string>();
        await foreach (var item in blobs.GetBlobContainersAsync(prefix: "gdn-10-99999-" + sandbox.Slug))
        {
            containers.Add(item.Name);
        }

        Assert.Equal(4, containers.Count);
    }

    [Fact]
    public async Task BlobWatcher_NewAndDeletedBlobs_BecomeTheEventGridEventsAzureSends_HandledOnce()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var serve = await ServeHarness.StartAsync(sandbox);
        using (await serve.SubmitAsync())
        {
        }

        foreach (var request in await serve.WaitForOpenRequestsAsync(3))
        {
            using var _ = await serve.DecideAsync(request, "approve");
        }

        var active = await serve.WaitForDmpAsync(d => d.GetProperty("dmp").GetProperty("state").GetString() == "Active");
        var dataset = active.GetProperty("datasets")[0];
        var container = new BlobServiceClient(sandbox.ConnectionString)
            .GetBlobContainerClient(dataset.GetProperty("container").GetString());
        var client = serve.Service.Host.Services.GetRequiredService<IWorkflowClient>();
        var watcher = serve.Service.BlobWatcher;
        await watcher.PollAsync();

        await container.GetBlobClient("sub-01/scan.nii").UploadAsync(BinaryData.FromString("scan"));
        var created = Assert.Single(await watcher.PollAsync());
        Assert.Equal("Microsoft.Storage.BlobCreated", created.EventType);
        var tagged = await client.WaitForCompletionAsync(created.InstanceId!, getInputsAndOutputs: true).WaitAsync(ServeHarness.Guard);
        Assert.Equal(BlobEventOutcome.Tagged, tagged.ReadOutputAs<BlobEventResult>()!.Outcome);
        var tags = (await container.GetBlobClient("sub-01/scan.nii").GetTagsAsync()).Value.Tags;
        Assert.NotEmpty(tags);
        Assert.Empty(await watcher.PollAsync());

        await container.GetBlobClient("sub-01/scan.nii").DeleteAsync();
        var deleted = Assert.Single(await watcher.PollAsync());
        Assert.Equal("Microsoft.Storage.BlobDeleted", deleted.EventType);
        var alerted = await client.WaitForCompletionAsync(deleted.InstanceId!, getInputsAndOutputs: true).WaitAsync(ServeHarness.Guard);
        Assert.Equal(BlobEventOutcome.DeletedOutsideDisposal, alerted.ReadOutputAs<BlobEventResult>()!.Outcome);
        Assert.Empty(await watcher.PollAsync());
    }

    [Fact]
    public async Task CliCommands_WithAServiceRunning_GoThroughItsApi()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var serve = await ServeHarness.StartAsync(sandbox);

        var (submitExit, submitOut, submitErr) = await sandbox.RunAsync("submit", sandbox.DmpPath);
        Assert.True(submitExit == CliRunner.Ok, submitOut + submitErr);
        Assert.Contains("using the running service", submitErr, StringComparison.Ordinal);
        Assert.Contains("Submitted " + sandbox.DmpId, submitOut, StringComparison.Ordinal);

        await serve.WaitForOpenRequestsAsync(3);
        var (inboxExit, inboxOut, _) = await sandbox.RunAsync("inbox", "--open", "--json");
        Assert.Equal(CliRunner.Ok, inboxExit);
        var links = JsonDocument.Parse(inboxOut).RootElement.EnumerateArray()
            .Select(m => m.GetProperty("links").EnumerateArray().First(l =>
                l.GetProperty("label").GetString() == "Approve").GetProperty("url").GetString()!).ToList();
        Assert.Equal(3, links.Count);

        foreach (var link in links)
        {
            var (exit, output, error) = await sandbox.RunAsync("approve", link, "--comment", "via the CLI");
            Assert.True(exit == CliRunner.Ok, output + error);
        }

        await serve.WaitForDmpAsync(d => d.GetProperty("dmp").GetProperty("state").GetString() == "Active");
        var (reuseExit, _, reuseErr) = await sandbox.RunAsync("approve", links[0]);
        Assert.Equal(CliRunner.Invalid, reuseExit);
        Assert.Contains("already closed", reuseErr, StringComparison.Ordinal);

        var (statusExit, statusOut, _) = await sandbox.RunAsync("status", sandbox.DmpId, "--json");
        Assert.Equal(CliRunner.Ok, statusExit);
        Assert.Equal("Active", JsonDocument.Parse(statusOut).RootElement.GetProperty("dmp").GetProperty("state").GetString());

        var (sweepExit, sweepOut, sweepErr) = await sandbox.RunAsync("sweep", "--dry-run", "--today", "2048-11-15");
        Assert.True(sweepExit == CliRunner.Ok, sweepOut + sweepErr);
        Assert.Contains("DRY RUN", sweepOut, StringComparison.Ordinal);
    }
}
