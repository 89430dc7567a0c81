using System.Security.Cryptography;
using System.Text;

namespace Gardien.Workflows.Governance;

/// <summary>
/// Derives Azure blob container names from (dmp_id, dataset key).
/// Shape: <c>{prefix}-{slug}-{hash}</c> where slug is a readable tail of the dataset id and hash is 16 base32 characters
/// (80 bits) of SHA-256 over a length-prefixed, case-preserving canonical string. The slug is decoration; uniqueness
/// comes from the hash, so ids differing only in case or punctuation ("a-b", "a_b", "A-B") get different containers:
/// merging two datasets into one container would merge their access, which is worse than an extra container.
/// </summary>
public static class ContainerNaming
{
    public const int MaxLength = 63;
    public const int MinLength = 3;
    public const int HashLength = 16;
    public const int MaxPrefixLength = 20;

    private const string Base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string ContainerName(string prefix, string dmpId, string datasetKey)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(dmpId);
        ArgumentNullException.ThrowIfNull(datasetKey);
        if (!IsValidPrefix(prefix))
        {
            throw new ArgumentException(
                $"Container prefix '{prefix}' must be empty or 1-{MaxPrefixLength} lowercase letters, digits and single hyphens, "
                + "starting and ending with a letter or digit.",
                nameof(prefix));
        }

        var hash = Hash(dmpId, datasetKey);
        var head = prefix.Length == 0 ? string.Empty : prefix + "-";
        var slugBudget = MaxLength - head.Length - 1 - HashLength;
        var slug = Slug(datasetKey, slugBudget);
        return slug.Length == 0 ? head + hash : head + slug + "-" + hash;
    }

    /// <summary>Azure's rules: 3-63 characters; lowercase letters, digits and hyphens; no leading, trailing or double hyphen.</summary>
    public static bool IsValidContainerName(string? name)
    {
        if (name is null || name.Length is < MinLength or > MaxLength)
        {
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '-')
            {
                if (i == 0 || i == name.Length - 1 || name[i - 1] == '-')
                {
                    return false;
                }
            }
            else if (!IsLowerAlphaNumeric(c))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsValidPrefix(string prefix) =>
        prefix.Length == 0 || (prefix.Length <= MaxPrefixLength && IsValidSegment(prefix));

    private static bool IsValidSegment(string text)
    {
        if (text.Length == 0 || text[0] == '-' || text[^1] == '-')
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '-' ? text[i - 1] == '-' : !IsLowerAlphaNumeric(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLowerAlphaNumeric(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');

    private static string Hash(string dmpId, string datasetKey)
    {
        // Length prefixes make the encoding injective: ("a|b", "c") and ("a", "b|c") cannot produce the same bytes.
        var canonical = string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"gardien-container-v1\n{dmpId.Length}:{dmpId}\n{datasetKey.Length}:{datasetKey}");
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var utf8 = Encoding.UTF8.GetBytes(canonical);
        SHA256.HashData(utf8, digest);
        return Base32(digest, HashLength);
    }

    private static string Base32(ReadOnlySpan<byte> bytes, int characters)
    {
        Span<char> chars = stackalloc char[characters];
        int buffer = 0, bits = 0, index = 0, written = 0;
        while (written < characters)
        {
            if (bits < 5)
            {
                buffer = (buffer << 8) | bytes[index++];
                bits += 8;
            }

            bits -= 5;
            chars[written++] = Base32Alphabet[(buffer >> bits) & 31];
        }

        return new string(chars);
    }

    /// <summary>
    /// Lowercase ASCII letters and digits of the id without its URL scheme and resolver host (https://doi.org/...),
    /// other runs collapsed to one hyphen; when too long, whole leading segments are dropped so the distinctive tail stays.
    /// </summary>
    private static string Slug(string text, int budget)
    {
        if (budget <= 0)
        {
            return string.Empty;
        }

        var builder = new StringBuilder(text.Length);
        foreach (var c in StripResolver(text))
        {
            var lower = char.ToLowerInvariant(c);
            if (IsLowerAlphaNumeric(lower))
            {
                builder.Append(lower);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        var slug = builder.ToString().Trim('-');
        if (slug.Length > budget)
        {
            var tail = slug[^budget..];
            var boundary = tail.IndexOf('-', StringComparison.Ordinal);
            slug = (boundary >= 0 && boundary < tail.Length - 1 && slug[^(budget + 1)] != '-' ? tail[(boundary + 1)..] : tail).Trim('-');
        }

        return slug;
    }

    private static ReadOnlySpan<char> StripResolver(string text)
    {
        var span = text.AsSpan().Trim();
        var scheme = span.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return span;
        }

        var rest = span[(scheme + 3)..];
        var slash = rest.IndexOf('/');
        return slash >= 0 && slash < rest.Length - 1 ? rest[(slash + 1)..] : rest;
    }
}
