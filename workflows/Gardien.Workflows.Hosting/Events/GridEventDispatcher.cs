using Gardien.Runtime;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Hosting.Events;

/// <summary>What became of one event.</summary>
public enum GridEventOutcome
{
    /// <summary>A blob event started (or joined) its <see cref="HandleBlobEventWorkflow"/>.</summary>
    Started,

    /// <summary>A DMP event went through <see cref="DmpEventRouter"/> (see the message for what the router decided).</summary>
    Routed,

    /// <summary>Not an event this handler acts on: acknowledged, nothing done.</summary>
    Ignored,
}

/// <param name="Message">What happened, safe to log or show to the sender.</param>
public sealed record GridEventHandled(string EventId, string EventType, GridEventOutcome Outcome, string? InstanceId, string Message);

/// <summary>
/// The one handling of Event Grid events, whoever received them: the Functions app's queue triggers, the local
/// service's <c>POST /api/events</c> and its blob watcher. Blob events start <see cref="HandleBlobEventWorkflow"/> under
/// an id derived from the event id, so a duplicate joins the first; DMP events go through <see cref="DmpEventRouter"/>,
/// which orders versions. Events of other types are acknowledged and ignored. A malformed event of a handled type is a
/// <see cref="FormatException"/> naming what is wrong (queue hosts let the message go to its poison queue).
/// </summary>
public sealed class GridEventDispatcher(IWorkflowClient client, IGovernanceRegistry registry)
{
    private readonly DmpEventRouter _router = new(client, registry);

    /// <summary>True for the storage events <see cref="HandleBlobEventAsync"/> acts on.</summary>
    public static bool IsBlobEvent(string type) => type is BlobEventInput.BlobCreatedType or BlobEventInput.BlobDeletedType;

    /// <summary>Any handled event: blob events and DMP events by type, anything else ignored.</summary>
    public Task<GridEventHandled> HandleAsync(GridEvent gridEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gridEvent);
        return IsBlobEvent(gridEvent.Type) ? HandleBlobEventAsync(gridEvent, cancellationToken)
            : DmpCloudEvents.IsDmpEvent(gridEvent.Type) ? HandleDmpEventAsync(gridEvent, cancellationToken)
            : Task.FromResult(Ignored(gridEvent, "only blob created/deleted and DMP created/updated events are handled"));
    }

    /// <summary>A research-data blob event; other types are ignored.</summary>
    public async Task<GridEventHandled> HandleBlobEventAsync(GridEvent gridEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gridEvent);
        if (!IsBlobEvent(gridEvent.Type))
        {
            return Ignored(gridEvent, "only blob created and deleted events are handled");
        }

        var input = BlobEventInput.FromEventGrid(
            gridEvent.Id, gridEvent.Type, gridEvent.Subject ?? string.Empty, gridEvent.Time, gridEvent.Data);
        var instanceId = HandleBlobEventWorkflow.InstanceIdFor(input.EventId);
        if (!await ExistsAsync(instanceId, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await client.ScheduleNewAsync(nameof(HandleBlobEventWorkflow), input, instanceId,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A concurrent duplicate may win the create race; the instance then exists, which is the goal.
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                if (!await ExistsAsync(instanceId, cancellationToken).ConfigureAwait(false))
                {
                    throw;
                }
            }
        }

        return new GridEventHandled(gridEvent.Id, gridEvent.Type, GridEventOutcome.Started, instanceId,
            $"{gridEvent.Type} {input.Container}/{input.BlobName} is handled by {instanceId}");
    }

    /// <summary>A DMP-tool event; other types are ignored.</summary>
    public async Task<GridEventHandled> HandleDmpEventAsync(GridEvent gridEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gridEvent);
        if (!DmpCloudEvents.IsDmpEvent(gridEvent.Type))
        {
            return Ignored(gridEvent, "only DMP created and updated events are handled");
        }

        var dmpEvent = DmpCloudEvents.ToDmpEvent(gridEvent);
        var routed = await _router.RouteAsync(dmpEvent, cancellationToken).ConfigureAwait(false);
        return new GridEventHandled(gridEvent.Id, gridEvent.Type, GridEventOutcome.Routed, routed.InstanceId,
            $"{dmpEvent.DmpId}: {routed.Outcome} ({routed.Reason})");
    }

    private async Task<bool> ExistsAsync(string instanceId, CancellationToken cancellationToken) =>
        await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false,
            cancellationToken: cancellationToken).ConfigureAwait(false) is not null;

    private static GridEventHandled Ignored(GridEvent gridEvent, string why) =>
        new(gridEvent.Id, gridEvent.Type, GridEventOutcome.Ignored, null,
            $"event type {gridEvent.Type} acknowledged without action: {why}");
}
