using System.Globalization;
using System.Text;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Table keys may not hold '/', '\', '#', '?' or control characters, but instance ids may. They are escaped
/// character by character ('%' + 4 hex digits), which keeps prefixes prefixes so that id-prefix queries still work.
/// </summary>
internal static class TableKeys
{
    public const string SentinelRowKey = "sentinel";

    public static string Encode(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.Any(NeedsEscape))
        {
            return key;
        }

        var builder = new StringBuilder(key.Length + 16);
        foreach (var c in key)
        {
            if (NeedsEscape(c))
            {
                builder.Append('%').Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    public static string Decode(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.Contains('%', StringComparison.Ordinal))
        {
            return key;
        }

        var builder = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == '%'
                && i + 4 < key.Length
                && int.TryParse(key.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
            {
                builder.Append((char)code);
                i += 4;
            }
            else
            {
                builder.Append(key[i]);
            }
        }

        return builder.ToString();
    }

    /// <summary>History rows sort by generation (one per ContinueAsNew) then sequence.</summary>
    public static string HistoryRowKey(int generation, long sequence) =>
        generation.ToString("D6", CultureInfo.InvariantCulture) + "-" + sequence.ToString("D10", CultureInfo.InvariantCulture);

    public static bool TryParseHistoryRowKey(string rowKey, out int generation, out long sequence)
    {
        generation = 0;
        sequence = 0;
        return rowKey.Length == 17 && rowKey[6] == '-'
            && int.TryParse(rowKey.AsSpan(0, 6), NumberStyles.None, CultureInfo.InvariantCulture, out generation)
            && long.TryParse(rowKey.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }

    private static bool NeedsEscape(char c) => c is '/' or '\\' or '#' or '?' or '%' || char.IsControl(c);
}
