using System.Text;
using System.Text.RegularExpressions;
using Gardien.Testing;

namespace Gardien.Workflows.Tests.Repository;

/// <summary>
/// Every relative link in README.md and docs/ leads somewhere: to a file of the repository and, when it names an
/// anchor, to a heading of that file (anchors as GitHub renders them).
/// </summary>
public sealed partial class DocumentationLinksTests
{
    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string>();
        data.Add("README.md");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "docs"), "*.md", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal))
        {
            data.Add(file);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void RelativeLinks_ResolveToAFileAndHeading(string document)
    {
        var path = Path.Combine(RepoPaths.Root, document);
        var broken = new List<string>();
        var lines = OutsideCode(File.ReadAllLines(path));
        for (var i = 0; i < lines.Count; i++)
        {
            foreach (Match link in LinkPattern().Matches(lines[i]))
            {
                var target = link.Groups["target"].Value;
                if (SchemePattern().IsMatch(target))
                {
                    continue;
                }

                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var file = hash < 0 ? target : target[..hash];
                var anchor = hash < 0 ? null : target[(hash + 1)..];
                var resolved = file.Length == 0
                    ? path
                    : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(file)));
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                {
                    broken.Add($"{document}:{i + 1}: {target} (no such file)");
                }
                else if (anchor is { Length: > 0 } && resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
                    && !Anchors(resolved).Contains(anchor))
                {
                    broken.Add($"{document}:{i + 1}: {target} (no heading with that anchor in {Path.GetFileName(resolved)})");
                }
            }
        }

        Assert.True(broken.Count == 0, "Broken links:" + Environment.NewLine + string.Join(Environment.NewLine, broken));
    }

    [Theory]
    [InlineData("The service: `gardien serve`", "the-service-gardien-serve")]
    [InlineData("Entra ID: Graph permissions for the identity", "entra-id-graph-permissions-for-the-identity")]
    [InlineData("Large DMPs: end-to-end intake, measured", "large-dmps-end-to-end-intake-measured")]
    [InlineData("Mapping → [engine](engine.md) ≥ 5×", "mapping--engine--5")]
    [InlineData("Host API (`RetentionService`, by `AddGardienHostServices`)", "host-api-retentionservice-by-addgardienhostservices")]
    public void Slug_FollowsGitHubsHeadingAnchors(string heading, string anchor)
    {
        Assert.Equal(anchor, Slug(heading));
    }

    [Fact]
    public void Anchors_NumberRepeatedHeadings_AndIgnoreHeadingsInCode()
    {
        var file = Path.Combine(Path.GetTempPath(), $"gardien-links-{Guid.NewGuid():N}.md");
        File.WriteAllLines(file, ["# Limits", "", "```bash", "# not a heading", "```", "## Limits"]);
        try
        {
            Assert.Equal(new HashSet<string>(["limits", "limits-1"]), Anchors(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The lines with fenced code blanked and inline code removed, so that code never counts as a link.</summary>
    private static List<string> OutsideCode(IEnumerable<string> lines)
    {
        var result = new List<string>();
        var fenced = false;
        foreach (var line in lines)
        {
            if (FencePattern().IsMatch(line))
            {
                fenced = !fenced;
                result.Add(string.Empty);
                continue;
            }

            result.Add(fenced ? string.Empty : InlineCodePattern().Replace(line, string.Empty));
        }

        return result;
    }

    private static HashSet<string> Anchors(string markdownFile)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var fenced = false;
        foreach (var line in File.ReadLines(markdownFile))
        {
            if (FencePattern().IsMatch(line))
            {
                fenced = !fenced;
                continue;
            }

            var heading = HeadingPattern().Match(line);
            if (fenced || !heading.Success)
            {
                continue;
            }

            var slug = Slug(heading.Groups["text"].Value);
            var count = seen.GetValueOrDefault(slug);
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
            seen[slug] = count + 1;
        }

        return anchors;
    }

    /// <summary>GitHub's anchor of a heading: link text kept, lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string Slug(string heading)
    {
        var text = LinkPattern().Replace(heading, m => m.Groups["text"].Value).ToLowerInvariant();
        var slug = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex SchemePattern();

    [GeneratedRegex(@"^\s*(```|~~~)")]
    private static partial Regex FencePattern();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCodePattern();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex HeadingPattern();
}
