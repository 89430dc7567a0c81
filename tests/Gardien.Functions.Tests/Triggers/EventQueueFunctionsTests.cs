using System.Text;
using System.Text.Json;
using Azure.Messaging.EventGrid;
using Gardien.Azure.EventGrid;
using Gardien.Functions.Events;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Hosting.Events;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;

namespace Gardien.Functions.Tests.Triggers;

public sealed class EventQueueFunctionsTests
{
    private const string Account =
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-gardien/providers/Microsoft.Storage/storageAccounts/"
        + "stgardiendata";

    // As Event Grid delivers it to a storage queue (Event Grid schema).
    private static string BlobCreated(
        string id = "831e1650-001e-001b-66ab-eeb76e069631",
        string container = "gardien-mri-raw",
        string blob = "raw/sub-01/anat.nii.gz") => $$"""
        {
          "topic": "{{Account}}",
          "subject": "/blobServices/default/containers/{{container}}/blobs/{{blob}}",
          "eventType": "Microsoft.Storage.BlobCreated",
          "id": "{{id}}",
          "data": {
            "api": "PutBlob",
            "clientRequestId": "6d79dbfb-0e37-4fc4-981f-442c9ca65760",
            "requestId": "831e1650-001e-001b-66ab-eeb76e000000",
            "eTag": "\"0x8D4BCC2E4835CD0\"",
            "contentType": "application/gzip",
            "contentLength": 524288,
            "blobType": "BlockBlob",
            "url": "https://stgardiendata.blob.core.windows.net/{{container}}/{{blob}}",
            "sequencer": "00000000000004420000000000028963",
            "storageDiagnostics": { "batchId": "b68529f3-68cd-4744-baa4-3c0498ec19f0" }
          },
          "dataVersion": "",
          "metadataVersion": "1",
          "eventTime": "2030-01-01T08:00:00.0000000Z"
        }
        """;

    // CloudEvents 1.0 schema.
    private const string BlobDeletedCloudEvent = $$"""
        {
          "source": "{{Account}}",
          "subject": "/blobServices/default/containers/gardien-eeg/blobs/session-2/raw.edf",
          "type": "Microsoft.Storage.BlobDeleted",
          "time": "2030-01-02T10:00:00.0000000Z",
          "id": "4c2359fe-001e-00ba-0e04-585868000000",
          "data": {
            "api": "DeleteBlob",
            "requestId": "4c2359fe-001e-00ba-0e04-585868000000",
            "contentType": "application/octet-stream",
            "blobType": "BlockBlob",
            "url": "https://stgardiendata.blob.core.windows.net/gardien-eeg/session-2/raw.edf",
            "sequencer": "0000000000000281000000000002F5CA"
          },
          "specversion": "1.0"
        }
        """;

    private static string DmpSubmitted(string dmpJson, string id = "evt-dmp-1") => $$"""
        {
          "specversion": "1.0",
          "type": "{{DmpCloudEvents.Submitted}}",
          "source": "https://dmp.example.org",
          "id": "{{id}}",
          "time": "2030-01-01T08:00:00Z",
          "subject": "plans/42",
          "datacontenttype": "application/json",
          "data": {{dmpJson}}
        }
        """;

    [Fact]
    public async Task BlobCreated_EventGridSchema_StartsTheBlobEventWorkflowUnderTheEventId()
    {
        var host = new TriggerHost();

        await host.Events.OnBlobEventAsync(BlobCreated(), host.Durable.Client, CancellationToken.None);

        var (name, input) = Assert.Single(
            host.Durable.Started, s => s.Key == HandleBlobEventWorkflow.InstanceIdFor("831e1650-001e-001b-66ab-eeb76e069631")).Value;
        Assert.Equal(nameof(HandleBlobEventWorkflow), name);
        var started = Assert.IsType<BlobEventInput>(input);
        Assert.Equal(BlobEventKind.Created, started.Kind);
        Assert.Equal(("gardien-mri-raw", "raw/sub-01/anat.nii.gz"), (started.Container, started.BlobName));
        Assert.Equal(524288, started.ContentLength);
    }

    [Fact]
    public async Task BlobDeleted_CloudEventsSchema_StartsTheWorkflowWithTheDeletedKind()
    {
        var host = new TriggerHost();

        await host.Events.OnBlobEventAsync(BlobDeletedCloudEvent, host.Durable.Client, CancellationToken.None);

        var input = Assert.IsType<BlobEventInput>(Assert.Single(host.Durable.Started).Value.Input);
        Assert.Equal(BlobEventKind.Deleted, input.Kind);
        Assert.Equal(("gardien-eeg", "session-2/raw.edf"), (input.Container, input.BlobName));
    }

