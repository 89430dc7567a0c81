using Gardien.Functions.Durable;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Gardien.Functions.Events;

/// <summary>
/// Event Grid deliveries, through storage queues (<see cref="BlobEventsQueue"/>, <see cref="DmpEventsQueue"/>) read
/// over the host storage connection. Each event starts its idempotent workflow: a duplicate or late event joins or is
/// dropped by the workflows themselves. Unknown event types are acknowledged; a malformed message throws, so the
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
    public async Task OnBlobEventAsync([QueueTrigger(BlobEventsQueue, Connection = Connection)] string message, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        var workflows = host.CreateClient(client);
        foreach (var gridEvent in Parse(message, BlobEventsQueue))
        {
            if (gridEvent.Type is not (BlobEventInput.BlobCreatedType or BlobEventInput.BlobDeletedType))
            {
                logger.LogInformation("Blob event {EventId} of type {EventType} acknowledged without action: only blob created and deleted events are handled.", gridEvent.Id, gridEvent.Type);
                continue;
            }

            BlobEventInput input;
            try
            {
                input = BlobEventInput.FromEventGrid(gridEvent.Id, gridEvent.Type, gridEvent.Subject ?? string.Empty, gridEvent.Time, gridEvent.Data);
            }
            catch (FormatException ex)
            {
                logger.LogError("Blob event {EventId} is malformed and goes to the poison queue: {Reason}", gridEvent.Id, ex.Message);
                throw;
            }

            var instanceId = await workflows.ScheduleNewAsync(nameof(HandleBlobEventWorkflow), input, HandleBlobEventWorkflow.InstanceIdFor(input.EventId), cancellationToken: cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Blob event {EventId} ({EventType} {Container}/{Blob}) handled by {InstanceId}.", input.EventId, gridEvent.Type, input.Container, input.BlobName, instanceId);
        }
    }

    [Function("OnDmpEvent")]
    public async Task OnDmpEventAsync([QueueTrigger(DmpEventsQueue, Connection = Connection)] string message, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        var router = host.Create<DmpEventRouter>(host.CreateClient(client));
        foreach (var gridEvent in Parse(message, DmpEventsQueue))
        {
            if (!DmpCloudEvents.IsDmpEvent(gridEvent.Type))
            {
                logger.LogInformation(
                    "DMP event {EventId} of type {EventType} acknowledged without action: only {Submitted} and {Updated} are handled.",
                    gridEvent.Id, gridEvent.Type, DmpCloudEvents.Submitted, DmpCloudEvents.Updated);
                continue;
            }

            DmpEvent dmpEvent;
            try
            {
                dmpEvent = DmpCloudEvents.ToDmpEvent(gridEvent);
            }
            catch (FormatException ex)
            {
                logger.LogError("DMP event {EventId} is malformed and goes to the poison queue: {Reason}", gridEvent.Id, ex.Message);
                throw;
            }

            var routed = await router.RouteAsync(dmpEvent, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("DMP event {EventId} for {DmpId}: {Route} {InstanceId} ({Reason}).", gridEvent.Id, dmpEvent.DmpId, routed.Route, routed.InstanceId, routed.Reason);
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
