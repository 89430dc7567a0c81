using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Gardien.Cli;

/// <summary>
/// A console whose tables and grids never break a word (an e-mail address, a container name, an identifier) across
/// lines: columns get at least their longest word, the rest of the width goes to the columns with the most text, and a
/// table that cannot fit that way is written as one block of "Column: value" lines per row instead.
/// </summary>
/// <remarks>
/// Spectre.Console shrinks the widest columns first when a table is too wide and folds the words that no longer fit,
/// which cuts e-mail addresses and identifiers in two. Setting every column's width here leaves it nothing to shrink.
/// A single word longer than the whole line is the only thing that exceeds the width: it is printed whole.
/// </remarks>
internal sealed class WordSafeConsole(IAnsiConsole inner, TextWriter output) : IAnsiConsole
{
    private const int NoLimit = 100_000;

    /// <summary>The narrowest a column of running text may get in a table; below it the rows are written as blocks.</summary>
    private const int ReadableProse = 30;

    public Profile Profile => inner.Profile;

    public IAnsiConsoleCursor Cursor => inner.Cursor;

    public IAnsiConsoleInput Input => inner.Input;

    public IExclusivityMode ExclusivityMode => inner.ExclusivityMode;

    public RenderPipeline Pipeline => inner.Pipeline;

    public void Clear(bool home) => inner.Clear(home);

    public void WriteAnsi(Action<AnsiWriter> action) => inner.WriteAnsi(action);

    public void Write(IRenderable renderable)
    {
        switch (renderable)
        {
            case Table table:
                WriteTable(table);
                break;
            case Grid grid:
                WriteGrid(grid);
                break;
            default:
                inner.Write(renderable);
                break;
        }
    }

    private void WriteTable(Table table)
    {
        var headers = table.Columns.Select(c => Plain(c.Header)).ToList();
        var rows = table.Rows.Select(row => row.Select(Plain).ToList()).ToList();
        var noWrap = table.Columns.Select(c => c.NoWrap).ToList();
        var padding = table.Columns.Select(c => (c.Padding?.Left ?? 1) + (c.Padding?.Right ?? 1)).ToList();
        var borders = table.Border == TableBorder.None ? 0 : table.Columns.Count + 1;
        var widths = FitColumns([headers, .. rows], noWrap, padding.Sum() + borders);
        if (widths is null)
        {
            var title = table.Title is { } t ? Plain(new Text(t.Text)) : null;
            WriteRecords(title, headers, rows);
            return;
        }

        for (var i = 0; i < widths.Count; i++)
        {
            table.Columns[i].Width = widths[i];
        }

        table.Expand = false;
        inner.Write(table);
    }

    private void WriteGrid(Grid grid)
    {
        var rows = grid.Rows.Select(row => row.Select(Plain).ToList()).ToList();
        var noWrap = grid.Columns.Select(c => c.NoWrap).ToList();
        var padding = grid.Columns.Select(c => (c.Padding?.Left ?? 0) + (c.Padding?.Right ?? 0)).ToList();
        var widths = rows.Count == 0 ? null : FitColumns(rows, noWrap, padding.Sum());
        if (widths is null)
        {
            WriteRecords(null, null, rows);
            return;
        }

        for (var i = 0; i < widths.Count; i++)
        {
            grid.Columns[i].Width = widths[i];
        }

        inner.Write(grid);
    }

