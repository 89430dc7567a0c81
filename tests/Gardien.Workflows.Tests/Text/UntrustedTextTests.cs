using System.Net;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gardien.Workflows.Text;
using Markdig;

namespace Gardien.Workflows.Tests.Text;

/// <summary>
/// Text made of the characters that forge output (controls, line breaks, bidi, invisible, markup), mixed with ordinary ones.
/// </summary>
public sealed record HostileText(string Value);

public static class HostileTextArbitraries
{
    private static readonly char[] Alphabet =
        "\u001b\r\n\t\u0085\u2028\u202E\u2066\u200B\uFEFF\u0000\u009baZ[]()*_#<>&:./\\ \u00e9\uD83E\uDDE0\uD800".ToCharArray();

    public static Arbitrary<HostileText> Text() =>
        Gen.Elements(Alphabet).ArrayOf().Select(chars => new HostileText(new string(chars))).ToArbitrary();
}

public sealed class UntrustedTextTests
{
    /// <summary>What a hostile DMP title carries: each would forge output in at least one place Gardien shows text.</summary>
    public static TheoryData<string, string> HostileInputs => new()
    {
        { "ansi", "Cohort\u001b[2J\u001b[H\u001b[31mAPPROVED\u001b[0m" },
        { "crlf", "Cohort study\r\nApproved by DPO: yes\r\n" },
        { "lone-cr", "Cohort study\rApproved by DPO: yes" },
        { "unicode-lines", "Cohort study\u2028Approved by DPO: yes\u2029\u0085done" },
        { "osc8", "\u001b]8;;https://evil.example/approve\u001b\\Approve here\u001b]8;;\u001b\\" },
        { "bidi", "report\u202Efdp.exe\u202C and \u2066isolate\u2069 \u200F\u061C" },
        { "invisible", "ad\u200Bmin\uFEFF\u2060\u00AD" },
        { "markdown-link", "[Approve here](https://evil.example/approve) ![x](https://evil.example/p.png)" },
        { "autolink", "see https://evil.example/approve or www.evil.example or <https://evil.example>" },
        { "markdown-structure", "# Approved\n- by DPO: **yes**\n> quote\n| a | b |\n---" },
        { "html", "<a href=\"https://evil.example\">Approve</a><script>alert(1)</script>&amp;" },
        { "c1-csi", "Cohort\u009b2J\u0085" },
        { "lone-surrogate", "broken\uD800text" },
        { "tag-characters", "visible" + char.ConvertFromUtf32(0xE0041) + char.ConvertFromUtf32(0xE0042) },
    };

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public void Console_HostileText_IsOneLineWithoutControlOrBidiCharacters(string kind, string input)
    {
        var shown = UntrustedText.Console(input);

        AssertInert(kind, shown);
        Assert.Equal(shown, UntrustedText.PlainLine(input));
    }

    [Fact]
    public void Console_ShowsWhatWasNeutralisedAsVisibleEscapes()
    {
        Assert.Equal("Cohort\\x1b[2J\\r\\nApproved", UntrustedText.Console("Cohort\u001b[2J\r\nApproved"));
        Assert.Equal("report\\u202efdp.exe", UntrustedText.Console("report\u202Efdp.exe"));
        Assert.Equal("visible\\U000e0041", UntrustedText.Console("visible" + char.ConvertFromUtf32(0xE0041)));
        Assert.Equal("Étude « cohorte » 🧠 naïve", UntrustedText.Console("Étude « cohorte » 🧠 naïve"));
        Assert.Equal(string.Empty, UntrustedText.Console(null));
    }

    [Fact]
    public void ConsoleBlock_KeepsLineFeedsButEscapesCarriageReturnsAndControls()
    {
        Assert.Equal("one\ntwo\\r\\x1b[2J", UntrustedText.ConsoleBlock("one\ntwo\r\u001b[2J"));
    }

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public void MarkdownInline_HostileText_RendersAsPlainTextInsideASentence(string kind, string input)
    {
        var escaped = UntrustedText.MarkdownInline(input);
        AssertInert(kind, escaped);

        var html = Render("Title: " + escaped);

        Assert.StartsWith("<p>", html, StringComparison.Ordinal);
        Assert.Equal(1, Count(html, "<p>"));
        AssertNoMarkup(kind, html);
        Assert.Equal("Title: " + UntrustedText.Console(input).Trim(' '), WebUtility.HtmlDecode(html.Trim()[3..^4]));
    }

