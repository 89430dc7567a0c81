using System.Text.Json;
using Gardien.Azure.EventGrid;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace Gardien.Functions.Tests.Triggers;

public sealed class DmpPollingFunctionsTests
{
    [Fact]
    public async Task PollTimer_PublishesEachNewVersionOnce_AndTheQueueTriggerStartsItsIntake()
    {
        var host = new TriggerHost();
        var listed = new List<DmpSummary> { new(IntakeTestDmps.DmpId, IntakeTestDmps.V1) { ToolId = "4242" } };
        var tool = new Mock<IDmpToolClient>();
        tool.Setup(t => t.ListDmpsAsync(It.IsAny<DateTimeOffset?>(), It.IsAny<CancellationToken>())).ReturnsAsync(() => [.. listed]);
        var queue = new QueuePublisher();
        var poller = new DmpToolPoller(
            [new DmpToolSource("opidor", tool.Object)], queue, new MemoryCheckpoints(), host.Fakes.Registry.Object);
        var timer = new DmpPollingFunctions(poller, NullLogger<DmpPollingFunctions>.Instance);

        await timer.PollAsync(null!, CancellationToken.None);
        await timer.PollAsync(null!, CancellationToken.None);
        listed.Add(new DmpSummary("https://doi.org/10.5281/zenodo.second", IntakeTestDmps.V2));
        await timer.PollAsync(null!, CancellationToken.None);
        foreach (var message in queue.Messages)
        {
            await host.Events.OnDmpEventAsync(message, host.Durable.Client, CancellationToken.None);
        }

        Assert.Equal(2, queue.Messages.Count);
        Assert.Equal(
            new[]
            {
                IntakeDmpWorkflow.InstanceIdFor(IntakeTestDmps.DmpId),
                IntakeDmpWorkflow.InstanceIdFor("https://doi.org/10.5281/zenodo.second"),
            }.Order(StringComparer.Ordinal),
            host.Durable.Started.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("4242", JsonDocument.Parse(queue.Messages[0]).RootElement.GetProperty("data").GetProperty("id").GetString());
    }

    /// <summary>The Event Grid topic and its queue subscription in one: each change becomes the queue message Event Grid writes.</summary>
    private sealed class QueuePublisher : IDmpChangePublisher
    {
        public List<string> Messages { get; } = [];

        public Task PublishAsync(IReadOnlyList<DmpChange> changes, CancellationToken cancellationToken = default)
        {
            Messages.AddRange(changes.Select(c => JsonSerializer.Serialize(EventGridDmpChangePublisher.ToCloudEvent(c))));
            return Task.CompletedTask;
        }
    }

    private sealed class MemoryCheckpoints : IDmpPollCheckpointStore
    {
        private readonly Dictionary<string, DmpPollCheckpoint> _saved = [];

        public Task<DmpPollCheckpoint?> GetAsync(string tool, CancellationToken cancellationToken = default) =>
            Task.FromResult(_saved.GetValueOrDefault(tool));

        public Task<DmpPollCheckpoint> SaveAsync(DmpPollCheckpoint checkpoint, CancellationToken cancellationToken = default)
        {
            var saved = checkpoint with { ETag = Guid.NewGuid().ToString("N") };
            _saved[checkpoint.Tool] = saved;
            return Task.FromResult(saved);
        }
    }
}