    [Fact]
    public async Task Batch_StartsOneWorkflowPerEvent_AndADuplicateJoinsTheFirst()
    {
        var host = new TriggerHost();
        var batch = $"[{BlobCreated("ev-a")},{BlobCreated("ev-b", blob: "raw/2.dat")},{BlobCreated("ev-a")}]";

        await host.Events.OnBlobEventAsync(batch, host.Durable.Client, CancellationToken.None);
        await host.Events.OnBlobEventAsync(BlobCreated("ev-b", blob: "raw/2.dat"), host.Durable.Client, CancellationToken.None);

        Assert.Equal(
            [HandleBlobEventWorkflow.InstanceIdFor("ev-a"), HandleBlobEventWorkflow.InstanceIdFor("ev-b")],
            host.Durable.Started.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Base64EncodedMessage_IsDecoded()
    {
        var host = new TriggerHost();

        await host.Events.OnBlobEventAsync(
            Convert.ToBase64String(Encoding.UTF8.GetBytes(BlobCreated("ev-64"))), host.Durable.Client, CancellationToken.None);

        Assert.Contains(HandleBlobEventWorkflow.InstanceIdFor("ev-64"), host.Durable.Started.Keys);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("")]
    [InlineData("42")]
    [InlineData("""{"id":"x","subject":"/blobServices/default/containers/c/blobs/b","eventTime":"2030-01-01T00:00:00Z"}""")]
    public async Task MalformedMessage_IsLoggedWithTheReasonAndThrownToThePoisonQueue(string message)
    {
        var host = new TriggerHost();

        await Assert.ThrowsAsync<FormatException>(() => host.Events.OnBlobEventAsync(message, host.Durable.Client, CancellationToken.None));

        Assert.Empty(host.Durable.Started);
        Assert.Contains(
            host.Logged, l => l.StartsWith("Error:", StringComparison.Ordinal) && l.Contains("poison", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BlobEventWithABadSubject_IsMalformed()
    {
        var host = new TriggerHost();
        var message = BlobCreated()
            .Replace("/blobServices/default/containers/gardien-mri-raw/blobs/", "/not-a-blob-path/", StringComparison.Ordinal);

        var error = await Assert.ThrowsAsync<FormatException>(
            () => host.Events.OnBlobEventAsync(message, host.Durable.Client, CancellationToken.None));

        Assert.Contains("subject", error.Message, StringComparison.Ordinal);
        Assert.Empty(host.Durable.Started);
    }

    [Fact]
    public async Task UnknownEventType_IsAcknowledgedWithoutStartingAnything()
    {
        var host = new TriggerHost();
        var tierChanged = BlobCreated()
            .Replace("Microsoft.Storage.BlobCreated", "Microsoft.Storage.BlobTierChanged", StringComparison.Ordinal);

        await host.Events.OnBlobEventAsync(tierChanged, host.Durable.Client, CancellationToken.None);
        await host.Events.OnDmpEventAsync(BlobDeletedCloudEvent, host.Durable.Client, CancellationToken.None);

        Assert.Empty(host.Durable.Started);
        Assert.Equal(2, host.Logged.Count(l => l.Contains("acknowledged without action", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DmpSubmitted_WithTheDocument_StartsTheIntakeOnce()
    {
        var host = new TriggerHost();
        var dmp = IntakeTestDmps.Json();

        await host.Events.OnDmpEventAsync(DmpSubmitted(dmp), host.Durable.Client, CancellationToken.None);
        await host.Events.OnDmpEventAsync(DmpSubmitted(dmp, "evt-dmp-1-redelivered"), host.Durable.Client, CancellationToken.None);

        var (id, started) = Assert.Single(host.Durable.Started);
        Assert.Equal(IntakeDmpWorkflow.InstanceIdFor(IntakeTestDmps.DmpId), id);
        Assert.Equal(nameof(IntakeDmpWorkflow), started.Name);
        var input = Assert.IsType<IntakeDmpInput>(started.Input);
        Assert.Equal(IntakeTestDmps.DmpId, input.DmpId);
        Assert.Equal(JsonDocument.Parse(dmp).RootElement.GetRawText(), JsonDocument.Parse(input.DmpJson!).RootElement.GetRawText());
    }

    [Fact]
    public async Task DmpUpdated_Reference_ForAGovernedDmp_StartsAnUpdate_AndAnOlderVersionIsDropped()
    {
        var host = new TriggerHost();
        host.Fakes.Dmps[IntakeTestDmps.DmpId] = new DmpRecord
        {
            DmpId = IntakeTestDmps.DmpId,
            State = DmpState.Active,
            Modified = IntakeTestDmps.V1,
        };
        string Reference(DateTimeOffset modified, string id) =>
            DmpSubmitted($$"""{"dmpId":"{{IntakeTestDmps.DmpId}}","modified":"{{modified:O}}"}""", id)
                .Replace(DmpCloudEvents.Submitted, DmpCloudEvents.Updated, StringComparison.Ordinal);

        await host.Events.OnDmpEventAsync(Reference(IntakeTestDmps.V2, "e2"), host.Durable.Client, CancellationToken.None);
        await host.Events.OnDmpEventAsync(Reference(IntakeTestDmps.V1.AddDays(-1), "e0"), host.Durable.Client, CancellationToken.None);

        var (id, started) = Assert.Single(host.Durable.Started);
        Assert.Equal(nameof(UpdateDmpWorkflow), started.Name);
        Assert.Equal(UpdateDmpWorkflow.InstanceIdFor(IntakeTestDmps.DmpId, IntakeTestDmps.V2), id);
    }

    [Theory]
    [InlineData("""{"title":"no id"}""", "/data/dmpId")]
    [InlineData("""{"dmp":{"title":"no id"}}""", "/data/dmp/dmp_id/identifier")]
    [InlineData("""{"dmpId":"https://doi.org/10.1/x","modified":"yesterday"}""", "/data/modified")]
    [InlineData("\"just text\"", "/data")]
    public async Task DmpEvent_WithUnusableData_NamesTheJsonPath(string data, string path)
    {
        var host = new TriggerHost();

        var error = await Assert.ThrowsAsync<FormatException>(
            () => host.Events.OnDmpEventAsync(DmpSubmitted(data), host.Durable.Client, CancellationToken.None));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Empty(host.Durable.Started);
    }

    [Fact]
    public async Task PollerPublishedEvents_AsEventGridQueuesThem_StartTheIntakeAndTheUpdate()
    {
        var host = new TriggerHost();
        const string governed = "https://doi.org/10.5281/zenodo.governed";
        host.Fakes.Dmps[governed] = new DmpRecord { DmpId = governed, State = DmpState.Active, Modified = IntakeTestDmps.V1 };
        var submitted = new DmpChange("opidor", IntakeTestDmps.DmpId, "4242", IntakeTestDmps.V1, DmpChangeKind.Submitted);
        var updated = new DmpChange("opidor", governed, "4243", IntakeTestDmps.V2, DmpChangeKind.Updated);

        // The publisher's own CloudEvents, serialized as Event Grid writes them into the queue (one JSON event per message).
        foreach (var change in new[] { submitted, updated })
        {
            var message = JsonSerializer.Serialize(EventGridDmpChangePublisher.ToCloudEvent(change));
            await host.Events.OnDmpEventAsync(message, host.Durable.Client, CancellationToken.None);
        }

        Assert.Equal(2, host.Durable.Started.Count);
        var intake = host.Durable.Started[IntakeDmpWorkflow.InstanceIdFor(IntakeTestDmps.DmpId)];
        Assert.Equal(nameof(IntakeDmpWorkflow), intake.Name);
        Assert.Equal(IntakeTestDmps.DmpId, Assert.IsType<IntakeDmpInput>(intake.Input).DmpId);
        var update = host.Durable.Started[UpdateDmpWorkflow.InstanceIdFor(governed, IntakeTestDmps.V2)];
        Assert.Equal(nameof(UpdateDmpWorkflow), update.Name);
        Assert.DoesNotContain(host.Logged, l => l.Contains("acknowledged without action", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PollerPublishedChanges_InTheEventGridSchemaToo_AreRead()
    {
        var host = new TriggerHost();
        const string other = "https://doi.org/10.5281/zenodo.other";
        var first = new DmpChange("damap", IntakeTestDmps.DmpId, null, IntakeTestDmps.V1, DmpChangeKind.Submitted);
        var second = new DmpChange("damap", other, null, IntakeTestDmps.V1, DmpChangeKind.Submitted);
        var gridEvent = new EventGridEvent(first.DmpId, first.EventType, "1.0", EventGridDmpChangePublisher.ToCloudEvent(first).Data!)
        {
            Id = first.EventId,
        };

        await host.Events.OnDmpEventAsync(JsonSerializer.Serialize(new[] { gridEvent }), host.Durable.Client, CancellationToken.None);
        await host.Events.OnDmpEventAsync(
            JsonSerializer.Serialize(EventGridDmpChangePublisher.ToCloudEvent(second)), host.Durable.Client, CancellationToken.None);

        Assert.Equal(
            new[] { IntakeDmpWorkflow.InstanceIdFor(other), IntakeDmpWorkflow.InstanceIdFor(IntakeTestDmps.DmpId) }.Order(
                StringComparer.Ordinal),
            host.Durable.Started.Keys.Order(StringComparer.Ordinal));
        Assert.All(host.Durable.Started.Values, s => Assert.Equal(nameof(IntakeDmpWorkflow), s.Name));
    }
}
