using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

public sealed class JsonTreeBuilderTests
{
    [Theory]
    [MemberData(nameof(MadmpExamples.AllFiles), MemberType = typeof(MadmpExamples))]
    public void Example_GivesTheSameTreeAsJsonNodeParse(string file)
    {
        var bytes = MadmpExamples.Bytes(file);

        var warnings = new List<ValidationIssue>();
        var built = JsonTreeBuilder.Build(bytes, new JsonReaderOptions { MaxDepth = 64 }, warnings);

        Assert.Empty(warnings);
        var parsed = JsonNode.Parse(bytes);
        Assert.Equal(parsed!.ToJsonString(), built!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(parsed, built));
    }

    [Theory]
    [InlineData("""{"n": 1, "big": 123456789012345678901234567890, "f": 1.50, "e": -2e3, "s": "é\u00e9\"", "b": [true, false, null]}""")]
    [InlineData("""[1, {"a": {}}, [], ""]""")]
    [InlineData("null")]
    [InlineData("\"text\"")]
    public void Values_KeepTheirKindsAndNumbersTheirText(string json)
    {
        var built = JsonTreeBuilder.Build(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 64 }, []);

        var parsed = JsonNode.Parse(json);
        Assert.Equal(parsed?.ToJsonString() ?? "null", built?.ToJsonString() ?? "null");
        if (built is JsonObject obj)
        {
            // Numbers stay JsonElement-backed, as JsonNode.Parse leaves them: lenient epoch fixes read them as double.
            Assert.True(obj["e"]!.AsValue().TryGetValue<double>(out var e));
            Assert.Equal(-2000, e);
            Assert.Equal(JsonValueKind.Number, obj["big"]!.GetValueKind());
        }
    }

    [Theory]
    [InlineData("""{"a": 1,}""")]
    [InlineData("""{"a": 1} // comment""")]
    [InlineData("""{"a": 1} x""")]
    [InlineData("""{"a": """)]
    [InlineData("")]
    [InlineData("[[[[[[[[[[1]]]]]]]]]]")]
    public void MalformedOrTooDeepInput_ThrowsWithAPosition(string json)
    {
        var ex = Assert.ThrowsAny<JsonException>(
            () => JsonTreeBuilder.Build(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 5 }, []));

        Assert.NotNull(ex.LineNumber);
    }

    [Fact]
    public void DuplicateKey_KeepsTheLastValue_AndWarnsWithBothLines()
    {
        var warnings = new List<ValidationIssue>();

        var built = JsonTreeBuilder.Build(
            Encoding.UTF8.GetBytes("{\n  \"dmp\": {\n    \"title\": \"first\",\n    \"title\": \"second\"\n  }\n}"), default, warnings);

        Assert.Equal("second", built!["dmp"]!["title"]!.GetValue<string>());
        var warning = Assert.Single(warnings);
        Assert.Equal("/dmp/title", warning.Path);
        Assert.Equal("duplicate", warning.Keyword);
        Assert.Equal((4, 5), (warning.Line, warning.Column));
        Assert.Contains("lines 3 and 4", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateKey_InAListItem_IsNamedByItsPointer()
    {
        var warnings = new List<ValidationIssue>();

        JsonTreeBuilder.Build(Encoding.UTF8.GetBytes("""{"dmp": {"dataset": [{}, {"a/b": 1, "a/b": {"x": 1}}]}}"""), default, warnings);

        Assert.Equal("/dmp/dataset/1/a~1b", Assert.Single(warnings).Path);
    }

    [Theory]
    [InlineData("""{"t": "\ud800"}""", "/t", "\uFFFD")]
    [InlineData("""{"t": "a\udc00b\n"}""", "/t", "a\uFFFDb\n")]
    [InlineData("""{"t": ["ok", "\ud83e\udde0 \ud83e"]}""", "/t/1", "\U0001F9E0 \uFFFD")]
    [InlineData("""{"\ud800": 1}""", "", null)]
    public void LoneSurrogateEscape_IsReadAsReplacementCharacter_WithAWarning(string json, string path, string? expected)
    {
        var warnings = new List<ValidationIssue>();

        var built = JsonTreeBuilder.Build(Encoding.UTF8.GetBytes(json), default, warnings);

        var warning = Assert.Single(warnings);
        Assert.Equal(path, warning.Path);
        Assert.Equal("encoding", warning.Keyword);
        Assert.Equal(1, warning.Line);
        if (expected is not null)
        {
            Assert.Equal(expected, (path == "/t" ? built!["t"] : built!["t"]![1])!.GetValue<string>());
        }
        else
        {
            Assert.True(built!.AsObject().ContainsKey("\uFFFD"));
        }
    }
}
