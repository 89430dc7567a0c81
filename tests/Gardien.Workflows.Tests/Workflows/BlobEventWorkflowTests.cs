using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Moq;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

public sealed class BlobEventWorkflowTests
{
    private const string Dmp = "https://doi.org/10.1234/health-study";

    private static BlobEventInput Created(string id, string container, string blob, long length = 100) =>
        new(id, BlobEventKind.Created, container, blob, "\"0x8D1\"", length, WorkflowTestEnvironment.Epoch, "PutBlob");

    private static BlobEventInput Deleted(string id, string container, string blob) =>
        new(id, BlobEventKind.Deleted, container, blob, null, null, WorkflowTestEnvironment.Epoch, "DeleteBlob");

    private static async Task<BlobEventResult> HandleAsync(WorkflowTestEnvironment host, BlobEventInput input, string? instanceId = null)
    {
        var id = await host.Client.ScheduleNewAsync(
            nameof(HandleBlobEventWorkflow), input, instanceId ?? HandleBlobEventWorkflow.InstanceIdFor(input.EventId));
        var done = await host.RunToCompletionAsync(id);
        Assert.True(done.Status == WorkflowStatus.Completed, done.FailureDetails?.ToString());
        return done.ReadOutputAs<BlobEventResult>()!;
    }

