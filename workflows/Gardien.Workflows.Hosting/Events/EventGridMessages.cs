using System.Text;
using System.Text.Json;
using Azure.Messaging;
using Azure.Messaging.EventGrid;

namespace Gardien.Workflows.Hosting.Events;

/// <summary>One event of a queue message, whatever its schema (Event Grid or CloudEvents 1.0).</summary>
/// <param name="Data">The event's data; <see cref="JsonValueKind.Undefined"/> when it has none.</param>
public sealed record GridEvent(string Id, string Type, string? Subject, DateTimeOffset Time, JsonElement Data, string? Source);

/// <summary>
/// Reads the storage-queue messages Event Grid subscriptions deliver: one event or a batch, in the Event Grid schema or
/// the CloudEvents 1.0 schema, as JSON or Base64-encoded JSON. Anything else is a <see cref="FormatException"/> saying
/// what is wrong (the message then goes to the poison queue).
/// </summary>
public static class EventGridMessages
{
    public static IReadOnlyList<GridEvent> Parse(string? message)
    {
        var json = Decode(message);
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new FormatException(
                $"The message is not JSON ({ex.Message}); expected an Event Grid or CloudEvents event or an array of them.", ex);
        }

        var first = root.ValueKind == JsonValueKind.Array ? (root.GetArrayLength() > 0 ? root[0] : default) : root;
        if (first.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException(
                "The message holds no event object; expected an Event Grid or CloudEvents event or an array of them.");
        }

        try
        {
            var data = BinaryData.FromString(json);
            return first.TryGetProperty("specversion", out _)
                ? [.. CloudEvent.ParseMany(data, skipValidation: false).Select(FromCloudEvent)]
                : [.. EventGridEvent.ParseMany(data).Select(FromGridEvent)];
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException($"The message is not a valid Event Grid or CloudEvents event: {ex.Message}", ex);
        }
    }

    private static string Decode(string? message)
    {
        var text = message?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            throw new FormatException("The message is empty; expected an Event Grid or CloudEvents event.");
        }

        if (text[0] is '{' or '[')
        {
            return text;
        }

        // Queue messages written Base64-encoded (the queue extension's default encoding) arrive here undecoded.
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var length)
            ? Encoding.UTF8.GetString(buffer, 0, length).Trim()
            : throw new FormatException(
                "The message is neither JSON nor Base64-encoded JSON; expected an Event Grid or CloudEvents event.");
    }

    private static GridEvent FromGridEvent(EventGridEvent e) =>
        new(e.Id, e.EventType, e.Subject, e.EventTime, ToElement(e.Data), e.Topic);

    private static GridEvent FromCloudEvent(CloudEvent e) =>
        new(e.Id, e.Type, e.Subject, e.Time ?? DateTimeOffset.MinValue, ToElement(e.Data), e.Source);

    private static JsonElement ToElement(BinaryData? data)
    {
        if (data is null || data.ToMemory().IsEmpty)
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(data.ToMemory());
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            // Data that is not JSON (a CloudEvent may carry any content type) is kept as a JSON string.
            return JsonSerializer.SerializeToElement(data.ToString());
        }
    }
}
