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

        Assert.True(JsonTreeBuilder.TryBuild(bytes, 64, out var built));

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
        Assert.True(JsonTreeBuilder.TryBuild(Encoding.UTF8.GetBytes(json), 64, out var built));

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
    [InlineData("""{"a": 1, "a": 2}""")]
    [InlineData("""{"a": 1,}""")]
    [InlineData("""{"a": 1} // comment""")]
    [InlineData("""{"a": 1} x""")]
    [InlineData("""{"a": """)]
    [InlineData("")]
    [InlineData("[[[[[[[[[[1]]]]]]]]]]")]
    public void UnusualInput_IsLeftToTheParserThatReportsPositions(string json)
    {
        Assert.False(JsonTreeBuilder.TryBuild(Encoding.UTF8.GetBytes(json), 5, out var built));
        Assert.Null(built);
    }

    [Fact]
    public void DuplicateKey_IsReportedWhereItIsRepeated()
    {
        var result = MadmpReader.Default.Read("{\n  \"dmp\": {},\n  \"dmp\": {}\n}");

        var error = Assert.Single(result.Errors);
        Assert.Equal("json", error.Keyword);
        Assert.Equal((3, 3), (error.Line, error.Column));
        Assert.Contains("\"dmp\" appears twice", error.Message, StringComparison.Ordinal);
    }
}
