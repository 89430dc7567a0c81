using System.Globalization;
using System.Text.RegularExpressions;
using Gardien.Workflows.Text;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// Reads the non-ISO dates people type into DMP tools (<c>31/12/2028</c>, <c>2028/12/31</c>, <c>31.12.2028</c>,
/// <c>20281231</c>, <c>31 December 2028</c>, <c>31 décembre 2028</c>) and says which format it assumed. A numeric
/// date whose day and month could be swapped (<c>01/02/2028</c>) is read only when the document settles the order: a
/// date with dots (day first in every convention that writes them), or other dates of the same document written with
/// the same separator that only one order can read (<c>31/01/2028</c>); otherwise it is not read, and the warning
/// gives both readings.
/// </summary>
internal static partial class LenientDates
{
    /// <summary>Which of day and month comes first in a document's numeric dates, when its unambiguous dates agree.</summary>
    internal enum Order
    {
        DayFirst,
        MonthFirst,
    }

    /// <param name="Date">The date read; null when it could not be read honestly.</param>
    /// <param name="Explanation">What was assumed (e.g. "DD/MM/YYYY: day, month, year"), or why nothing was read.</param>
    internal sealed record Reading(DateOnly? Date, string Explanation);

    /// <summary>English and French month names and abbreviations, without accents (the words are folded before lookup).</summary>
    private static readonly Dictionary<string, int> Months = new (int Month, string Names)[]
    {
        (1, "january jan janvier janv"),
        (2, "february feb fevrier fevr fev"),
        (3, "march mar mars"),
        (4, "april apr avril avr"),
        (5, "may mai"),
        (6, "june jun juin"),
        (7, "july jul juillet juil"),
        (8, "august aug aout"),
        (9, "september sep sept septembre"),
        (10, "october oct octobre"),
        (11, "november nov novembre"),
        (12, "december dec decembre"),
    }.SelectMany(m => m.Names.Split(' ').Select(name => (Name: name, m.Month)))
        .ToDictionary(m => m.Name, m => m.Month, StringComparer.Ordinal);

    /// <summary>An ISO 8601 calendar date, alone or starting a date-time: left to the schema and the model as it is.</summary>
    public static bool IsIso(string text) => IsoStart().IsMatch(text);

    /// <summary>
    /// The order settled by the document's dates that only one order can read, with the first of them as an example;
    /// null when there are none or they disagree.
    /// </summary>
    public static (Order? Order, string? Example) DocumentOrder(IEnumerable<string> texts)
    {
        string? dayFirst = null;
        string? monthFirst = null;
        foreach (var text in texts)
        {
            if (Numeric().Match(text.Trim()) is { Success: true } match && match.Groups["sep"].Value != ".")
            {
                var first = int.Parse(match.Groups["a"].Value, CultureInfo.InvariantCulture);
                var second = int.Parse(match.Groups["b"].Value, CultureInfo.InvariantCulture);
                dayFirst ??= first > 12 && second <= 12 ? text.Trim() : null;
                monthFirst ??= second > 12 && first <= 12 ? text.Trim() : null;
            }
        }

        return (dayFirst is null) == (monthFirst is null) ? (null, null)
            : dayFirst is not null ? (Order.DayFirst, dayFirst)
            : (Order.MonthFirst, monthFirst);
    }

