using System.Text.Json;
using Azure;
using Azure.Messaging;
using Azure.Messaging.EventGrid;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.EventGrid;

/// <summary>
/// Publishes DMP changes to the Event Grid custom topic as CloudEvents 1.0 (<see cref="EventGridPublisherClient"/> with
/// the managed identity; the identity holds EventGrid Data Sender on the topic): type <c>Gardien.Dmp.Submitted</c> or
/// <c>Gardien.Dmp.Updated</c>, subject the dmp_id, id stable per version, data a <see cref="DmpChangeReference"/>, never
/// the DMP itself. One call per batch, which Event Grid accepts or refuses whole.
/// </summary>
public sealed class EventGridDmpChangePublisher(EventGridPublisherClient client) : IDmpChangePublisher
{
    /// <summary>camelCase, as CloudEvents data usually is; consumers read it back with the same options.</summary>
    public static readonly JsonSerializerOptions DataJson = new(JsonSerializerDefaults.Web);

    public async Task PublishAsync(IReadOnlyList<DmpChange> changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count == 0)
        {
            return;
        }

        var events = changes.Select(ToCloudEvent).ToList();
        try
        {
            await client.SendEventsAsync(events, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 401 or 403)
        {
            throw new PortRefusedException(
                $"Event Grid refused the DMP change events (status {ex.Status}, {ex.ErrorCode}): "
                + "the app identity needs EventGrid Data Sender on the DMP topic (EventGrid__DmpTopicEndpoint).",
                ex);
        }
        catch (RequestFailedException ex)
        {
            throw new PortException(
                $"Event Grid did not accept {events.Count} DMP change events (status {ex.Status}, {ex.ErrorCode}); "
                + "they will be published again.",
                isTransient: true,
                ex);
        }
    }

    /// <summary>The CloudEvent of one change (also what consumers parse back into a <see cref="DmpChangeReference"/>).</summary>
    public static CloudEvent ToCloudEvent(DmpChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var data = BinaryData.FromObjectAsJson(change.Reference, DataJson);
        return new CloudEvent(change.Source, change.EventType, data, "application/json", CloudEventDataFormat.Json)
        {
            Id = change.EventId,
            Subject = change.DmpId,
            Time = change.Modified,
        };
    }
}
