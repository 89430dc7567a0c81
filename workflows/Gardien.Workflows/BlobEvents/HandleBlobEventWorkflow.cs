using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;

namespace Gardien.Workflows.BlobEvents;

public enum BlobEventKind
{
    Created,
    Deleted,
}

/// <summary>
/// A storage event, already translated from Event Grid (<see cref="FromEventGrid(JsonElement)"/>): hosts only translate
/// and start <see cref="HandleBlobEventWorkflow"/> with <see cref="HandleBlobEventWorkflow.InstanceIdFor"/>.
/// </summary>
/// <param name="EventId">Event Grid's event id: the deduplication key.</param>
public sealed record BlobEventInput(
    string EventId,
    BlobEventKind Kind,
    string Container,
    string BlobName,
    string? ETag,
    long? ContentLength,
    DateTimeOffset EventTime,
    string? Api = null)
{
    public const string BlobCreatedType = "Microsoft.Storage.BlobCreated";
    public const string BlobDeletedType = "Microsoft.Storage.BlobDeleted";
    private const string SubjectPrefix = "/blobServices/default/containers/";
    private const string BlobsSegment = "/blobs/";

    /// <summary>
    /// Maps one Event Grid event (Event Grid schema: id, eventType, subject, eventTime, data; or CloudEvents: id, type,
    /// subject, time, data). Throws <see cref="FormatException"/> saying what is wrong for anything else.
    /// </summary>
    public static BlobEventInput FromEventGrid(JsonElement gridEvent)
    {
        if (gridEvent.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("An Event Grid event must be a JSON object.");
        }

        var id = String(gridEvent, "id") ?? throw new FormatException("The event has no 'id'.");
        var type = String(gridEvent, "eventType") ?? String(gridEvent, "type")
            ?? throw new FormatException($"Event '{id}' has no 'eventType' (or CloudEvents 'type').");
        var subject = String(gridEvent, "subject") ?? throw new FormatException($"Event '{id}' has no 'subject'.");
        var timeText = String(gridEvent, "eventTime") ?? String(gridEvent, "time");
        var time = timeText is not null
            && DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : DateTimeOffset.MinValue;
        var data = gridEvent.TryGetProperty("data", out var d) ? d : default;
        return FromEventGrid(id, type, subject, time, data);
    }

    /// <summary>Maps the parts of an Event Grid event (e.g. from <c>Azure.Messaging.EventGrid.EventGridEvent</c>).</summary>
    public static BlobEventInput FromEventGrid(string id, string eventType, string subject, DateTimeOffset eventTime, JsonElement data)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(eventType);
        ArgumentNullException.ThrowIfNull(subject);
        var kind = eventType switch
        {
            BlobCreatedType => BlobEventKind.Created,
            BlobDeletedType => BlobEventKind.Deleted,
            _ => throw new FormatException(
                $"Event '{id}' has type '{eventType}'; only {BlobCreatedType} and {BlobDeletedType} are handled."),
        };
        var (container, blob) = ParseSubject(subject)
            ?? throw new FormatException(
                $"Event '{id}' has subject '{subject}'; expected '{SubjectPrefix}{{container}}{BlobsSegment}{{blob name}}'.");
        var hasData = data.ValueKind == JsonValueKind.Object;
        var etag = hasData ? String(data, "eTag") : null;
        long? length = hasData && data.TryGetProperty("contentLength", out var l) && l.ValueKind == JsonValueKind.Number
            && l.TryGetInt64(out var n)
                ? n
                : null;
        var api = hasData ? String(data, "api") : null;
        return new BlobEventInput(id, kind, container, blob, etag, length, eventTime, api);
    }

    /// <summary>
    /// (container, blob name) from "/blobServices/default/containers/{c}/blobs/{name}" (the name may contain '/'), or null.
    /// </summary>
    public static (string Container, string BlobName)? ParseSubject(string subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (!subject.StartsWith(SubjectPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = subject[SubjectPrefix.Length..];
        var at = rest.IndexOf(BlobsSegment, StringComparison.Ordinal);
        if (at <= 0 || at + BlobsSegment.Length >= rest.Length)
        {
            return null;
        }

        return (rest[..at], rest[(at + BlobsSegment.Length)..]);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

public enum BlobEventOutcome
{
    /// <summary>Already processed (Event Grid redelivery): nothing done.</summary>
    Duplicate,

    /// <summary>A system container (audit, engine storage).</summary>
    Ignored,

    /// <summary>A governed blob was tagged (and checked).</summary>
    Tagged,

    /// <summary>The blob was gone before its creation event was handled (out-of-order delivery): nothing to do.</summary>
    BlobGone,

    /// <summary>A blob appeared in a container no plan knows: reported.</summary>
    UnknownContainer,

    /// <summary>A deletion that is part of a disposal (the dataset is marked for deletion or disposed).</summary>
    DeletedByDisposal,

    /// <summary>A deletion outside any disposal: audit alert.</summary>
    DeletedOutsideDisposal,
}

/// <param name="Alerts">What was flagged: "unknown-container", "quota-exceeded", "open-before-embargo", "write-to-disposed-dataset",
/// "deleted-outside-disposal".</param>
public sealed record BlobEventResult(BlobEventOutcome Outcome, IReadOnlyList<string> Alerts, string? DmpId = null, string? DatasetId = null)
{
    /// <summary>Alerts that could not be delivered (each audited; the event was handled all the same).</summary>
    public IReadOnlyList<NotificationFailure> UndeliveredNotifications { get; init; } = [];
}

/// <summary>
/// Handles one blob event. Event Grid delivers at least once and in no particular order: the instance id derives from
/// the event id (a duplicate delivery joins the same instance) and the registry's processed-event set catches
/// duplicates across instance purges. BlobCreated in a governed container: index tags (dmp id, dataset id, keep-until),
/// quota and embargo checks; in a container no plan knows: reported. BlobDeleted outside a disposal: audit alert.
/// A workflow rather than a plain handler so that every step is retried durably and the alerts are never lost.
/// </summary>
public sealed class HandleBlobEventWorkflow : Workflow<BlobEventInput, BlobEventResult>
{
    public static string InstanceIdFor(string eventId)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        return "blob-event-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId)))[..32];
    }

    public override async Task<BlobEventResult> RunAsync(WorkflowContext context, BlobEventInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var analysis = await context.AnalyzeBlobEventAsync(new AnalyzeBlobEventInput(input, context.Today()));
        if (analysis.Duplicate)
        {
            return new BlobEventResult(BlobEventOutcome.Duplicate, []);
        }

        var alerts = new List<string>();
        BlobEventResult result;
        if (analysis.Ignored)
        {
            result = new BlobEventResult(BlobEventOutcome.Ignored, []);
        }
        else if (analysis.Dataset is not { } dataset)
        {
            alerts.Add("unknown-container");
            var created = input.Kind == BlobEventKind.Created;
            var action = created ? "blob.unknown_container" : "blob.deleted_unknown_container";
            await AuditAsync(context, input, action, AuditEntries.ContainerSubject(input.Container), null);
            if (created)
            {
                await AlertAsync(context, input, null, "unknown-container", m => m.BlobInUnknownContainer(input));
            }

            result = new BlobEventResult(BlobEventOutcome.UnknownContainer, alerts);
        }
        else if (input.Kind == BlobEventKind.Created)
        {
            result = await CreatedAsync(context, input, analysis, dataset, alerts);
        }
        else if (dataset.State is DatasetState.MarkedForDeletion or DatasetState.Disposed)
        {
            result = new BlobEventResult(BlobEventOutcome.DeletedByDisposal, [], dataset.DmpId, dataset.DatasetId);
        }
        else
        {
            alerts.Add("deleted-outside-disposal");
            await AuditAsync(context, input, "blob.deleted_outside_disposal", AuditEntries.DatasetSubject(dataset.DmpId, dataset.DatasetId),
                new { state = dataset.State.ToString(), keepUntil = dataset.KeepUntil });
            await AlertAsync(
                context, input, analysis.PiEmail, "deleted-outside-disposal", m => m.BlobDeletedOutsideDisposal(input, dataset));
            result = new BlobEventResult(BlobEventOutcome.DeletedOutsideDisposal, alerts, dataset.DmpId, dataset.DatasetId);
        }

        await context.MarkBlobEventProcessedAsync(new MarkBlobEventProcessedInput(input.EventId, context.UtcNow()));
        return result with { UndeliveredNotifications = context.UndeliveredNotifications() };
    }

    private static async Task<BlobEventResult> CreatedAsync(
        WorkflowContext context, BlobEventInput input, BlobEventAnalysis analysis, DatasetRecord dataset, List<string> alerts)
    {
        var subject = AuditEntries.DatasetSubject(dataset.DmpId, dataset.DatasetId);
        var tagged = await context.TagBlobAsync(
            new TagBlobInput(input.Container, input.BlobName, dataset.DmpId, dataset.DatasetId, dataset.KeepUntil));
        if (tagged.Outcome == TagBlobOutcome.BlobGone)
        {
            return new BlobEventResult(BlobEventOutcome.BlobGone, [], dataset.DmpId, dataset.DatasetId);
        }

        if (dataset.State is not DatasetState.Provisioned)
        {
            alerts.Add("write-to-disposed-dataset");
            await AuditAsync(context, input, "blob.written_to_disposed_dataset", subject, new { state = dataset.State.ToString() });
            await AlertAsync(
                context, input, analysis.PiEmail, "write-to-disposed-dataset", m => m.BlobWrittenDuringDisposal(input, dataset));
        }

        if (analysis.QuotaExceeded)
        {
            alerts.Add("quota-exceeded");
            await AuditAsync(
                context, input, "blob.quota_exceeded", subject, new { quotaBytes = dataset.QuotaBytes, usedBytes = analysis.UsedBytes });
            await AlertAsync(context, input, analysis.PiEmail, "quota-exceeded", m => m.QuotaExceeded(input, dataset, analysis.UsedBytes));
        }

        if (analysis.OpenBeforeEmbargo)
        {
            alerts.Add("open-before-embargo");
            await AuditAsync(context, input, "blob.open_before_embargo", subject, new { embargoUntil = dataset.EmbargoUntil });
            await AlertAsync(context, input, analysis.PiEmail, "open-before-embargo", m => m.OpenBeforeEmbargo(dataset));
        }

        return new BlobEventResult(BlobEventOutcome.Tagged, alerts, dataset.DmpId, dataset.DatasetId);
    }

    /// <summary>Alerts the data steward (and the PI, when known) in the policy's language.</summary>
    private static async Task AlertAsync(
        WorkflowContext context, BlobEventInput input, string? piEmail, string step, Func<MessageCatalogue, Message> message)
    {
        var settings = await context.LoadRetentionSettingsAsync();
        var alert = message(MessageCatalogue.For(settings.Language));
        await context.NotifyAsync(alert, [settings.StewardEmail, piEmail], step, AuditEntries.ContainerSubject(input.Container));
    }

    private static Task<AuditReceipt> AuditAsync(
        WorkflowContext context, BlobEventInput input, string action, string subject, object? state) =>
        context.AuditAsync(action, subject, after: new
        {
            alert = true,
            eventId = input.EventId,
            container = input.Container,
            blob = input.BlobName,
            etag = input.ETag,
            contentLength = input.ContentLength,
            eventTime = input.EventTime,
            api = input.Api,
            dataset = state,
        });
}
