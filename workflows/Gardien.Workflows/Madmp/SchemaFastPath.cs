using System.Text.Json;
using System.Text.Json.Nodes;
using Newtonsoft.Json.Linq;
using NJsonSchema.Validation;
using NJsonSchema.Validation.FormatValidators;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// A conservative pre-check that recognises documents NJsonSchema would pass without a single error or format warning,
/// so that the reader can skip NJsonSchema for them. Why: NJsonSchema's validator allocates ~30 KB per dataset and
/// needs a Newtonsoft copy of the tree; it was 80-90 % of a read and made the throughput goals unreachable.
/// </summary>
/// <remarks>
/// The contract is one-sided: <see cref="IsClean"/> returns true only when NJsonSchema would report nothing. Every
/// doubt returns false and the reader runs NJsonSchema, which stays the only source of errors and warnings (their
/// paths, messages and keywords). The check walks the JsonNode tree with the schema compiled once per version, for the
/// keywords the maDMP schemas use: type, properties, required, additionalProperties: false, items, minItems,
/// uniqueItems (on strings), enum (of strings), format (with NJsonSchema's own format validators), $ref and oneOf.
/// A schema node with any other validation keyword is "unsupported" and sends every value reaching it to NJsonSchema.
/// A oneOf passes only when exactly one branch is clean and every other branch fails on its type, which is how the
/// 1.2 identifiers use it (an object, or a list of them). Tested against NJsonSchema on every example and on random
/// mutations of real plans (SchemaFastPathTests).
/// </remarks>
internal sealed class SchemaFastPath
{
    private static readonly Dictionary<string, IFormatValidator> FormatValidators =
        new JsonSchemaValidatorSettings().FormatValidators.ToDictionary(v => v.Format, StringComparer.Ordinal);