    [Fact]
    public async Task BlobCreated_InGovernedContainer_IsTaggedWithDmpDatasetAndKeepUntil()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(3650));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var result = await HandleAsync(host, Created("ev-1", dataset.Container, "raw/file-1.dat"));

        Assert.Equal(BlobEventOutcome.Tagged, result.Outcome);
        Assert.Empty(result.Alerts);
        var tags = fakes.Blobs[dataset.Container].Single(b => b.Name == "raw/file-1.dat").Tags;
        Assert.Equal("https://doi.org/10.1234/health-study", tags[GovernanceMetadata.DmpId]);
        Assert.Equal("mri-raw", tags[GovernanceMetadata.DatasetId]);
        Assert.Equal(GovernanceMetadata.Date(dataset.KeepUntil!.Value), tags[GovernanceMetadata.KeepUntil]);
        Assert.True(fakes.ProcessedEvents.ContainsKey("ev-1"));
    }

    [Fact]
    public async Task BlobCreated_InContainerNoPlanKnows_IsReportedToTheSteward()
    {
        var fakes = new PortFakes();
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var result = await HandleAsync(host, Created("ev-2", "shadow-data", "dump.sql"));

        Assert.Equal(BlobEventOutcome.UnknownContainer, result.Outcome);
        var alert = Assert.Single(fakes.Sent);
        Assert.Equal(NotificationKind.Alert, alert.Kind);
        Assert.Contains(StewardEmail, alert.To);
        Assert.Contains(fakes.AuditEntries, e => e.Action == "blob.unknown_container");
        fakes.Storage.Verify(
            s => s.SetBlobTagsAsync(
                It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()),
            Times.Never);
    }

    [Fact]
    public async Task BlobDeleted_OutsideDisposal_IsAnAuditAlert()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(3650));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var result = await HandleAsync(host, Deleted("ev-3", dataset.Container, "raw/file-2.dat"));

        Assert.Equal(BlobEventOutcome.DeletedOutsideDisposal, result.Outcome);
        var entry = Assert.Single(fakes.AuditEntries, e => e.Action == "blob.deleted_outside_disposal");
        Assert.True(entry.After!.Value.GetProperty("alert").GetBoolean());
        Assert.Equal("raw/file-2.dat", entry.After.Value.GetProperty("blob").GetString());
        Assert.Contains(fakes.Sent, n => n.Kind == NotificationKind.Alert && n.To.Contains(StewardEmail));
    }

    [Fact]
    public async Task BlobDeleted_DuringDisposal_IsNotAnAlert()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(-1));
        fakes.Datasets[(Dmp, "mri-raw")] = dataset with { State = DatasetState.MarkedForDeletion };
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var result = await HandleAsync(host, Deleted("ev-4", dataset.Container, "raw/file-2.dat"));

        Assert.Equal(BlobEventOutcome.DeletedByDisposal, result.Outcome);
        Assert.Empty(fakes.Sent);
        Assert.Empty(fakes.AuditEntries);
    }

    [Fact]
    public async Task BlobEvent_DeliveredTwice_IsHandledOnce()
    {
        var fakes = new PortFakes();
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var input = Created("ev-5", "shadow-data", "dump.sql");

        var first = await HandleAsync(host, input);
        var sameId = await host.Client.ScheduleNewAsync(
            nameof(HandleBlobEventWorkflow), input, HandleBlobEventWorkflow.InstanceIdFor("ev-5"));

        // Even after the first instance is purged, the registry's processed-event set catches the redelivery.
        var second = await HandleAsync(host, input, instanceId: "redelivery-after-purge");

        Assert.Equal(HandleBlobEventWorkflow.InstanceIdFor("ev-5"), sameId);
        Assert.Equal(BlobEventOutcome.UnknownContainer, first.Outcome);
        Assert.Equal(BlobEventOutcome.Duplicate, second.Outcome);
        Assert.Single(fakes.Sent);
    }

    [Fact]
    public async Task BlobCreated_ArrivingAfterItsDeletion_HasNothingToTag()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(3650));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var result = await HandleAsync(host, Created("ev-6", dataset.Container, "raw/already-deleted.dat"));

        Assert.Equal(BlobEventOutcome.BlobGone, result.Outcome);
        Assert.Empty(fakes.Sent);
    }

    [Fact]
    public async Task BlobCreated_OverQuota_AlertsPiAndSteward()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(3650));
        fakes.Datasets[(Dmp, "mri-raw")] = dataset with { QuotaBytes = 500 };
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var result = await HandleAsync(host, Created("ev-7", dataset.Container, "raw/file-3.dat"));

        Assert.Equal(BlobEventOutcome.Tagged, result.Outcome);
        Assert.Equal(["quota-exceeded"], result.Alerts);
        var alert = Assert.Single(fakes.Sent);
        Assert.Contains("pi@neuro-institute.example", alert.To);
        Assert.Contains(StewardEmail, alert.To);
        Assert.Contains(fakes.AuditEntries, e => e.Action == "blob.quota_exceeded");
    }

    [Fact]
    public void FromEventGrid_BlobCreated_MapsSubjectETagLengthAndId()
    {
        var json = """
            {
              "id": "831e1650-001e-001b-66ab-eeb76e069631",
              "eventType": "Microsoft.Storage.BlobCreated",
              "subject": "/blobServices/default/containers/gardien-mri-raw/blobs/sub/dir/scan 1.nii",
              "eventTime": "2030-01-01T08:00:00Z",
              "data": { "api": "PutBlob", "eTag": "0x8D4BCC2E4835CD0", "contentLength": 524288, "blobType": "BlockBlob" }
            }
            """;

        var input = BlobEventInput.FromEventGrid(JsonDocument.Parse(json).RootElement);

        Assert.Equal("831e1650-001e-001b-66ab-eeb76e069631", input.EventId);
        Assert.Equal(BlobEventKind.Created, input.Kind);
        Assert.Equal("gardien-mri-raw", input.Container);
        Assert.Equal("sub/dir/scan 1.nii", input.BlobName);
        Assert.Equal("0x8D4BCC2E4835CD0", input.ETag);
        Assert.Equal(524288, input.ContentLength);
        Assert.Equal("PutBlob", input.Api);
    }

    [Fact]
    public void FromEventGrid_CloudEventBlobDeleted_Maps()
    {
        var json =
            """{ "id": "e2", "type": "Microsoft.Storage.BlobDeleted", "subject": "/blobServices/default/containers/c1/blobs/a.txt","""
            + """ "time": "2030-01-01T08:00:00Z", "data": { "api": "DeleteBlob" } }""";

        var input = BlobEventInput.FromEventGrid(JsonDocument.Parse(json).RootElement);

        Assert.Equal(BlobEventKind.Deleted, input.Kind);
        Assert.Equal(("c1", "a.txt"), (input.Container, input.BlobName));
        Assert.Null(input.ContentLength);
    }

    [Theory]
    [InlineData(
        """{ "id": "e3", "eventType": "Microsoft.Storage.BlobTierChanged", "subject": "/blobServices/default/containers/c/blobs/a" }""",
        "only Microsoft.Storage.BlobCreated")]
    [InlineData(
        """{ "id": "e4", "eventType": "Microsoft.Storage.BlobCreated", "subject": "/containers/c" }""",
        "expected '/blobServices/default/containers/")]
    [InlineData("""{ "eventType": "Microsoft.Storage.BlobCreated" }""", "no 'id'")]
    public void FromEventGrid_UnsupportedEvent_SaysWhatIsWrong(string json, string message)
    {
        var error = Assert.Throws<FormatException>(() => BlobEventInput.FromEventGrid(JsonDocument.Parse(json).RootElement));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
