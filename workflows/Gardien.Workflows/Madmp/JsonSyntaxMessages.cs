using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// Puts what System.Text.Json's reader says about malformed input ("Expected depth to be zero…", "Change the reader
/// options") into words a data steward can act on, always with the line and column.
/// </summary>
internal static class JsonSyntaxMessages
{
    /// <summary>The kind of syntax problem; <see cref="Tolerable"/> ones are accepted, with a warning, in lenient mode.</summary>
    public enum Kind
    {
        Other,
        TrailingComma,
        Comment,
        Depth,
    }

    public static bool Tolerable(Kind kind) => kind is Kind.TrailingComma or Kind.Comment;

    /// <summary>One error at the position the reader reports.</summary>
    public static (ValidationIssue Issue, Kind Kind) Describe(JsonException ex, ReadOnlySpan<byte> utf8Json, int maxDepth)
    {
        var lineNumber = ex.LineNumber ?? 0;
        var bytePosition = ex.BytePositionInLine ?? 0;
        var line = (int)Math.Min(int.MaxValue, lineNumber + 1);
        var column = JsonTreeBuilder.Column(utf8Json, lineNumber, bytePosition);
        var offset = Offset(utf8Json, lineNumber, bytePosition);
        var reason = ex.Message;
        if (Has(reason, "JSON literal"))
        {
            // The reader stops inside or after a misspelt literal (tru, Null, yes): point at the word's first letter.
            var start = offset;
            while (start > 0 && start <= utf8Json.Length && char.IsAsciiLetter((char)utf8Json[(int)start - 1]))
            {
                start--;
            }

            offset = start;
            (line, column) = JsonTreeBuilder.Position(utf8Json, offset);
        }

        var found = Found(utf8Json, offset);
        var where = $"line {line}, column {column}";

        (string Text, Kind Kind) described = reason switch
        {
            _ when Has(reason, "maximum configured depth") =>
                (
                    $"The document nests objects or lists more than {maxDepth} levels deep ({where}). A maDMP needs fewer than 10; "
                    + "check for a generated or corrupted file.",
                    Kind.Depth),
            _ when Has(reason, "trailing comma") =>
                (
                    $"The document is not valid JSON at {where}: a comma before a closing {(Has(reason, "array") ? "]" : "}")}. "
                    + "JSON allows no comma after the last item; remove it.",
                    Kind.TrailingComma),
            _ when (Has(reason, "comment") && !Has(reason, "end of comment")) || found == "'/'" =>
                (
                    $"The document is not valid JSON at {where}: a comment (// or /* */), which JSON does not allow. Remove it.",
                    Kind.Comment),
            _ when Has(reason, "end of comment") =>
                ($"The document is not valid JSON at {where}: a comment /* is never closed with */.", Kind.Other),
            _ when Has(reason, "end of string") =>
                (
                    $"The document is not valid JSON at {where}: a text value or property name is never closed; "
                    + "its closing double quote \" is missing.",
                    Kind.Other),
            _ when Has(reason, "depth to be zero") || Has(reason, "reached end of data") =>
                (
                    $"The document is not valid JSON at {where}: it ends before every {{ and [ is closed. Add the missing }} or ], "
                    + "or check that the file was not cut short.",
                    Kind.Other),
            _ when Has(reason, "after a single JSON value") =>
                (
                    $"The document is not valid JSON at {where}: {found} comes after the end of the document. A maDMP is one object {{ ... "
                    + $"}}; remove what follows its closing }} (or a }} too many).",
                    Kind.Other),
            _ when Has(reason, "without a matching open") =>
                (
                    $"The document is not valid JSON at {where}: {found} closes nothing that is open. Remove it, "
                    + $"or add the opening {(found.Contains('}', StringComparison.Ordinal) ? "{" : "[")} it belongs to.",
                    Kind.Other),
            _ when Has(reason, "after a property name") =>
                (
                    $"The document is not valid JSON at {where}: a colon is missing after the property name (found {found}). "
                    + "Write \"name\": value.",
                    Kind.Other),
            _ when Has(reason, "start of a property name") =>
                (
                    $"The document is not valid JSON at {where}: expected a property name in double quotes, such as \"title\", "
                    + $"but found {found}.",
                    Kind.Other),
            _ when Has(reason, "after a value") =>
                (
                    $"The document is not valid JSON at {where}: found {found} right after a value. "
                    + $"A comma is probably missing between two items, or a }} or ] is misplaced.",
                    Kind.Other),
            _ when Has(reason, "JSON literal") || Has(reason, "start of a value") =>
                (
                    $"The document is not valid JSON at {where}: found {found} where a value was expected. "
                    + "Text must be in double quotes (\"...\"); the only bare words JSON knows are true, false and null, in lower case.",
                    Kind.Other),
            _ when Has(reason, "escapable character") || Has(reason, "hex digit") =>
                (
                    $"The document is not valid JSON at {where}: a backslash escape in a text is not one JSON knows. "
                    + "Write a backslash as \\\\, and \\u with four hexadecimal digits.",
                    Kind.Other),
            _ when Has(reason, "within a JSON string") =>
                (
                    $"The document is not valid JSON at {where}: a text contains a raw control character (a line break or a tab). "
                    + "Write it as \\n or \\t.",
                    Kind.Other),
            _ when Has(reason, "number") || Has(reason, "digit") =>
                (
                    $"The document is not valid JSON at {where}: a malformed number (found {found}). JSON numbers look like 42, "
                    + "-3.5 or 1e6: no leading zeros, no leading + or trailing dot, and a decimal point, never a comma.",
                    Kind.Other),
            _ when Has(reason, "JSON tokens") || Has(reason, "complete JSON token") =>
                ($"The document holds no JSON value ({where}). Expected a JSON object such as {{ \"dmp\": {{ ... }} }}.", Kind.Other),
            _ => ($"The document is not valid JSON at {where}: unexpected {found}.", Kind.Other),
        };

        var keyword = described.Kind == Kind.Depth ? "depth" : "json";
        return (new ValidationIssue("", described.Text, keyword, IssueSeverity.Error) { Line = line, Column = column }, described.Kind);
    }

