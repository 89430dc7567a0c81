using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gardien.Workflows.Audit;

/// <summary>
/// Canonical JSON for hashing: object members sorted by ordinal name, no whitespace, numbers kept as written,
/// strings escaped with the default (ASCII-only) encoder. The same value always yields the same bytes.
/// </summary>
public static class CanonicalJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.Default,
        SkipValidation = false,
    };

    public static JsonWriterOptions Options => WriterOptions;

    /// <summary>Writes <paramref name="element"/> canonically.</summary>
    public static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                // Raw text: "1.0" and "1" stay different, so a rewritten number is a detected change.
                writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            case JsonValueKind.Null:
                writer.WriteNullValue();
                break;
            default:
                throw new ArgumentException($"Cannot write a JSON value of kind {element.ValueKind}.", nameof(element));
        }
    }

    /// <summary>The canonical UTF-8 bytes of a value.</summary>
    public static byte[] ToUtf8Bytes(JsonElement element)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, element);
        }

        return buffer.ToArray();
    }
}
