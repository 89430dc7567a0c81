using System.Text;
using Newtonsoft.Json.Linq;

namespace Gardien.Workflows.Madmp;

/// <summary>RFC 6901 JSON Pointers for issue paths.</summary>
internal static class JsonPointer
{
    public static string Escape(string segment) =>
        segment.Contains('~', StringComparison.Ordinal) || segment.Contains('/', StringComparison.Ordinal)
            ? segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)
            : segment;

    public static string Append(string pointer, string property) => pointer + "/" + Escape(property);

    public static string Append(string pointer, int index) =>
        pointer + "/" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The pointer of a token inside its document, built from the parent chain (exact even for keys holding '.' or '[').</summary>
    public static string Of(JToken? token)
    {
        if (token is null)
        {
            return "";
        }

        var segments = new List<string>();
        JToken? current = token;
        if (current is JProperty own)
        {
            segments.Add(Escape(own.Name));
            current = own.Parent;
        }

        while (current?.Parent is { } parent)
        {
            switch (parent)
            {
                case JProperty property:
                    segments.Add(Escape(property.Name));
                    current = property.Parent;
                    break;
                case JArray array:
                    segments.Add(array.IndexOf(current).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    current = array;
                    break;
                default:
                    current = parent;
                    break;
            }
        }

        if (segments.Count == 0)
        {
            return "";
        }

        var builder = new StringBuilder();
        for (var i = segments.Count - 1; i >= 0; i--)
        {
            builder.Append('/').Append(segments[i]);
        }

        return builder.ToString();
    }
}