    /// <summary>An error for the first byte sequence that is not UTF-8, or null when the whole document is UTF-8.</summary>
    public static ValidationIssue? InvalidUtf8(ReadOnlySpan<byte> utf8Json)
    {
        if (Utf8.IsValid(utf8Json))
        {
            return null;
        }

        var offset = 0;
        while (offset < utf8Json.Length)
        {
            if (Rune.DecodeFromUtf8(utf8Json[offset..], out _, out var consumed) != OperationStatus.Done)
            {
                break;
            }

            offset += consumed;
        }

        var (line, column) = JsonTreeBuilder.Position(utf8Json, offset);
        var bad = utf8Json[offset];
        var hint = bad is >= 0xA0 and <= 0xFF
            ? $" In Latin-1 or Windows-1252 it would be \"{Encoding.Latin1.GetString([bad])}\": "
                + "the file was probably saved in one of those encodings."
            : string.Empty;
        return new ValidationIssue(
            "",
            $"Line {line}, column {column}: the byte 0x{bad:X2} is not valid UTF-8, "
            + $"the encoding JSON requires.{hint} Save the file as UTF-8 and try again.",
            "encoding",
            IssueSeverity.Error)
        { Line = line, Column = column };
    }

    private static bool Has(string text, string fragment) => text.Contains(fragment, StringComparison.OrdinalIgnoreCase);

    private static long Offset(ReadOnlySpan<byte> utf8Json, long lineNumber, long bytePositionInLine)
    {
        var start = 0;
        for (long line = 0; line < lineNumber; line++)
        {
            var next = utf8Json[start..].IndexOf((byte)'\n');
            if (next < 0)
            {
                return utf8Json.Length;
            }

            start += next + 1;
        }

        return Math.Min(utf8Json.Length, start + bytePositionInLine);
    }

    /// <summary>What is at the error position, as the user would name it: "'}'", "the word 'oops'", "the end of the file".</summary>
    private static string Found(ReadOnlySpan<byte> utf8Json, long offset)
    {
        if (offset >= utf8Json.Length)
        {
            return "the end of the file";
        }

        var rest = utf8Json[(int)offset..];
        if (Rune.DecodeFromUtf8(rest, out var rune, out _) != OperationStatus.Done)
        {
            return "a byte that is not text";
        }

        if (Rune.IsLetter(rune))
        {
            var word = new StringBuilder();
            while (rest.Length > 0
                && Rune.DecodeFromUtf8(rest, out var r, out var n) == OperationStatus.Done
                && (Rune.IsLetterOrDigit(r) || r.Value == '_')
                && word.Length < 40)
            {
                word.Append(r.ToString());
                rest = rest[n..];
            }

            return $"the word '{word}'";
        }

        return rune.Value switch
        {
            '\'' => "a single quote ' (JSON uses double quotes \")",
            '\n' or '\r' => "the end of the line",
            < 0x20 => $"the control character U+{rune.Value.ToString("X4", CultureInfo.InvariantCulture)}",
            _ => $"'{rune}'",
        };
    }
}
