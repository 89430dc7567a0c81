using System.Globalization;
using System.Text;

namespace Gardien.Workflows.Governance;

/// <summary>
/// Whether an e-mail address can be a real mailbox that Gardien may send an approval to, and when two addresses are
/// the same person's. An approval link is a power: sent to a look-alike of the PI's address ("clаire@…" with a
/// Cyrillic "а", "claire＠…" with a fullwidth at sign), it lets whoever owns that look-alike approve health data.
/// <para>
/// Refused: blank or malformed addresses; control, invisible, bidirectional and space characters; compatibility
/// characters that NFKC normalisation would replace (fullwidth letters and "＠", ligatures, superscripts) and separate
/// combining accents; a local
/// part or domain label that mixes scripts (Latin with Cyrillic or Greek...; Han with kana or Hangul is one writing
/// system); a label written entirely in letters of another script that look Latin ("соре" in Cyrillic); and Latin
/// letters made to look like others ("ı" for "i"). Internationalised addresses in one script per part are accepted.
/// </para>
/// </summary>
public static class Mailbox
{
    public const int MaxLength = 254;
    public const int MaxLocalPartLength = 64;
    public const int MaxLabelLength = 63;

    // Letters of other scripts that render like Latin letters (after the Unicode confusables list, lower and upper case).
    private const string LatinLookingCyrillic = "аеорсухіјѕԁԛԝһӏүғԍАВЕКМНОРСТХІЈЅԚԜҮԌ";
    private const string LatinLookingGreek = "αικνορυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ";
    private const string LatinLookingArmenian = "օսհոցզ";

    // Latin letters beyond ASCII that exist mainly to look like other letters.
    private const string LatinLookAlikes = "ıȷĸɑɡɩʟǀǁǃꞮ";

    private const string AsciiAtext = "!#$%&'*+/=?^_`{|}~-";

    /// <summary>Null when <paramref name="address"/> can be a real mailbox; otherwise why not, in words for a user.</summary>
    public static string? Problem(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return "the address is empty";
        }

        if (address.Length > MaxLength)
        {
            return $"the address is {address.Length} characters long; a mailbox has at most {MaxLength}";
        }

        foreach (var rune in address.EnumerateRunes())
        {
            if (Invisible(rune) is { } invisible)
            {
                return invisible;
            }

            if (IsCompatibilityForm(rune))
            {
                return $"it contains '{rune}' ({Code(rune)}), a compatibility form (fullwidth, ligature, superscript, "
                    + "mathematical letter...) that only looks like an ordinary character";
            }

            if (rune.Value is >= 0x0300 and <= 0x036F)
            {
                return $"it contains the separate accent {Code(rune)} (a combining mark): "
                    + "retype the address with ordinary accented letters";
            }
        }

