using System.Globalization;
using System.Net;
using System.Text;

namespace Gardien.Workflows.Text;

/// <summary>
/// Neutralises text Gardien did not write (DMP titles, names, identifiers, approvers' comments, messages quoting them)
/// for the place it is shown. Such text can carry terminal escape sequences (ANSI, OSC-8 hyperlinks), carriage returns
/// and line feeds that forge lines ("Approved by DPO: yes"), bidirectional overrides that reorder what is read, and
/// markup that becomes links or formatting. Each output has its own function; all of them show the dangerous
/// characters as visible escapes (<c>\x1b</c>, <c>\r</c>, <c>\n</c>, <c>\u202e</c>) instead of dropping them, so a reviewer
/// sees that something odd was there, and all of them return one line.
/// </summary>
public static class UntrustedText
{
    // Characters that form inline Markdown anywhere (code, emphasis, links, autolinks, raw HTML, entities, tables,
    // strikethrough). Others are escaped only where they would act: at the start of the value (headings, lists, quotes),
    // as the ':' of "scheme://" and the '.' of "www." (autolinks), and '_' next to a non-word character (emphasis).
    private const string MarkdownInlineSpecials = "\\`*[]<>&|~";
    private const string MarkdownBlockStarts = "#-+=>!";

    /// <summary>For a terminal: controls, line breaks and invisible formatting characters escaped; one line.</summary>
    public static string Console(string? text) => Escape(text, keepLineFeeds: false);

    /// <summary>For a terminal, where several lines are expected: as <see cref="Console"/> but line feeds are kept.</summary>
    public static string ConsoleBlock(string? text) => Escape(text, keepLineFeeds: true);

    /// <summary>One line of plain text (a message subject, a log field): as <see cref="Console"/>.</summary>
    public static string PlainLine(string? text) => Escape(text, keepLineFeeds: false);

    /// <summary>
    /// For inline Markdown (a value inside a sentence, a list item, a heading): one line, every Markdown metacharacter
    /// backslash-escaped, so no link, image, emphasis, heading, list, table or autolink can form from the value.
    /// </summary>
    public static string MarkdownInline(string? text) => EscapeMarkdown(Escape(text, keepLineFeeds: false), htmlEntities: false);

    /// <summary>For HTML text or a quoted attribute value: one line, HTML-encoded.</summary>
    public static string HtmlInline(string? text) => WebUtility.HtmlEncode(Escape(text, keepLineFeeds: false));

    /// <summary>
    /// For the <c>text</c> of an Adaptive Card TextBlock (which renders a Markdown subset: emphasis, lists, links): one
    /// line, the Markdown metacharacters escaped and <c>&lt; &gt; &amp;</c> written as HTML entities (some clients render
    /// text containing them as HTML; both renderings show the entity as the character).
    /// Clients differ in how they honour backslash escapes, so where possible put such text in a <c>TextRun</c> of a
    /// <c>RichTextBlock</c>, which renders no Markdown at all.
    /// </summary>
    public static string AdaptiveCardText(string? text) => EscapeMarkdown(Escape(text, keepLineFeeds: false), htmlEntities: true);

    /// <summary>
    /// True when the character is shown escaped (controls, line and paragraph separators, invisible formatting and bidi controls).
    /// </summary>
    public static bool IsNeutralised(Rune rune) =>
        Rune.IsControl(rune)
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    private static string Escape(string? text, bool keepLineFeeds)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (!NeedsEscaping(text, keepLineFeeds))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    var rune = new Rune(c, text[i + 1]);
                    if (IsNeutralised(rune))
                    {
                        builder.Append(CultureInfo.InvariantCulture, $"\\U{rune.Value:x8}");
                    }
                    else
                    {
                        builder.Append(c).Append(text[i + 1]);
                    }

                    i++;
                }
                else
                {
                    // A lone surrogate is not text at all.
                    builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                }

                continue;
            }

            if (c == '\n' && keepLineFeeds)
            {
                builder.Append(c);
                continue;
            }

            if (!IsNeutralised(new Rune(c)))
            {
                builder.Append(c);
                continue;
            }

            builder.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < '\u0100' => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            });
        }

        return builder.ToString();
    }

    private static bool NeedsEscaping(string text, bool keepLineFeeds)
    {
        foreach (var c in text)
        {
            if (char.IsSurrogate(c) || (c == '\n' ? !keepLineFeeds : IsNeutralised(new Rune(c))))
            {
                return true;
            }
        }

        return false;
    }

    private static string EscapeMarkdown(string text, bool htmlEntities)
    {
        // Leading and trailing blanks are invisible, and would start an indented code block or end the line with a break.
        text = text.Trim(' ');
        var builder = new StringBuilder(text.Length + 8);
        var digitsAtStart = 0;
        while (digitsAtStart < text.Length && digitsAtStart < 9 && char.IsAsciiDigit(text[digitsAtStart]))
        {
            digitsAtStart++;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var escape = MarkdownInlineSpecials.Contains(c, StringComparison.Ordinal)
                || (i == 0 && MarkdownBlockStarts.Contains(c, StringComparison.Ordinal))
                || (i == digitsAtStart && i > 0 && c is '.' or ')')
                || (c == '_'
                    && (i == 0 || i == text.Length - 1 || !char.IsLetterOrDigit(text[i - 1]) || !char.IsLetterOrDigit(text[i + 1])))
                || (c == ':' && i + 2 < text.Length && text[i + 1] == '/' && text[i + 2] == '/')
                || (c == '.'
                    && i >= 3
                    && text.AsSpan(i - 3, 3).Equals("www", StringComparison.OrdinalIgnoreCase)
                    && (i == 3 || !char.IsLetterOrDigit(text[i - 4])));
            if (htmlEntities && c is '&' or '<' or '>')
            {
                builder.Append(c switch { '&' => "&amp;", '<' => "&lt;", _ => "&gt;" });
                continue;
            }

            if (escape)
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
