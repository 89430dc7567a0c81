using System.Buffers.Binary;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gardien.Azure.Teams;
using Gardien.Testing;

namespace Gardien.Azure.Tests.Teams;

public sealed partial class TeamsAppManifestTests
{
    private static readonly string Folder = Path.Combine(RepoPaths.Root, "functions", "Gardien.Functions", "teams-app");

    [Fact]
    public void Manifest_MatchesWhatTheNotifierLinksTo()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "manifest.json")))!;

        var tab = Assert.Single(manifest["staticTabs"]!.AsArray())!;
        Assert.Equal(new TeamsNotificationOptions().TabEntityId, (string?)tab["entityId"]);
        Assert.Equal("https://{{GARDIEN_HOST}}/approvals/{subEntityId}", (string?)tab["contentUrl"]);
        Assert.Equal(["personal"], tab["scopes"]!.AsArray().Select(n => (string?)n));
        Assert.Equal("{{TEAMS_APP_ID}}", (string?)manifest["id"]);
        Assert.Equal("{{AZURE_CLIENT_ID}}", (string?)manifest["webApplicationInfo"]!["id"]);
        Assert.Equal(["{{GARDIEN_HOST}}"], manifest["validDomains"]!.AsArray().Select(n => (string?)n));
    }

    [Fact]
    public void Package_UsesOnlyTheDocumentedPlaceholders_AndHasItsIconsAndFrenchTexts()
    {
        var readme = File.ReadAllText(Path.Combine(Folder, "README.md"));
        foreach (var file in new[] { "manifest.json", "fr.json" })
        {
            foreach (Match placeholder in Placeholder().Matches(File.ReadAllText(Path.Combine(Folder, file))))
            {
                Assert.Contains(placeholder.Value, readme, StringComparison.Ordinal);
            }
        }

        Assert.Equal((192, 192), PngSize("color.png"));
        Assert.Equal((32, 32), PngSize("outline.png"));
        var french = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "fr.json")))!.AsObject();
        Assert.Equal("Approbations", (string?)french["staticTabs[0].name"]);
    }

    private static (int Width, int Height) PngSize(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Folder, file));
        Assert.Equal("PNG", System.Text.Encoding.ASCII.GetString(bytes, 1, 3));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [GeneratedRegex(@"\{\{[A-Z_]+\}\}")]
    private static partial Regex Placeholder();
}
