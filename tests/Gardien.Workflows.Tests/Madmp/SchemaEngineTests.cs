using Gardien.Workflows.Madmp;
using Newtonsoft.Json.Linq;

namespace Gardien.Workflows.Tests.Madmp;

/// <summary>Proves the NJsonSchema set-up on small inline schemas: draft-07 definitions, 2020-12 $defs, $ref and oneOf.</summary>
public sealed class SchemaEngineTests
{
    private const string Draft07 = """
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": { "id": { "$ref": "#/definitions/Id" } },
          "required": ["id"],
          "definitions": {
            "Id": {
              "type": "object",
              "properties": { "identifier": { "type": "string" }, "type": { "enum": ["doi", "other"] } },
              "required": ["identifier", "type"]
            }
          }
        }
        """;

    private const string Draft202012 = """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "properties": {
            "contact_id": {
              "oneOf": [
                { "$ref": "#/$defs/ContactID" },
                { "type": "array", "items": { "$ref": "#/$defs/ContactID" }, "minItems": 1 }
              ]
            },
            "when": { "type": "string", "format": "date" }
          },
          "required": ["contact_id"],
          "$defs": {
            "ContactID": {
              "type": "object",
              "properties": { "identifier": { "type": "string", "format": "uri" }, "type": { "type": "string" } },
              "required": ["identifier", "type"]
            }
          }
        }
        """;

    private static (List<ValidationIssue> Errors, List<ValidationIssue> Warnings) Validate(string schemaJson, string json)
    {
        var schema = MadmpSchemaCatalog.Parse(schemaJson);
        var errors = new List<ValidationIssue>();
        var warnings = new List<ValidationIssue>();
        SchemaIssueMapper.Map(schema.Validate(JToken.Parse(json)), MadmpVersion.V1_2, errors, warnings);
        return (errors, warnings);
    }

    [Fact]
    public void Draft07_DefinitionsRef_AcceptsValidAndRejectsEnumAndRequired()
    {
        Assert.Empty(Validate(Draft07, """{ "id": { "identifier": "x", "type": "doi" } }""").Errors);

        var (errors, _) = Validate(Draft07, """{ "id": { "type": "isbn" } }""");

        Assert.Contains(errors, e => e.Path == "/id/identifier" && e.Keyword == "required");
        Assert.Contains(errors, e => e.Path == "/id/type" && e.Keyword == "enum");
        Assert.Equal(2, errors.Count);
    }

    [Fact]
    public void Draft202012_DefsRef_IsResolvedAfterNormalisation()
    {
        var (errors, warnings) = Validate(
            Draft202012, """{ "contact_id": { "identifier": "https://orcid.org/0000-0002-1825-0097", "type": "orcid" } }""");

        Assert.Empty(errors);
        Assert.Empty(warnings);
    }

    [Fact]
    public void Draft202012_OneOf_AcceptsEitherAlternative()
    {
        Assert.Empty(Validate(Draft202012, """{ "contact_id": [ { "identifier": "https://a.org/1", "type": "other" } ] }""").Errors);
    }

    [Fact]
    public void Draft202012_OneOf_RejectsWhenNoAlternativeMatches()
    {
        var (errors, _) = Validate(Draft202012, """{ "contact_id": [] }""");

        var error = Assert.Single(errors);
        Assert.Equal("/contact_id", error.Path);
        Assert.Equal("oneOf", error.Keyword);
    }

    [Fact]
    public void Draft202012_OneOf_RejectsWhenTheNestedDefIsIncomplete()
    {
        var (errors, _) = Validate(Draft202012, """{ "contact_id": { "identifier": "https://a.org/1" } }""");

        var error = Assert.Single(errors);
        Assert.Equal("oneOf", error.Keyword);
        Assert.Contains("type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FormatFailureInsideOneOfBranch_IsAWarningNotAnError()
    {
        var (errors, warnings) = Validate(
            Draft202012, """{ "contact_id": { "identifier": "not a uri", "type": "other" }, "when": "31/01/2025" }""");

        Assert.Empty(errors);
        Assert.Contains(warnings, w => w.Path == "/contact_id/identifier" && w.Keyword == "format");
        Assert.Contains(warnings, w => w.Path == "/when" && w.Keyword == "format");
    }

    [Fact]
    public void FormatFailureNestedInArrayItems_IsAWarning()
    {
        var (errors, warnings) = Validate(Draft202012, """{ "contact_id": [ { "identifier": "not a uri", "type": "other" } ] }""");

        Assert.Empty(errors);
        Assert.Equal("/contact_id/0/identifier", Assert.Single(warnings).Path);
    }

    [Fact]
    public async Task UnnormalisedDefs_WouldNotResolveInNJsonSchema()
    {
        // Documents why MadmpSchemaCatalog rewrites $defs: the official 1.2 schema, as published, fails in NJsonSchema 11.6.2.
        var official = MadmpSchemaCatalog.ReadText(MadmpVersion.V1_2);
        var example = MadmpExamples.Text("rda-1.2/ex9-dmp-long.json");

        await Assert.ThrowsAnyAsync<InvalidOperationException>(async () =>
        {
            var raw = await NJsonSchema.JsonSchema.FromJsonAsync(official);
            raw.Validate(JToken.Parse(example));
        });
    }

    [Theory]
    [InlineData(MadmpVersion.V1_0)]
    [InlineData(MadmpVersion.V1_1)]
    [InlineData(MadmpVersion.V1_2)]
    public void EmbeddedSchemas_LoadOnceAndAreShared(MadmpVersion version)
    {
        var first = MadmpSchemaCatalog.Get(version);
        var second = MadmpSchemaCatalog.Get(version);

        Assert.Same(first, second);
        Assert.NotEmpty(first.ActualProperties);
    }

    [Fact]
    public void EmbeddedSchemas_AreByteIdenticalToTheOfficialCopies()
    {
        foreach (var version in new[] { "1.0", "1.1", "1.2" })
        {
            var official = File.ReadAllText(MadmpExamples.PathOf($"schema/{version}/maDMP-schema-{version}.json"));
            var embedded = MadmpSchemaCatalog.ReadText(MadmpVersionExtensions.ParseVersion(version));
            Assert.Equal(official, embedded);
        }
    }

    [Fact]
    public async Task ConcurrentReads_GiveTheSameVerdicts()
    {
        var bytes = MadmpExamples.Bytes("rda-1.2/ex9-dmp-long.json");

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() =>
            MadmpReader.Default.Read(bytes, new MadmpReadOptions { SchemaVersion = (MadmpVersion)(i % 3) }))));

        Assert.All(results.Where(r => r.Version != MadmpVersion.V1_1), r => Assert.True(r.IsValid));
        Assert.All(results.Where(r => r.Version == MadmpVersion.V1_1), r => Assert.True(r.IsValid)); // lenient drops $schema
    }
}
