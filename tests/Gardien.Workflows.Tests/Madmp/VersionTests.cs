using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

public sealed class VersionTests
{
    [Theory]
    [InlineData(MadmpVersion.V1_0, "1.0")]
    [InlineData(MadmpVersion.V1_1, "1.1")]
    [InlineData(MadmpVersion.V1_2, "1.2")]
    public void VersionString_RoundTrips(MadmpVersion version, string text)
    {
        Assert.Equal(text, version.ToVersionString());
        Assert.Equal(version, MadmpVersionExtensions.ParseVersion(text));
        Assert.True(MadmpVersionExtensions.TryParse(text, out var parsed));
        Assert.Equal(version, parsed);
    }

    [Theory]
    [InlineData("1.3")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("latest")]
    public void UnknownVersionString_IsNotParsed(string? text)
    {
        Assert.False(MadmpVersionExtensions.TryParse(text, out _));
    }

    [Theory]
    [InlineData("./JSON-schema/1.2/maDMP-schema-1.2.json", MadmpVersion.V1_2)]
    [InlineData("https://github.com/RDA-DMP-Common/RDA-DMP-Common-Standard/tree/master/examples/JSON/JSON-schema/1.1", MadmpVersion.V1_1)]
    [InlineData("application/vnd.org.rd-alliance.dmp-common.v1.0+json", MadmpVersion.V1_0)]
    [InlineData("https://example.org/some-schema.json", MadmpVersion.V1_2)]
    public void SchemaKey_DecidesTheVersion(string schemaValue, MadmpVersion expected)
    {
        var root = DmpJson.Minimal12();
        root["$schema"] = schemaValue;

        Assert.Equal(expected, MadmpReader.Default.Read(root.ToJsonString()).Version);
    }

    [Fact]
    public void WithoutSchemaKey_PlainDocumentIsReadAs11()
    {
        var root = DmpJson.Minimal12();
        root.Remove("$schema");

        Assert.Equal(MadmpVersion.V1_1, MadmpReader.Default.Read(root.ToJsonString()).Version);
    }

    [Fact]
    public void WithoutSchemaKey_IdentifierListsMean12()
    {
        var root = DmpJson.Minimal12();
        root.Remove("$schema");
        var contact = root.Dmp()["contact"]!.AsObject();
        var id = contact["contact_id"]!.DeepClone();
        contact["contact_id"] = new System.Text.Json.Nodes.JsonArray(id);

        var result = MadmpReader.Default.Read(root.ToJsonString());

        Assert.Equal(MadmpVersion.V1_2, result.Version);
        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Equal("orcid", result.Document!.Dmp.Contact.ContactId!.Type);
    }

    [Fact]
    public void ExplicitVersion_OverridesDetection()
    {
        var result = MadmpExamples.Read(
            "rda-1.2/ex1-header-fundedProject.json", new MadmpReadOptions { SchemaVersion = MadmpVersion.V1_0 });

        Assert.Equal(MadmpVersion.V1_0, result.Version);
        Assert.Equal(MadmpVersion.V1_0, result.Document!.Version);
    }
}
