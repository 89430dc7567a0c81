using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Newtonsoft.Json.Linq;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// Builds the Newtonsoft tree NJsonSchema validates straight from the System.Text.Json tree, so the document is
/// parsed once (with System.Text.Json's limits and line/column errors) and never re-serialised.
/// </summary>
internal static class JsonNodeConversion
{
    public static JToken ToJToken(JsonNode? node) => node switch
    {
        null => JValue.CreateNull(),
        JsonObject obj => ToJObject(obj),
        JsonArray array => ToJArray(array),
        JsonValue value => ToJValue(value),
        _ => JValue.CreateNull(),
    };

    private static JObject ToJObject(JsonObject obj)
    {
        var result = new JObject();
        foreach (var (key, value) in obj)
        {
            result.Add(new JProperty(key, ToJToken(value)));
        }

        return result;
    }

    private static JArray ToJArray(JsonArray array)
    {
        var result = new JArray();
        foreach (var item in array)
        {
            result.Add(ToJToken(item));
        }

        return result;
    }

    private static JValue ToJValue(JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                return new JValue(value.GetValue<string>());
            case JsonValueKind.True:
                return new JValue(true);
            case JsonValueKind.False:
                return new JValue(false);
            case JsonValueKind.Number:
                if (value.TryGetValue<long>(out var l))
                {
                    return new JValue(l);
                }

                if (value.TryGetValue<JsonElement>(out var element))
                {
                    if (element.TryGetInt64(out var l2))
                    {
                        return new JValue(l2);
                    }

                    if (element.TryGetDecimal(out var m) && decimal.Truncate(m) != m)
                    {
                        return new JValue(element.GetDouble());
                    }

                    // Integers beyond Int64 become doubles: NJsonSchema cannot validate BigInteger values (it throws), and no
                    // maDMP quantity (byte_size, cost) is legitimately that large, so "not a whole number" is an acceptable verdict.
                    return new JValue(element.GetDouble());
                }

                // A number created in code rather than parsed (an int, a double...): its JSON text says what it is.
                var text = value.ToJsonString();
                return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)
                    ? new JValue(whole)
                    : new JValue(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
            default:
                return JValue.CreateNull();
        }
    }
}
