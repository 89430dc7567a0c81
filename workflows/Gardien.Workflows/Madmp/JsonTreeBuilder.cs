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
    public static bool TryBuild(ReadOnlySpan<byte> utf8Json, int maxDepth, out JsonNode? root)
    {
        root = null;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth });
            var containers = new Stack<JsonNode>();
            string? propertyName = null;
            while (reader.Read())
            {
                JsonNode? value;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        propertyName = reader.GetString();
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
                    // Add, not the indexer: a duplicate key throws, and the fallback parser reports it with its position.
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
}
