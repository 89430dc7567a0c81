using System.Globalization;
using System.Text;
using Gardien.Workflows.Http.Pages;

namespace Gardien.Local.Serve;

/// <summary>
/// The dashboard's timeline: an inline SVG chart (no script, works offline) with one lane per kind of date and a marker
/// per date, followed by the same dates as a list, so that a screen reader or a keyboard user gets every date.
/// </summary>
internal static class Timeline
{
    private const int Width = 900;
    private const int LaneHeight = 34;
    private const int Left = 170;
    private const int Right = 20;
    private const int Top = 28;

    private static readonly string[] Colours = ["#0b3d91", "#8b1a1a", "#1d5e20", "#6a3d9a"];

    public static string Render(PageTexts texts, DateOnly today, IReadOnlyList<(DateOnly Date, string Kind, string What)> items)
    {
        var lanes = items.Select(i => i.Kind).Distinct(StringComparer.Ordinal).ToList();
        var last = items.Max(i => i.Date);
        var span = Math.Max(30, last.DayNumber - today.DayNumber);
        var height = Top + (lanes.Count * LaneHeight) + 24;
        double X(DateOnly date) => Left + ((Width - Left - Right) * (double)(date.DayNumber - today.DayNumber) / span);

        var svg = new StringBuilder()
            .Append(CultureInfo.InvariantCulture,
                $"<svg role=\"img\" aria-labelledby=\"timeline-title timeline-desc\" viewBox=\"0 0 {Width} {height}\" width=\"100%\">")
            .Append("<title id=\"timeline-title\">").Append(Html.Text(texts.Timeline)).Append("</title>")
            .Append("<desc id=\"timeline-desc\">").Append(Html.Text(texts.TimelineSummary)).Append("</desc>");

        // Year ticks along the top.
        for (var year = today.Year + 1; year <= last.Year; year += Math.Max(1, (last.Year - today.Year) / 8))
        {
            var x = X(new DateOnly(year, 1, 1));
            svg.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{x:F1}\" y1=\"{Top - 6}\" x2=\"{x:F1}\" y2=\"{height - 20}\" stroke=\"#bbb\"/>")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 2:F1}\" y=\"{Top - 10}\">{year}</text>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{height - 4}\">{texts.Date(today)}</text>");
        for (var lane = 0; lane < lanes.Count; lane++)
        {
            var y = Top + (lane * LaneHeight) + (LaneHeight / 2);
            var colour = Colours[lane % Colours.Length];
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{y + 4}\">{Html.Text(lanes[lane])}</text>")
                .Append(CultureInfo.InvariantCulture,
                    $"<line x1=\"{Left}\" y1=\"{y}\" x2=\"{Width - Right}\" y2=\"{y}\" stroke=\"#888\"/>");
            foreach (var item in items.Where(i => i.Kind == lanes[lane]))
            {
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(item.Date):F1}\" cy=\"{y}\" r=\"6\" fill=\"{colour}\">")
                    .Append("<title>").Append(Html.Text($"{texts.Date(item.Date)}: {item.Kind}, {item.What}")).Append("</title></circle>");
            }
        }

        svg.Append("</svg><ul class=\"timeline\">");
        foreach (var item in items)
        {
            svg.Append("<li><strong>").Append(Html.Text(texts.Date(item.Date))).Append("</strong> ").Append(Html.Text(item.Kind))
                .Append(": ").Append(Html.Text(item.What)).Append("</li>");
        }

        return svg.Append("</ul>").ToString();
    }
}
