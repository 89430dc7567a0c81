using System.Text;
using Gardien.Workflows.Text;

namespace Gardien.Workflows.Http.Pages;

/// <summary>
/// The pages' frame and small helpers. Every value a page did not write itself goes through <see cref="Text"/>
/// (<see cref="UntrustedText.HtmlInline"/>): escaped, one line, control and invisible characters shown. No script, no
/// external resource: the pages work offline and under a policy that forbids both.
/// </summary>
public static class Html
{
    // Colours chosen for a contrast ratio of at least 7:1 against their background (WCAG AAA for body text).
    private const string Style = """
        :root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;
        color:#1a1a1a;background:#fff}
        body{margin:0}main{max-width:72rem;margin:0 auto;padding:1rem 1.25rem 3rem}
        .skip{position:absolute;left:-100vw}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:2}
        header{background:#12355b;color:#fff}
        header nav{max-width:72rem;margin:0 auto;padding:.6rem 1.25rem;display:flex;gap:1.25rem;align-items:center}
        header a{color:#fff;font-weight:600}header .brand{font-size:1.15rem;margin-right:auto;text-decoration:none}
        a{color:#0b3d91}a:focus,button:focus,textarea:focus,input:focus{outline:3px solid #c45500;outline-offset:2px}
        h1{font-size:1.6rem;margin:.8rem 0}h2{font-size:1.2rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ccc}
        table{border-collapse:collapse;width:100%;margin:.4rem 0}
        th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}
        th{background:#eef1f5}caption{text-align:left;font-weight:600;padding:.3rem 0}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
        .button{display:inline-block;padding:.5rem 1rem;border-radius:.3rem;border:2px solid #0b3d91;background:#0b3d91;color:#fff;
        font:inherit;
        font-weight:600;text-decoration:none;cursor:pointer}
        .button.reject{background:#8b1a1a;border-color:#8b1a1a}.button.secondary{background:#fff;color:#0b3d91}
        textarea{width:100%;max-width:40rem;font:inherit}.note{color:#444}.error{color:#8b1a1a;font-weight:600}
        .ok{color:#1d5e20;font-weight:600}
        .card{border:1px solid #999;border-radius:.4rem;padding:.8rem 1rem;margin:1rem 0;max-width:48rem}
        .card.unread{border-left:.4rem solid #0b3d91}
        .card h3{margin:.2rem 0 .5rem;font-size:1.05rem}.card .body{white-space:pre-wrap}
        .actions{display:flex;gap:.6rem;flex-wrap:wrap;margin-top:.6rem}
        .badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#0b3d91;color:#fff;font-size:.85rem;font-weight:600}
        .state-Active{color:#1d5e20}.state-Rejected,.state-Failed{color:#8b1a1a}svg text{font-size:11px;fill:#1a1a1a}
        """;

    /// <summary>The value escaped for HTML text or a quoted attribute, on one line.</summary>
    public static string Text(string? value) => UntrustedText.HtmlInline(value);

    /// <summary>A whole page.</summary>
    /// <param name="navigation">The local service's links (dashboard, inbox); off for pages the Azure app serves alone.</param>
    public static string Page(PageTexts texts, string title, string body, bool navigation)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var page = new StringBuilder(body.Length + 4096)
            .Append("<!DOCTYPE html><html lang=\"").Append(texts.Lang).Append("\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">")
            .Append("<meta name=\"referrer\" content=\"no-referrer\">")
            .Append("<title>Gardien: ").Append(Text(title)).Append("</title><style>").Append(Style).Append("</style></head><body>")
            .Append("<a class=\"skip\" href=\"#main\">").Append(Text(texts.SkipToContent)).Append("</a>")
            .Append("<header><nav aria-label=\"Gardien\"><a class=\"brand\" href=\"").Append(navigation
                ? "/" : "#main").Append("\">Gardien</a>");
        if (navigation)
        {
            var lang = "?lang=" + texts.Lang;
            page.Append("<a href=\"/").Append(lang).Append("\">").Append(Text(texts.Dashboard)).Append("</a>")
                .Append("<a href=\"/inbox").Append(lang).Append("\">").Append(Text(texts.Inbox)).Append("</a>")
                .Append("<a href=\"/api/health\">").Append(Text(texts.Api)).Append("</a>");
        }

        return page.Append("</nav></header><main id=\"main\"><h1>").Append(Text(title)).Append("</h1>")
            .Append(body).Append("</main></body></html>").ToString();
    }

    /// <summary>A table with a caption and column headers; each cell is already HTML.</summary>
    public static string Table(string caption, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var html = new StringBuilder("<table><caption>").Append(Text(caption)).Append("</caption><thead><tr>");
        foreach (var header in headers)
        {
            html.Append("<th scope=\"col\">").Append(Text(header)).Append("</th>");
        }

        html.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
            {
                html.Append("<td>").Append(cell).Append("</td>");
            }

            html.Append("</tr>");
        }

        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>A description list of name/value pairs; values are untrusted text.</summary>
    public static string Facts(IEnumerable<(string Name, string? Value)> facts)
    {
        var html = new StringBuilder("<dl class=\"facts\">");
        foreach (var (name, value) in facts)
        {
            html.Append("<dt>").Append(Text(name)).Append("</dt><dd>").Append(Text(string.IsNullOrEmpty(value)
                ? "-" : value)).Append("</dd>");
        }

        return html.Append("</dl>").ToString();
    }
}