    /// <summary>Keywords that carry no constraint (annotations, containers of definitions).</summary>
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "$schema", "$id", "$comment", "$anchor", "title", "description", "examples", "default", "definitions", "$defs",
        "readOnly", "writeOnly", "deprecated",
    };

    private readonly Node _root;

    private SchemaFastPath(Node root)
    {
        _root = root;
    }

    private enum Outcome
    {
        Clean,

        /// <summary>The value's JSON type is not the schema's: invalid under any reading of the schema.</summary>
        WrongType,

        /// <summary>Invalid, or not provably valid: NJsonSchema decides.</summary>
        Unsure,
    }

    /// <summary>Compiles a schema already normalised for NJsonSchema (<c>definitions</c>, <c>#/definitions/</c> references).</summary>
    public static SchemaFastPath Compile(string normalisedSchemaJson)
    {
        var schema = JsonNode.Parse(normalisedSchemaJson) as JsonObject
            ?? throw new InvalidOperationException("A JSON Schema document must be an object.");
        var definitions = new Dictionary<string, Node>(StringComparer.Ordinal);
        var compiler = new Compiler(schema, definitions);
        return new SchemaFastPath(compiler.Compile(schema));
    }

    public bool IsClean(JsonNode? document) => Check(_root, document) == Outcome.Clean;

    private static Outcome Check(Node node, JsonNode? value)
    {
        for (var hops = 0; node.Reference is { } target; hops++)
        {
            if (hops == 32)
            {
                return Outcome.Unsure;
            }

            node = target;
        }

        if (node.Unsupported)
        {
            return Outcome.Unsure;
        }

        var kind = value?.GetValueKind() ?? JsonValueKind.Null;
        if (node.Type is { } type && !TypeMatches(type, kind, value))
        {
            return type == "integer" && kind == JsonValueKind.Number ? Outcome.Unsure : Outcome.WrongType;
        }

        if (node.Enum is { } allowed && (kind != JsonValueKind.String || !allowed.Contains(value!.GetValue<string>())))
        {
            return Outcome.Unsure;
        }

        if (node.Format is { } format)
        {
            if (kind != JsonValueKind.String || !format.IsValid(value!.GetValue<string>(), JTokenType.String))
            {
                return Outcome.Unsure;
            }
        }

        if (node.OneOf is { } branches && !OneOfIsClean(branches, value))
        {
            return Outcome.Unsure;
        }

        if (node.HasObjectKeywords)
        {
            if (value is not JsonObject obj || !ObjectIsClean(node, obj))
            {
                return Outcome.Unsure;
            }
        }

        if (node.HasArrayKeywords)
        {
            if (value is not JsonArray array || !ArrayIsClean(node, array))
            {
                return Outcome.Unsure;
            }
        }

        return Outcome.Clean;
    }

    private static bool ObjectIsClean(Node node, JsonObject obj)
    {
        foreach (var required in node.Required)
        {
            if (!obj.ContainsKey(required))
            {
                return false;
            }
        }

        foreach (var (key, child) in obj)
        {
            if (node.Properties.TryGetValue(key, out var propertySchema))
            {
                if (Check(propertySchema, child) != Outcome.Clean)
                {
                    return false;
                }
            }
            else if (node.NoAdditionalProperties)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ArrayIsClean(Node node, JsonArray array)
    {
        if (array.Count < node.MinItems)
        {
            return false;
        }

        if (node.UniqueItems && !StringsAreDistinct(array))
        {
            return false;
        }

        if (node.Items is { } items)
        {
            foreach (var item in array)
            {
                if (Check(items, item) != Outcome.Clean)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool StringsAreDistinct(JsonArray array)
    {
        if (array.Count < 2)
        {
            return true;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in array)
        {
            if (item is not JsonValue value || value.GetValueKind() != JsonValueKind.String || !seen.Add(value.GetValue<string>()))
            {
                return false;
            }
        }

        return true;
    }

    private static bool OneOfIsClean(Node[] branches, JsonNode? value)
    {
        var clean = 0;
        foreach (var branch in branches)
        {
            switch (Check(branch, value))
            {
                case Outcome.Clean:
                    clean++;
                    break;
                case Outcome.Unsure:
                    return false;
            }
        }

        return clean == 1;
    }

    private static bool TypeMatches(string type, JsonValueKind kind, JsonNode? value) => type switch
    {
        "object" => kind == JsonValueKind.Object,
        "array" => kind == JsonValueKind.Array,
        "string" => kind == JsonValueKind.String,
        "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
        "null" => kind == JsonValueKind.Null,
        "number" => kind == JsonValueKind.Number,
        // NJsonSchema sees what JsonNodeConversion gives it: an Int64 is an integer, anything else is not provably one.
        "integer" => kind == JsonValueKind.Number && IsInt64((JsonValue)value!),
        _ => false,
    };

    private static bool IsInt64(JsonValue value) =>
        value.TryGetValue<long>(out _)
            || value.TryGetValue<int>(out _)
            || (value.TryGetValue<JsonElement>(out var element) && element.TryGetInt64(out _));

    private sealed class Node
    {
        public bool Unsupported { get; set; }

        public Node? Reference { get; set; }

        public string? Type { get; set; }

        public HashSet<string>? Enum { get; set; }

        public IFormatValidator? Format { get; set; }

        public Node[]? OneOf { get; set; }

        public bool HasObjectKeywords { get; set; }

        public Dictionary<string, Node> Properties { get; } = new(StringComparer.Ordinal);

        public string[] Required { get; set; } = [];

        public bool NoAdditionalProperties { get; set; }

        public bool HasArrayKeywords { get; set; }

        public Node? Items { get; set; }

        public int MinItems { get; set; }

        public bool UniqueItems { get; set; }
    }

    private sealed class Compiler(JsonObject root, Dictionary<string, Node> definitions)
    {
        public Node Compile(JsonNode? schemaNode) => CompileInto(new Node(), schemaNode);

        private Node CompileInto(Node node, JsonNode? schemaNode)
        {
            if (schemaNode is not JsonObject schema)
            {
                // "true" accepts everything; "false" and anything stranger go to NJsonSchema.
                node.Unsupported = !(schemaNode is JsonValue v && v.GetValueKind() == JsonValueKind.True);
                return node;
            }

            foreach (var (keyword, argument) in schema)
            {
                if (Annotations.Contains(keyword))
                {
                    continue;
                }

                var understood = keyword switch
                {
                    "$ref" => Reference(node, argument),
                    "type" => Text(argument) is { } type && (node.Type = type) is not null,
                    "enum" => Enum(node, argument),
                    "format" => Format(node, argument),
                    "oneOf" => OneOf(node, argument),
                    "properties" => Properties(node, argument),
                    "required" => Required(node, argument),
                    "additionalProperties" => AdditionalProperties(node, argument),
                    "items" => Items(node, argument),
                    "minItems" => MinItems(node, argument),
                    "uniqueItems" => UniqueItems(node, argument),
                    _ => false,
                };
                if (!understood)
                {
                    node.Unsupported = true;
                }
            }

            // A reference with constraining siblings: NJsonSchema's reading of that differs between drafts.
            if (node.Reference is not null
                && (node.Type is not null
                    || node.Enum is not null
                    || node.Format is not null
                    || node.OneOf is not null
                    || node.HasObjectKeywords
                    || node.HasArrayKeywords))
            {
                node.Unsupported = true;
            }

            return node;
        }

        private bool Reference(Node node, JsonNode? argument)
        {
            const string Prefix = "#/definitions/";
            if (Text(argument) is not { } reference || !reference.StartsWith(Prefix, StringComparison.Ordinal))
            {
                return false;
            }

            var name = reference[Prefix.Length..];
            if (name.Contains('/', StringComparison.Ordinal)
                || name.Contains('~', StringComparison.Ordinal)
                || root["definitions"]?[name] is not JsonObject target)
            {
                return false;
            }

            // Each definition is compiled once; it is registered before its body so that recursive definitions terminate.
            if (!definitions.TryGetValue(name, out var compiled))
            {
                definitions[name] = compiled = new Node();
                CompileInto(compiled, target);
            }

            node.Reference = compiled;
            return true;
        }

        private static bool Enum(Node node, JsonNode? argument)
        {
            if (argument is not JsonArray values)
            {
                return false;
            }

            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var value in values)
            {
                if (Text(value) is not { } text)
                {
                    return false;
                }

                set.Add(text);
            }

            node.Enum = set;
            return true;
        }

        private static bool Format(Node node, JsonNode? argument)
        {
            if (Text(argument) is not { } format)
            {
                return false;
            }

            // Formats NJsonSchema does not know (e.g. "url") are ignored by it, so by us too.
            node.Format = FormatValidators.GetValueOrDefault(format);
            return true;
        }

        private bool OneOf(Node node, JsonNode? argument)
        {
            if (argument is not JsonArray branches || branches.Count == 0)
            {
                return false;
            }

            node.OneOf = [.. branches.Select(Compile)];
            return true;
        }

        private bool Properties(Node node, JsonNode? argument)
        {
            if (argument is not JsonObject properties)
            {
                return false;
            }

            node.HasObjectKeywords = true;
            foreach (var (name, schema) in properties)
            {
                node.Properties[name] = Compile(schema);
            }

            return true;
        }

        private static bool Required(Node node, JsonNode? argument)
        {
            if (argument is not JsonArray names || names.Any(n => Text(n) is null))
            {
                return false;
            }

            node.HasObjectKeywords = true;
            node.Required = [.. names.Select(n => Text(n)!)];
            return true;
        }

        private static bool AdditionalProperties(Node node, JsonNode? argument)
        {
            switch (argument?.GetValueKind())
            {
                case JsonValueKind.False:
                    node.HasObjectKeywords = true;
                    node.NoAdditionalProperties = true;
                    return true;
                case JsonValueKind.True:
                    return true;
                default:
                    return false;
            }
        }

        private bool Items(Node node, JsonNode? argument)
        {
            if (argument is not JsonObject)
            {
                return false;
            }

            node.HasArrayKeywords = true;
            node.Items = Compile(argument);
            return true;
        }

        private static bool MinItems(Node node, JsonNode? argument)
        {
            if (argument is not JsonValue value || !value.TryGetValue<int>(out var min) || min < 0)
            {
                return false;
            }

            node.HasArrayKeywords = true;
            node.MinItems = min;
            return true;
        }

        private static bool UniqueItems(Node node, JsonNode? argument)
        {
            switch (argument?.GetValueKind())
            {
                case JsonValueKind.True:
                    node.HasArrayKeywords = true;
                    node.UniqueItems = true;
                    return true;
                case JsonValueKind.False:
                    return true;
                default:
                    return false;
            }
        }

        private static string? Text(JsonNode? node) =>
            node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
    }
}