    /// <summary>Content widths that fit the console without breaking a word, or null when there are none.</summary>
    private List<int>? FitColumns(List<List<string>> rows, List<bool> noWrap, int overhead)
    {
        var count = noWrap.Count;
        var min = new int[count];
        var max = new int[count];
        foreach (var row in rows)
        {
            for (var i = 0; i < Math.Min(count, row.Count); i++)
            {
                var lines = row[i].Split('\n');
                var longestLine = lines.Max(Width);
                max[i] = Math.Max(max[i], longestLine);
                min[i] = Math.Max(min[i], noWrap[i] ? longestLine : lines.SelectMany(Words).Select(Width).DefaultIfEmpty(0).Max());
            }
        }

        var available = Profile.Width - overhead;
        if (min.Sum() > available)
        {
            return null;
        }

        // Start from the longest word; then, in rounds, columns that lack less than an equal share of the spare room get
        // all they lack (short columns such as labels and dates stay on one line), and the last ones share what is left.
        var widths = min.ToArray();
        var spare = available - min.Sum();
        while (spare > 0)
        {
            var open = Enumerable.Range(0, count).Where(i => widths[i] < max[i]).ToList();
            if (open.Count == 0)
            {
                break;
            }

            var share = spare / open.Count;
            var satisfied = open.Where(i => max[i] - widths[i] <= share).ToList();
            if (satisfied.Count == 0)
            {
                foreach (var i in open)
                {
                    widths[i] += share;
                }

                break;
            }

            foreach (var i in satisfied)
            {
                spare -= max[i] - widths[i];
                widths[i] = max[i];
            }
        }

        // A column of prose squeezed to a few words per line reads worse than the same row written as a block.
        if (Enumerable.Range(0, count).Any(i => widths[i] < Math.Min(max[i], ReadableProse)))
        {
            return null;
        }

        return [.. widths.Select(w => Math.Max(1, w))];
    }

    /// <summary>One block per row: "Column  value" lines, values wrapped between words under a hanging indent.</summary>
    private void WriteRecords(string? title, List<string>? headers, List<List<string>> rows)
    {
        var width = Profile.Width;
        if (title is not null)
        {
            output.WriteLine(title);
        }

        var labelWidth = headers is null
            ? Math.Min(width / 3, rows.Select(r => r.Count > 0 ? Width(r[0]) : 0).DefaultIfEmpty(0).Max())
            : Math.Min(width / 3, headers.Select(Width).DefaultIfEmpty(0).Max());
        var indent = headers is null ? 0 : 2;
        var valueWidth = Math.Max(20, width - indent - labelWidth - 2);
        foreach (var row in rows)
        {
            var pairs = headers is null
                ? [(row.Count > 0 ? row[0] : string.Empty, string.Join("\n", row.Skip(1)))]
                : headers.Select((h, i) => (Label: h, Value: i < row.Count ? row[i] : string.Empty)).ToList();
            foreach (var (label, value) in pairs)
            {
                var lines = Wrap(value, valueWidth);
                for (var i = 0; i < lines.Count; i++)
                {
                    var lead = i == 0 ? label.PadRight(labelWidth) : new string(' ', labelWidth);
                    output.WriteLine((new string(' ', indent) + lead + "  " + lines[i]).TrimEnd());
                }
            }

            if (headers is not null)
            {
                output.WriteLine();
            }
        }
    }

    /// <summary>Word wrapping that never splits a word: a word longer than the width gets a line of its own.</summary>
    internal static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        foreach (var paragraph in text.Split('\n'))
        {
            var line = new StringBuilder();
            foreach (var word in Words(paragraph))
            {
                if (line.Length > 0 && Width(line.ToString()) + 1 + Width(word) > width)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }

                if (line.Length > 0)
                {
                    line.Append(' ');
                }

                line.Append(word);
            }

            lines.Add(line.ToString());
        }

        return lines;
    }

    private static IEnumerable<string> Words(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Terminal cells a text takes: wide (East Asian, emoji) characters take two.</summary>
    private static int Width(string text)
    {
        var cells = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            cells += rune.Value switch
            {
                >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3 or >= 0xF900 and <= 0xFAFF
                    or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6
                    or >= 0x1F300 and <= 0x1F64F or >= 0x1F900 and <= 0x1F9FF or >= 0x20000 and <= 0x3FFFD => 2,
                _ when Rune.GetUnicodeCategory(
                    rune) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.Format => 0,
                _ => 1,
            };
        }

        return cells;
    }

    /// <summary>The text of a cell as it reads, lines separated by '\n', without any wrapping.</summary>
    private string Plain(IRenderable renderable)
    {
        var options = RenderOptions.Create(inner, inner.Profile.Capabilities) with { ConsoleSize = new Size(NoLimit, 1) };
        var builder = new StringBuilder();
        foreach (var segment in renderable.Render(options, NoLimit))
        {
            if (segment.IsLineBreak)
            {
                builder.Append('\n');
            }
            else if (!segment.IsControlCode)
            {
                builder.Append(segment.Text);
            }
        }

        return builder.ToString().TrimEnd('\n', ' ');
    }
}