        var at = address.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != address.LastIndexOf('@') || at == address.Length - 1)
        {
            return "a mailbox has exactly one '@' between a local part and a domain";
        }

        var local = address[..at];
        var domain = address[(at + 1)..];
        if (local.Length > MaxLocalPartLength)
        {
            return $"the part before '@' is {local.Length} characters long; at most {MaxLocalPartLength} are allowed";
        }

        if (LocalPartProblem(local) is { } localProblem)
        {
            return localProblem;
        }

        var labels = domain.Split('.');
        if (labels.Length < 2)
        {
            return $"the domain '{domain}' has no dot: use the full domain (e.g. uni.example)";
        }

        foreach (var label in labels)
        {
            if (LabelProblem(label, domain) is { } labelProblem)
            {
                return labelProblem;
            }
        }

        return labels[^1].All(char.IsAsciiDigit) ? $"the domain '{domain}' ends in a number, not a top-level domain" : null;
    }

    /// <summary>
    /// The form two addresses are compared in to tell whether they reach the same person: trimmed, lower case, without
    /// a "mailto:" prefix and without a "+tag" (plus addressing delivers "alice+x@uni" to "alice@uni").
    /// </summary>
    public static string Canonical(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var trimmed = address.Trim();
        if (trimmed.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            trimmed = trimmed[7..];
        }

        var lower = trimmed.ToLowerInvariant();
        var at = lower.LastIndexOf('@');
        if (at <= 0)
        {
            return lower;
        }

        var plus = lower.IndexOf('+', StringComparison.Ordinal);
        return plus > 0 && plus < at ? lower[..plus] + lower[at..] : lower;
    }

    /// <summary>Whether two addresses reach the same mailbox (see <see cref="Canonical"/>).</summary>
    public static bool SamePerson(string? first, string? second) =>
        first is not null && second is not null && string.Equals(Canonical(first), Canonical(second), StringComparison.Ordinal);

    private static string? Invisible(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.Control => $"it contains the control character {Code(rune)}",
        UnicodeCategory.Format => $"it contains the invisible formatting character {Code(rune)} (zero-width or text-direction mark)",
        UnicodeCategory.SpaceSeparator
            or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator => $"it contains a space ({Code(rune)})",
        UnicodeCategory.PrivateUse
            or UnicodeCategory.Surrogate
            or UnicodeCategory.OtherNotAssigned => $"it contains {Code(rune)}, which is not a character a mailbox can use",
        _ => null,
    };

    /// <summary>
    /// Characters Unicode keeps only for compatibility, which NFKC normalisation would replace by the ordinary
    /// character they imitate. Listed by block because the hosts run with invariant globalization (no ICU, so
    /// <see cref="string.Normalize()"/> cannot be relied on).
    /// </summary>
    private static bool IsCompatibilityForm(Rune rune) => rune.Value switch
    {
        0x00AA or 0x00B2 or 0x00B3 or 0x00B5 or 0x00B9 or 0x00BA or 0x0132 or 0x0133 or 0x013F or 0x0140 or 0x0149 or 0x017F => true,
        >= 0x01C4 and <= 0x01CC or >= 0x01F1 and <= 0x01F3 => true,
        >= 0x02B0 and <= 0x02FF => true, // spacing modifier letters (ʰ, ˡ...)
        >= 0x1D2C and <= 0x1D6A or 0x1D78 or >= 0x1D9B and <= 0x1DBF => true, // modifier letters
        >= 0x2070 and <= 0x209F => true, // superscripts and subscripts
        >= 0x2100 and <= 0x218F => true, // letterlike symbols (K Kelvin, Å Ångström...), number forms, Roman numerals
        >= 0x2460 and <= 0x24FF => true, // enclosed alphanumerics
        >= 0x3200 and <= 0x33FF => true, // enclosed CJK, CJK compatibility
        >= 0xF900 and <= 0xFAFF => true, // CJK compatibility ideographs
        >= 0xFB00 and <= 0xFDFF => true, // ligatures, Hebrew and Arabic presentation forms
        >= 0xFE10 and <= 0xFE1F or >= 0xFE30 and <= 0xFE6F or >= 0xFE70 and <= 0xFEFF => true, // vertical, small and Arabic forms
        >= 0xFF00 and <= 0xFFEF => true, // halfwidth and fullwidth forms (＠, ａ...)
        >= 0x1D400 and <= 0x1D7FF => true, // mathematical alphanumeric symbols
        >= 0x1F100 and <= 0x1F1FF => true, // enclosed alphanumeric supplement
        _ => false,
    };

    private static string? LocalPartProblem(string local)
    {
        if (local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return $"the part before '@' ('{local}') starts or ends with a dot or has two dots in a row";
        }

        foreach (var rune in local.EnumerateRunes())
        {
            if (rune.IsAscii
                && !Rune.IsLetterOrDigit(rune)
                && rune.Value != '.'
                && !AsciiAtext.Contains((char)rune.Value, StringComparison.Ordinal))
            {
                return $"the part before '@' contains '{rune}', which a mailbox name cannot use unquoted";
            }
        }

        return ScriptProblem(local, "the part before '@'");
    }

    private static string? LabelProblem(string label, string domain)
    {
        if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-')
        {
            return $"the domain '{domain}' has an empty, too long or hyphen-edged part";
        }

        foreach (var rune in label.EnumerateRunes())
        {
            if (rune.Value != '-'
                && !Rune.IsLetterOrDigit(rune)
                && Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark))
            {
                return $"the domain '{domain}' contains '{rune}', which a domain name cannot use";
            }
        }

        return ScriptProblem(label, $"'{label}' in the domain");
    }

    /// <summary>One writing system per part, no part made only of letters that imitate Latin ones.</summary>
    private static string? ScriptProblem(string part, string where)
    {
        var scripts = new SortedSet<string>(StringComparer.Ordinal);
        var letters = 0;
        var latinLooking = 0;
        foreach (var rune in part.EnumerateRunes())
        {
            if (!Rune.IsLetter(rune) && !(Rune.IsDigit(rune) && !rune.IsAscii))
            {
                continue;
            }

            letters++;
            var script = Script(rune);
            scripts.Add(script);
            if (script == "Latin" && LatinLookAlikes.Contains(rune.ToString(), StringComparison.Ordinal))
            {
                return $"{where} contains '{rune}' ({Code(rune)}), a Latin letter made to look like another";
            }

            if (LooksLatin(script, rune))
            {
                latinLooking++;
            }
        }

        if (scripts.Count > 1 && !IsOneWritingSystem(scripts))
        {
            return $"{where} mixes {string.Join(" and ", scripts)} letters, as a look-alike of another address would";
        }

        return letters > 0 && latinLooking == letters && scripts.Count == 1 && scripts.Min != "Latin"
            ? $"{where} is written in {scripts.Min} letters that all look Latin, as a look-alike of a Latin address would"
            : null;
    }

    private static readonly HashSet<string> JapaneseOrChinese = new(StringComparer.Ordinal) { "Han", "Hiragana", "Katakana", "Bopomofo" };

    private static bool IsOneWritingSystem(SortedSet<string> scripts) =>
        scripts.All(s => JapaneseOrChinese.Contains(s)) || scripts.SetEquals(["Han", "Hangul"]);

    private static bool LooksLatin(string script, Rune rune)
    {
        var text = rune.ToString();
        return script switch
        {
            "Cyrillic" => LatinLookingCyrillic.Contains(text, StringComparison.Ordinal),
            "Greek" => LatinLookingGreek.Contains(text, StringComparison.Ordinal),
            "Armenian" => LatinLookingArmenian.Contains(text, StringComparison.Ordinal),
            _ => false,
        };
    }

    /// <summary>The script of a letter or digit, by Unicode block; letters of unlisted blocks are named by their block.</summary>
    internal static string Script(Rune rune) => rune.Value switch
    {
        < 0x80 => "Latin",
        >= 0x00C0 and <= 0x024F
            or >= 0x0250 and <= 0x02AF
            or >= 0x1D00 and <= 0x1DBF
            or >= 0x1E00 and <= 0x1EFF
            or >= 0x2C60 and <= 0x2C7F
            or >= 0xA720 and <= 0xA7FF
            or >= 0xAB30 and <= 0xAB6F => "Latin",
        >= 0x0370 and <= 0x03FF or >= 0x1F00 and <= 0x1FFF => "Greek",
        >= 0x0400 and <= 0x052F or >= 0x1C80 and <= 0x1C8F or >= 0x2DE0 and <= 0x2DFF or >= 0xA640 and <= 0xA69F => "Cyrillic",
        >= 0x0530 and <= 0x058F => "Armenian",
        >= 0x0590 and <= 0x05FF => "Hebrew",
        >= 0x0600 and <= 0x06FF or >= 0x0750 and <= 0x077F or >= 0x08A0 and <= 0x08FF => "Arabic",
        >= 0x0900 and <= 0x097F => "Devanagari",
        >= 0x0E00 and <= 0x0E7F => "Thai",
        >= 0x10A0 and <= 0x10FF or >= 0x2D00 and <= 0x2D2F => "Georgian",
        >= 0x1100 and <= 0x11FF or >= 0x3130 and <= 0x318F or >= 0xAC00 and <= 0xD7AF => "Hangul",
        >= 0x3040 and <= 0x309F => "Hiragana",
        >= 0x30A0 and <= 0x30FF or >= 0x31F0 and <= 0x31FF => "Katakana",
        >= 0x3100 and <= 0x312F or >= 0x31A0 and <= 0x31BF => "Bopomofo",
        >= 0x3400 and <= 0x4DBF or >= 0x4E00 and <= 0x9FFF or >= 0x20000 and <= 0x3134F => "Han",
        _ => "block U+" + (rune.Value & ~0x7F).ToString("X4", CultureInfo.InvariantCulture),
    };

    private static string Code(Rune rune) => "U+" + rune.Value.ToString("X4", CultureInfo.InvariantCulture);
}
