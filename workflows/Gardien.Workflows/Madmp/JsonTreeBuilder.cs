using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// Builds a <see cref="JsonNode"/> tree in one pass over the bytes, for well-formed documents only. Why: JsonNode.Parse
/// first builds a JsonDocument and then wraps it lazily, and every later read of a string value decodes it again; this
/// builder holds strings as .NET strings from the start, which makes the reader's clean path markedly cheaper.
/// </summary>
/// <remarks>
/// Numbers stay backed by a JsonElement, exactly as JsonNode.Parse leaves them, so every consumer (lenient fixes,
/// conversion for NJsonSchema, mapping) sees the same values. Anything unusual — malformed JSON, a duplicate key, too
/// deep — makes <see cref="TryBuild"/> return false, and the caller parses with JsonNode.Parse, whose exceptions carry
/// the line and column the user is shown. The fallback makes error reporting independent of this builder.
/// </remarks>
internal static class JsonTreeBuilder
{
    /// <summary>A property name repeated in one object, with the 1-based line and (byte) column of the repetition.</summary>
    public sealed record DuplicateProperty(string Name, int Line, int Column);

    public static bool TryBuild(ReadOnlySpan<byte> utf8Json, int maxDepth, out JsonNode? root) =>
        TryBuild(utf8Json, maxDepth, out root, out _);

    /// <param name="duplicate">Set when the document repeats a property name: System.Text.Json detects that only after
    /// the whole parse and cannot say where, so the builder reports it with its position.</param>
    public static bool TryBuild(ReadOnlySpan<byte> utf8Json, int maxDepth, out JsonNode? root, out DuplicateProperty? duplicate)
    {
        root = null;
        duplicate = null;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth });
            var containers = new Stack<JsonNode>();
            string? propertyName = null;
            long propertyStart = 0;
            while (reader.Read())
            {
                JsonNode? value;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        propertyName = reader.GetString();
                        propertyStart = reader.TokenStartIndex;
                        continue;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        containers.Pop();
                        continue;
                    case JsonTokenType.StartObject:
                        value = new JsonObject();
                        break;
                    case JsonTokenType.StartArray:
                        value = new JsonArray();
                        break;
                    case JsonTokenType.String:
                        value = JsonValue.Create(reader.GetString());
                        break;
                    case JsonTokenType.True:
                        value = JsonValue.Create(true);
                        break;
                    case JsonTokenType.False:
                        value = JsonValue.Create(false);
                        break;
                    case JsonTokenType.Null:
                        value = null;
                        break;
                    case JsonTokenType.Number:
                        value = JsonValue.Create(JsonElement.ParseValue(ref reader));
                        break;
                    default:
                        return false;
                }

                if (containers.Count == 0)
                {
                    root = value;
                }
                else if (containers.Peek() is JsonObject obj)
                {
                    if (obj.ContainsKey(propertyName!))
                    {
                        duplicate = Position(utf8Json, propertyStart, propertyName!);
                        root = null;
                        return false;
                    }

                    obj.Add(propertyName!, value);
                }
                else
                {
                    ((JsonArray)containers.Peek()).Add(value);
                }

                if (value is JsonObject or JsonArray)
                {
                    containers.Push(value);
                }
            }

            return true;
        }
#pragma warning disable CA1031 // Any failure means "not a plain well-formed document": the caller's parser decides and reports.
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
#pragma warning restore CA1031
        {
            root = null;
            return false;
        }
    }

    private static DuplicateProperty Position(ReadOnlySpan<byte> utf8Json, long offset, string name)
    {
        var before = utf8Json[..(int)offset];
        var lastNewLine = before.LastIndexOf((byte)'\n');
        var line = before.Count((byte)'\n') + 1;
        return new DuplicateProperty(name, line, (int)offset - lastNewLine);
    }
}