    /// <summary>
    /// The date in <paramref name="text"/> with the format assumed; null when the text is ISO already or no known form
    /// (the schema then reports it as it is).
    /// </summary>
    /// <param name="order">The document's order (<see cref="DocumentOrder"/>), for the dates either order could read.</param>
    /// <param name="orderExample">A date of the document that settles that order, quoted in the explanation.</param>
    public static Reading? Read(string text, Order? order, string? orderExample)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0 || IsIso(trimmed))
        {
            return null;
        }

        if ((YearFirst().Match(trimmed) is { Success: true } yearFirst ? yearFirst : Compact().Match(trimmed)) is { Success: true } ymd)
        {
            var separator = ymd.Groups["sep"].Value;
            var format = separator.Length == 0 ? "YYYYMMDD" : $"YYYY{separator}MM{separator}DD";
            return Make(ymd.Groups["y"].Value, ymd.Groups["m"].Value, ymd.Groups["d"].Value, $"{format}: year, month, day");
        }

        if (Numeric().Match(trimmed) is { Success: true } numeric)
        {
            return ReadNumeric(numeric, order, orderExample);
        }

        return ReadWithMonthName(trimmed);
    }

    private static Reading? ReadNumeric(Match match, Order? order, string? orderExample)
    {
        var a = match.Groups["a"].Value;
        var b = match.Groups["b"].Value;
        var year = match.Groups["y"].Value;
        var sep = match.Groups["sep"].Value;
        var dayFirst = $"DD{sep}MM{sep}YYYY: day, month, year";
        var monthFirst = $"MM{sep}DD{sep}YYYY: month, day, year";
        if (year.Length == 2)
        {
            return new Reading(null, "the year has two digits, so the century is not known");
        }

        var first = int.Parse(a, CultureInfo.InvariantCulture);
        var second = int.Parse(b, CultureInfo.InvariantCulture);
        if (first > 12 || first == second)
        {
            return Make(year, b, a, dayFirst);
        }

        if (second > 12)
        {
            return Make(year, a, b, monthFirst);
        }

        if (sep == ".")
        {
            return Make(year, b, a, dayFirst + " (dates written with dots put the day first)");
        }

        if (order is { } settled)
        {
            var because = $" like the other dates of this document{(orderExample is null ? string.Empty : $" (\"{orderExample}\")")}";
            return settled == Order.DayFirst ? Make(year, b, a, dayFirst + because) : Make(year, a, b, monthFirst + because);
        }

        // Both readings are dates (day and month are both at most 12): guessing could move a deadline by months.
        return Date(year, b, a) is { } d && Date(year, a, b) is { } m
            ? new Reading(null, $"it can be read as {Long(d)} ({dayFirst}) or as {Long(m)} ({monthFirst}), "
                + "and no other date of the document settles which")
            : null;
    }

    /// <summary>"31 December 2028", "December 31, 2028", "1er janvier 2028", "31 déc. 2028".</summary>
    private static Reading? ReadWithMonthName(string text)
    {
        var words = FoldedWords.Split(text).Select(w => w.Folded).Where(w => w is not ("le" or "the" or "of" or "de")).ToList();
        if (words.Count != 3)
        {
            return null;
        }

        // Ordinal suffixes: "1er", "1st", "2nd", "3rd", "4th".
        static string Day(string word) => word.Length > 2 && word[^2..] is "er" or "st" or "nd" or "rd" or "th" ? word[..^2] : word;

        if (Months.TryGetValue(words[1], out var month) && words[2].Length == 4 && IsNumber(Day(words[0])))
        {
            return Make(words[2], month.ToString(CultureInfo.InvariantCulture), Day(words[0]), "day, month name, year");
        }

        if (Months.TryGetValue(words[0], out month) && words[2].Length == 4 && IsNumber(Day(words[1])))
        {
            return Make(words[2], month.ToString(CultureInfo.InvariantCulture), Day(words[1]), "month name, day, year");
        }

        return null;
    }

    private static bool IsNumber(string text) => text.Length is > 0 and <= 2 && text.All(char.IsAsciiDigit);

    private static Reading? Make(string year, string month, string day, string format) =>
        Date(year, month, day) is { } date ? new Reading(date, format) : null;

    private static DateOnly? Date(string year, string month, string day) =>
        int.TryParse(year, CultureInfo.InvariantCulture, out var y) && int.TryParse(month, CultureInfo.InvariantCulture, out var m)
        && int.TryParse(day, CultureInfo.InvariantCulture, out var d)
        && y is >= 1 and <= 9999 && m is >= 1 and <= 12 && d >= 1 && d <= DateTime.DaysInMonth(y, m)
            ? new DateOnly(y, m, d)
            : null;

    /// <summary>"1 February 2028": a form nobody can misread.</summary>
    internal static string Long(DateOnly date) => date.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([Tt ]|$)", RegexOptions.CultureInvariant)]
    private static partial Regex IsoStart();

    [GeneratedRegex(@"^(?<y>\d{4})(?<sep>[-/.])(?<m>\d{1,2})\k<sep>(?<d>\d{1,2})$", RegexOptions.CultureInvariant)]
    private static partial Regex YearFirst();

    [GeneratedRegex(@"^(?<y>\d{4})(?<sep>)(?<m>\d{2})(?<d>\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Compact();

    [GeneratedRegex(@"^(?<a>\d{1,2})(?<sep>[-/.])(?<b>\d{1,2})\k<sep>(?<y>\d{4}|\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Numeric();
}
