using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Messaging.EventGrid;
using Gardien.Azure.EventGrid;
using Gardien.Azure.Tests.Fakes;
using Gardien.Testing;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Ports;
using Moq;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests.EventGrid;

/// <summary>The poller end to end: a tool, the Event Grid client against a fake topic (HTTPS), checkpoints in Azurite tables.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DmpToolPollerTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly Loopback _topic = Loopback.Https();
    private readonly AzuriteFixture _azurite;
    private readonly string _table = "poll" + Guid.NewGuid().ToString("N")[..12];
    private readonly ListedTool _tool = new();
    private readonly Mock<IGovernanceRegistry> _registry = new(MockBehavior.Strict);

    public DmpToolPollerTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
        _registry.Setup(r => r.GetDmpAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(
                (string id, CancellationToken _) => id == "doi:governed" ? new DmpRecord { DmpId = id, State = DmpState.Active } : null);
    }

    public void Dispose() => _topic.Dispose();

    /// <summary>A new poller with new clients each time, as after a process restart: only the table carries state.</summary>
    private DmpToolPoller Poller(int batchSize = 50, int maxRetries = 1)
    {
        var options = new EventGridPublisherClientOptions { Transport = _topic.Transport };
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        var publisher = new EventGridDmpChangePublisher(
            new EventGridPublisherClient(new Uri(_topic.Uri, "api/events"), new FixedTokenCredential(), options));
        var store = new TableDmpPollCheckpointStore(new TableClient(_azurite.ConnectionString, _table));
        return new DmpToolPoller(
            [new DmpToolSource("damap", _tool)],
            publisher,
            store,
            _registry.Object,
            new DmpToolPollerOptions { BatchSize = batchSize, Overlap = TimeSpan.FromMinutes(10) });
    }

    private void TopicAnswers(int status, string? state = null, string? next = null)
    {
        var given = _topic.Server.Given(Request.Create().WithPath("/api/events").UsingPost());
        var response = Response.Create().WithStatusCode(status);
        if (state is null && next is null)
        {
            given.RespondWith(response);
            return;
        }

        var scenario = given.InScenario("topic");
        var when = state is null ? scenario : scenario.WhenStateIs(state);
        (next is null ? when : when.WillSetStateTo(next)).RespondWith(response);
    }

    private List<JsonObject> PublishedEvents() =>
        [.. _topic.Log.Where(r => r.RequestMessage.Method == "POST" && r.ResponseMessage.StatusCode is 200)
            .SelectMany(r => JsonNode.Parse(r.RequestMessage.Body!)!.AsArray().OfType<JsonObject>())];

    [Fact]
    public async Task Poll_PublishesOneCloudEventPerNewVersion_AReferenceNeverTheDocument()
    {
        TopicAnswers(200);
        _tool.Add("doi:new", T0, "11");
        _tool.Add("doi:governed", T0.AddMinutes(5), "12");

        var result = Assert.Single(await Poller().PollAsync());

        Assert.Null(result.Error);
        var request = Assert.Single(_topic.Log).RequestMessage;
        Assert.Equal("Bearer test-token", request.Headers!["Authorization"].Single());
        Assert.StartsWith("application/cloudevents-batch+json", request.Headers!["Content-Type"].Single(), StringComparison.Ordinal);
        var events = PublishedEvents();
        Assert.Equal(
            ["Gardien.Dmp.Submitted:doi:new", "Gardien.Dmp.Updated:doi:governed"], events.Select(e => $"{e["type"]}:{e["subject"]}"));
        var first = events[0];
        Assert.Equal("1.0", first["specversion"]!.GetValue<string>());
        Assert.Equal("/gardien/dmp-tools/damap", first["source"]!.GetValue<string>());
        Assert.Equal(new DmpChange("damap", "doi:new", "11", T0, DmpChangeKind.Submitted).EventId, first["id"]!.GetValue<string>());
        var data = first["data"]!.AsObject();
        Assert.Equal(["tool", "id", "dmpId", "modified"], data.Select(p => p.Key));
        Assert.Equal(
            ("damap", "11", "doi:new"),
            (data["tool"]!.GetValue<string>(), data["id"]!.GetValue<string>(), data["dmpId"]!.GetValue<string>()));
        Assert.Equal(T0, data["modified"]!.GetValue<DateTimeOffset>());
        Assert.Equal(T0.AddMinutes(5), result.Watermark);
    }

    [Fact]
    public async Task Poll_AfterARestart_PublishesOnlyNewVersions()
    {
        TopicAnswers(200);
        _tool.Add("doi:a", T0, "1");
        _tool.Add("doi:b", T0.AddMinutes(1), "2");
        await Poller().PollAsync();

        _tool.Add("doi:a", T0.AddHours(1), "1");
        var second = Assert.Single(await Poller().PollAsync());
        var third = Assert.Single(await Poller().PollAsync());

        Assert.Equal(["doi:a"], second.Published.Select(c => c.DmpId));
        Assert.Equal(T0.AddHours(1), second.Published[0].Modified);
        Assert.Empty(third.Published);
        Assert.Equal(3, PublishedEvents().Count);
        Assert.Equal(
            _tool.Queries.Skip(1).Select(q => q), [T0.AddMinutes(1) - TimeSpan.FromMinutes(10), T0.AddHours(1) - TimeSpan.FromMinutes(10)]);
    }

    [Fact]
    public async Task Poll_PublishFailure_KeepsTheCheckpointBeforeTheFailedBatch_NothingIsSkipped()
    {
        TopicAnswers(200, state: null, next: "down");
        TopicAnswers(503, state: "down", next: "down");
        _tool.Add("doi:a", T0, "1");
        _tool.Add("doi:b", T0.AddMinutes(1), "2");
        _tool.Add("doi:c", T0.AddMinutes(2), "3");

        var failed = Assert.Single(await Poller(batchSize: 1).PollAsync());
        _topic.Server.Reset();
        TopicAnswers(200);
        var recovered = Assert.Single(await Poller(batchSize: 1).PollAsync());

        Assert.NotNull(failed.Error);
        Assert.Equal(["doi:a"], failed.Published.Select(c => c.DmpId));
        Assert.Equal(T0, failed.Watermark);
        Assert.Null(recovered.Error);
        Assert.Equal(["doi:b", "doi:c"], recovered.Published.Select(c => c.DmpId));
        Assert.Equal(T0.AddMinutes(2), recovered.Watermark);
    }

    [Fact]
    public async Task Poll_VersionListedLateWithinTheOverlap_IsStillPublished()
    {
        TopicAnswers(200);
        _tool.Add("doi:a", T0.AddMinutes(5), "1");
        await Poller().PollAsync();

        _tool.Add("doi:late", T0.AddMinutes(3), "9");
        var result = Assert.Single(await Poller().PollAsync());

        Assert.Equal(["doi:late"], result.Published.Select(c => c.DmpId));
        Assert.Equal(T0.AddMinutes(5), result.Watermark);
    }

    [Fact]
    public async Task Poll_TopicRefusesTheIdentity_ReportsTheRoleToGrant_AndKeepsNoCheckpoint()
    {
        TopicAnswers(403);
        _tool.Add("doi:a", T0, "1");

        var result = Assert.Single(await Poller().PollAsync());

        Assert.Contains("EventGrid Data Sender", result.Error, StringComparison.Ordinal);
        Assert.Null(result.Watermark);
    }

    [Fact]
    public async Task Poll_DmpWithoutModified_IsReportedNotPublished()
    {
        TopicAnswers(200);
        _tool.Summaries.Add(new DmpSummary("doi:undated", null));

        var result = Assert.Single(await Poller().PollAsync());

        Assert.Empty(result.Published);
        Assert.Contains(result.Skipped, s => s.StartsWith("doi:undated", StringComparison.Ordinal));
        Assert.Empty(_topic.Log);
    }

    [Fact]
    public async Task CheckpointStore_MovedByAnotherPoller_IsAConflict()
    {
        var store = new TableDmpPollCheckpointStore(new TableClient(_azurite.ConnectionString, _table));
        var saved = await store.SaveAsync(new DmpPollCheckpoint("damap", T0, []));
        await store.SaveAsync(saved with { Watermark = T0.AddMinutes(1) });

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => store.SaveAsync(saved with { Watermark = T0.AddMinutes(2) }));
        Assert.Equal(T0.AddMinutes(1), (await store.GetAsync("damap"))!.Watermark);
    }

    /// <summary>A tool whose listing honours modified_after as the Common maDMP API does (strictly after).</summary>
    private sealed class ListedTool : IDmpToolClient
    {
        public List<DmpSummary> Summaries { get; } = [];

        public List<DateTimeOffset?> Queries { get; } = [];

        public void Add(string dmpId, DateTimeOffset modified, string toolId)
        {
            Summaries.RemoveAll(s => s.DmpId == dmpId);
            Summaries.Add(new DmpSummary(dmpId, modified) { ToolId = toolId });
        }

        public Task<IReadOnlyList<DmpSummary>> ListDmpsAsync(DateTimeOffset? modifiedAfter, CancellationToken cancellationToken = default)
        {
            Queries.Add(modifiedAfter);
            return Task.FromResult<IReadOnlyList<DmpSummary>>(
                [.. Summaries.Where(s => modifiedAfter is null || s.Modified is null || s.Modified > modifiedAfter)]);
        }

        public Task<FetchedDmp?> FetchDmpAsync(string dmpId, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The poller never fetches documents.");

        public Task<OperationResult> WriteBackAsync(string dmpId, DmpWriteBack writeBack, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The poller never writes back.");
    }
}
