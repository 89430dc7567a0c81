using Gardien.Functions.Durable;
using Gardien.Workflows.Hosting.Events;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Gardien.Functions.Events;

/// <summary>
/// Event Grid deliveries, through storage queues (<see cref="BlobEventsQueue"/>, <see cref="DmpEventsQueue"/>) read
/// over the host storage connection, handed to <see cref="GridEventDispatcher"/> (the same handling as the local
/// service's <c>POST /api/events</c>): each event starts its idempotent workflow, so a duplicate or late event joins or
/// is dropped by the workflows themselves. Unknown event types are acknowledged; a malformed message throws, so the
/// queue retries it and then moves it to its poison queue.
/// </summary>
public sealed class EventQueueFunctions(DurableWorkflowHost host, ILogger<EventQueueFunctions> logger)
{
    /// <summary>Research-data blob events (BlobCreated, BlobDeleted), Event Grid or CloudEvents schema.</summary>
    public const string BlobEventsQueue = "gardien-blob-events";

    /// <summary>DMP-tool CloudEvents (<see cref="DmpCloudEvents"/>).</summary>
    public const string DmpEventsQueue = "gardien-dmp-events";

    /// <summary>The identity-based host storage connection (<c>AzureWebJobsStorage__queueServiceUri</c> and credential).</summary>
    public const string Connection = "AzureWebJobsStorage";

    [Function("OnBlobEvent")]
    public Task OnBlobEventAsync(
        [QueueTrigger(BlobEventsQueue, Connection = Connection)] string message,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        HandleAsync(message, BlobEventsQueue, client, (dispatcher, e) => dispatcher.HandleBlobEventAsync(e, cancellationToken));

    [Function("OnDmpEvent")]
    public Task OnDmpEventAsync(
        [QueueTrigger(DmpEventsQueue, Connection = Connection)] string message,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        HandleAsync(message, DmpEventsQueue, client, (dispatcher, e) => dispatcher.HandleDmpEventAsync(e, cancellationToken));

    private async Task HandleAsync(
        string message, string queue, DurableTaskClient client, Func<GridEventDispatcher, GridEvent, Task<GridEventHandled>> handle)
    {
        var dispatcher = host.Create<GridEventDispatcher>(host.CreateClient(client));
        foreach (var gridEvent in Parse(message, queue))
        {
            GridEventHandled handled;
            try
            {
                handled = await handle(dispatcher, gridEvent).ConfigureAwait(false);
            }
            catch (FormatException ex)
            {
                logger.LogError(
                    "Event {EventId} of queue {Queue} is malformed and goes to the poison queue: {Reason}", gridEvent.Id, queue,
                        ex.Message);
                throw;
            }

            logger.LogInformation(
                "Event {EventId} of queue {Queue}: {Outcome} {InstanceId} ({Message}).",
                handled.EventId, queue, handled.Outcome, handled.InstanceId, handled.Message);
        }
    }

    private IReadOnlyList<GridEvent> Parse(string message, string queue)
    {
        try
        {
            return EventGridMessages.Parse(message);
        }
        catch (FormatException ex)
        {
            logger.LogError("A message of queue {Queue} is malformed and goes to the poison queue: {Reason}", queue, ex.Message);
            throw;
        }
    }
}
