using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// Builds a <see cref="JsonNode"/> tree in one pass over the bytes. Why not JsonNode.Parse: it first builds a
/// JsonDocument and then wraps it lazily, every later read of a string value decodes it again, and it can neither keep
/// the last of two equal property names (as JSON Schema validators do) nor read a lone surrogate escape, which is
/// valid JSON. This builder holds strings as .NET strings from the start, which also makes the clean path cheaper.
/// </summary>
/// <remarks>
/// Numbers stay backed by a JsonElement, exactly as JsonNode.Parse leaves them, so every consumer (lenient fixes,
/// conversion for NJsonSchema, mapping) sees the same values. Malformed JSON and excessive depth throw the reader's
/// <see cref="JsonException"/> (with its line and byte position), which <see cref="JsonSyntaxMessages"/> puts into
/// plain words. The input must be valid UTF-8 (<see cref="JsonSyntaxMessages.InvalidUtf8"/> checks it first).
/// </remarks>
internal static class JsonTreeBuilder
{
    /// <summary>Builds the tree; repeated property names and lone surrogate escapes become <paramref name="warnings"/>.</summary>
    /// <exception cref="JsonException">The document is not well-formed JSON under <paramref name="options"/>, or too deep.</exception>
    public static JsonNode? Build(ReadOnlySpan<byte> utf8Json, JsonReaderOptions options, List<ValidationIssue> warnings)
    {
        var reader = new Utf8JsonReader(utf8Json, options);
        var containers = new Stack<(JsonNode Node, long Start)>();
        JsonNode? root = null;
        string? propertyName = null;
        long propertyStart = 0;
        while (reader.Read())
        {
            JsonNode? value;
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    propertyStart = reader.TokenStartIndex;
                    propertyName = ReadString(ref reader, utf8Json, containers, null, warnings);
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
                    value = JsonValue.Create(ReadString(ref reader, utf8Json, containers, propertyName, warnings));
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
                    // Comments, when the options skip them, never surface; anything else is not part of the tree.
                    continue;
            }

            if (containers.Count == 0)
            {
                root = value;
            }
            else if (containers.Peek().Node is JsonObject obj)
            {
                if (!obj.TryAdd(propertyName!, value))
                {
                    warnings.Add(Duplicate(utf8Json, obj, containers.Peek().Start, propertyName!, propertyStart));
                    obj[propertyName!] = value;
                }
            }
            else
            {
                ((JsonArray)containers.Peek().Node).Add(value);
            }

            if (value is JsonObject or JsonArray)
            {
                containers.Push((value, reader.TokenStartIndex));
            }
        }

        return root;
    }

    /// <summary>The 1-based line and column (in characters, not bytes) of a byte offset.</summary>
    public static (int Line, int Column) Position(ReadOnlySpan<byte> utf8Json, long offset)
    {
        var before = utf8Json[..(int)Math.Clamp(offset, 0, utf8Json.Length)];
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        return (before.Count((byte)'\n') + 1, Characters(before[lineStart..]) + 1);
    }

    /// <summary>The 1-based column, in characters, of a byte position inside a 0-based line (as the reader reports them).</summary>
    public static int Column(ReadOnlySpan<byte> utf8Json, long lineNumber, long bytePositionInLine)
    {
        var start = 0;
        for (long line = 0; line < lineNumber; line++)
        {
            var next = utf8Json[start..].IndexOf((byte)'\n');
            if (next < 0)
            {
                return (int)Math.Min(int.MaxValue, bytePositionInLine + 1);
            }

            start += next + 1;
        }

        var end = (int)Math.Min(utf8Json.Length, start + bytePositionInLine);
        return Characters(utf8Json[start..end]) + 1;
    }

    private static int Characters(ReadOnlySpan<byte> utf8)
    {
        // UTF-8 continuation bytes are 10xxxxxx; every other byte starts a character.
        var count = 0;
        foreach (var b in utf8)
        {
            if ((b & 0xC0) != 0x80)
            {
                count++;
            }
        }

        return count;
    }

    private static string ReadString(
        ref Utf8JsonReader reader,
        ReadOnlySpan<byte> utf8Json,
        Stack<(JsonNode Node, long Start)> containers,
        string? propertyName,
        List<ValidationIssue> warnings)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.GetString()!;
        }

        try
        {
            return reader.GetString()!;
        }