    [Theory]
    [MemberData(nameof(HostileInputs))]
    [InlineData("list", "- nested")]
    [InlineData("ordered", "1. first")]
    [InlineData("ordered-paren", "2) second")]
    [InlineData("quote", "> quoted")]
    [InlineData("setext", "===")]
    [InlineData("indented", "      code")]
    [InlineData("emphasis", "_init_ and __dunder__ and *star*")]
    public void MarkdownInline_HostileTextAsAListItem_IsOneItemOfPlainText(string kind, string input)
    {
        var html = Render("- " + UntrustedText.MarkdownInline(input) + "\n- next");

        Assert.Equal(2, Count(html, "<li>"));
        Assert.Equal(1, Count(html, "<ul>"));
        AssertNoMarkup(
            kind, html.Replace("<ul>", string.Empty, StringComparison.Ordinal).Replace("<li>", string.Empty, StringComparison.Ordinal));
        Assert.Contains(
            WebUtility.HtmlEncode(UntrustedText.Console(input).Trim(' ')).Replace("&#39;", "'", StringComparison.Ordinal),
            html.Replace("&#39;", "'", StringComparison.Ordinal),
            StringComparison.Ordinal);
    }

    [Fact]
    public void MarkdownInline_OrdinaryIdentifiers_StayReadable()
    {
        Assert.Equal("gdn-10-99999-neurocog-mri-raw-mri", UntrustedText.MarkdownInline("gdn-10-99999-neurocog-mri-raw-mri"));
        Assert.Equal(
            "/dmp/dataset/0/distribution/0/data_access", UntrustedText.MarkdownInline("/dmp/dataset/0/distribution/0/data_access"));
        Assert.Equal("claire.dubois@neuro.example", UntrustedText.MarkdownInline("claire.dubois@neuro.example"));
        Assert.Equal("https\\://doi.org/10.1/x (v2.1)", UntrustedText.MarkdownInline("https://doi.org/10.1/x (v2.1)"));
    }

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public void HtmlInline_HostileText_HasNoMarkupAndDecodesToTheVisibleText(string kind, string input)
    {
        var encoded = UntrustedText.HtmlInline(input);

        AssertInert(kind, encoded);
        Assert.DoesNotContain('<', encoded);
        Assert.DoesNotContain('>', encoded);
        Assert.DoesNotContain('"', encoded);
        Assert.DoesNotContain('\'', encoded);
        Assert.Equal(UntrustedText.Console(input), WebUtility.HtmlDecode(encoded));
    }

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public void AdaptiveCardText_HostileText_HasNoUnescapedMarkdownOrHtml(string kind, string input)
    {
        var text = UntrustedText.AdaptiveCardText(input);

        AssertInert(kind, text);
        Assert.DoesNotContain('<', text);
        Assert.DoesNotContain('>', text);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is '[' or ']' or '*' or '`'
                || (text[i] == '&'
                    && !text.AsSpan(i).StartsWith("&amp;")
                    && !text.AsSpan(i).StartsWith("&lt;")
                    && !text.AsSpan(i).StartsWith("&gt;")))
            {
                Assert.True(i > 0 && text[i - 1] == '\\', $"{kind}: unescaped '{text[i]}' at {i} in {text}");
            }
        }

        AssertNoMarkup(kind, Render("Title: " + text));
    }

    [Property(Arbitrary = [typeof(HostileTextArbitraries)], MaxTest = 500)]
    public void AnyText_EveryOutputIsOneLineWithoutNeutralisedCharacters(HostileText input)
    {
        foreach (var output in new[]
        {
            UntrustedText.Console(input.Value),
            UntrustedText.MarkdownInline(input.Value),
            UntrustedText.HtmlInline(input.Value),
            UntrustedText.AdaptiveCardText(input.Value),
        })
        {
            AssertInert("generated", output);
        }
    }

    private static string Render(string markdown) =>
        Markdown.ToHtml(markdown, new MarkdownPipelineBuilder().UseAdvancedExtensions().Build());

    private static void AssertNoMarkup(string kind, string html)
    {
        // No link, image, emphasis, heading, list, quote, table, code, rule or raw HTML formed from the value.
        foreach (var tag in new[]
        {
            "<a",
            "<img",
            "<em",
            "<strong",
            "<h1",
            "<h2",
            "<ul",
            "<ol",
            "<li",
            "<blockquote",
            "<table",
            "<script",
            "<hr",
            "<code",
            "<pre",
            "<del",
            "<b>",
        })
        {
            Assert.True(!html.Contains(tag, StringComparison.Ordinal), $"{kind}: {tag} in {html}");
        }
    }

    private static void AssertInert(string kind, string output)
    {
        foreach (var rune in output.EnumerateRunes())
        {
            Assert.False(UntrustedText.IsNeutralised(rune), $"{kind}: U+{rune.Value:X4} survived in '{output}'");
        }

        Assert.False(
            output.Contains('\n', StringComparison.Ordinal) || output.Contains('\r', StringComparison.Ordinal),
            $"{kind}: more than one line in '{output}'");
        Assert.True(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(output)) == output, $"{kind}: not valid UTF-16 text");
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