#pragma warning disable CA1031 // Whatever the decoder objects to in an escaped string, the lenient unescape below reads it.
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or JsonException)
#pragma warning restore CA1031
        {
            var text = UnescapeWithReplacement(reader.ValueSpan);
            var (line, column) = Position(utf8Json, reader.TokenStartIndex);
            var isName = reader.TokenType == JsonTokenType.PropertyName;
            var container = containers.Count > 0 ? Pointer(containers.Peek().Node) : "";
            var path = isName || containers.Count == 0 ? container
                : containers.Peek().Node is JsonArray array ? JsonPointer.Append(container, array.Count)
                : JsonPointer.Append(container, propertyName ?? "");
            warnings.Add(new ValidationIssue(
                path,
                $"Line {line}, column {column}: the {(isName ? "property name" : "text")} contains a \\u escape for half of a UTF-16 "
                + "surrogate pair (\\uD800-\\uDFFF without its other half), which stands for no character. It was read as U+FFFD (\uFFFD); "
                + "write the character itself, or both halves of the pair.",
                "encoding",
                IssueSeverity.Warning)
            { Line = line, Column = column });
            return text;
        }
    }

    /// <summary>JSON string unescaping that turns unpaired surrogates into U+FFFD instead of failing.</summary>
    private static string UnescapeWithReplacement(ReadOnlySpan<byte> escaped)
    {
        var builder = new StringBuilder(escaped.Length);
        var i = 0;
        while (i < escaped.Length)
        {
            var backslash = escaped[i..].IndexOf((byte)'\\');
            if (backslash < 0)
            {
                builder.Append(Encoding.UTF8.GetString(escaped[i..]));
                break;
            }

            builder.Append(Encoding.UTF8.GetString(escaped.Slice(i, backslash)));
            i += backslash;
            var code = escaped[i + 1];
            switch (code)
            {
                case (byte)'u':
                    builder.Append(
                        (char)int.Parse(
                            Encoding.ASCII.GetString(escaped.Slice(i + 2, 4)), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 6;
                    continue;
                case (byte)'n':
                    builder.Append('\n');
                    break;
                case (byte)'t':
                    builder.Append('\t');
                    break;
                case (byte)'r':
                    builder.Append('\r');
                    break;
                case (byte)'b':
                    builder.Append('\b');
                    break;
                case (byte)'f':
                    builder.Append('\f');
                    break;
                default:
                    // \" \\ \/ stand for themselves; the reader has already refused any other escape.
                    builder.Append((char)code);
                    break;
            }

            i += 2;
        }

        for (var c = 0; c < builder.Length; c++)
        {
            if (char.IsHighSurrogate(builder[c]) && c + 1 < builder.Length && char.IsLowSurrogate(builder[c + 1]))
            {
                c++;
            }
            else if (char.IsSurrogate(builder[c]))
            {
                builder[c] = '\uFFFD';
            }
        }

        return builder.ToString();
    }

    private static ValidationIssue Duplicate(ReadOnlySpan<byte> utf8Json, JsonObject owner, long ownerStart, string name, long repeatedAt)
    {
        var (line, column) = Position(utf8Json, repeatedAt);
        var firstLine = FirstOccurrence(utf8Json, ownerStart, name) is { } first ? Position(utf8Json, first).Line : (int?)null;
        var path = JsonPointer.Append(Pointer(owner), name);
        var lines = firstLine is { } l && l != line ? $"lines {l} and {line}" : $"line {line}";
        return new ValidationIssue(
            path,
            $"The property \"{name}\" appears twice in the same object ({lines}). As JSON Schema validators do, "
            + $"the last value (line {line}) was used; remove the other one.",
            "duplicate",
            IssueSeverity.Warning)
        { Line = line, Column = column };
    }

    /// <summary>
    /// Where a property name first occurs in the object starting at <paramref name="ownerStart"/>; only run for duplicates.
    /// </summary>
    private static long? FirstOccurrence(ReadOnlySpan<byte> utf8Json, long ownerStart, string name)
    {
        try
        {
            var reader = new Utf8JsonReader(
                utf8Json,
                new JsonReaderOptions
                {
                    MaxDepth = MadmpReader.DepthCeiling,
                    AllowTrailingCommas = true,
                    CommentHandling = JsonCommentHandling.Skip,
                });
            var depth = -1;
            while (reader.Read())
            {
                if (depth < 0)
                {
                    if (reader.TokenType == JsonTokenType.StartObject && reader.TokenStartIndex == ownerStart)
                    {
                        depth = reader.CurrentDepth + 1;
                    }

                    continue;
                }

                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth && NameEquals(ref reader, name))
                {
                    return reader.TokenStartIndex;
                }

                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth - 1)
                {
                    return null;
                }
            }
        }
#pragma warning disable CA1031 // Only a line number for a warning depends on it: without it the warning names one line.
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
#pragma warning restore CA1031
        {
        }

        return null;
    }

    private static bool NameEquals(ref Utf8JsonReader reader, string name)
    {
        try
        {
            return reader.ValueTextEquals(name);
        }
#pragma warning disable CA1031 // A name the decoder refuses is compared after the lenient unescape.
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
#pragma warning restore CA1031
        {
            return UnescapeWithReplacement(reader.ValueSpan) == name;
        }
    }

    /// <summary>The JSON Pointer of a node in the tree being built.</summary>
    internal static string Pointer(JsonNode node)
    {
        var segments = new List<string>();
        for (var current = node; current.Parent is { } parent; current = parent)
        {
            segments.Add(parent is JsonArray
                ? current.GetElementIndex().ToString(CultureInfo.InvariantCulture)
                : JsonPointer.Escape(current.GetPropertyName()));
        }

        var builder = new StringBuilder();
        for (var i = segments.Count - 1; i >= 0; i--)
        {
            builder.Append('/').Append(segments[i]);
        }

        return builder.ToString();
    }
}
