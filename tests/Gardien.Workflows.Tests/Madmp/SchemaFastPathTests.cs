using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gardien.Testing;
using Gardien.Workflows.Madmp;
using NJsonSchema.Validation;

namespace Gardien.Workflows.Tests.Madmp;

/// <summary>
/// The fast path may only skip NJsonSchema when NJsonSchema would report nothing at all (no error, no format warning).
/// Checked differentially: the pre-check's "clean" against NJsonSchema's own verdict on the same tree.
/// </summary>
public sealed class SchemaFastPathTests
{
    private static readonly MadmpVersion[] Versions = [MadmpVersion.V1_0, MadmpVersion.V1_1, MadmpVersion.V1_2];

    /// <summary>What NJsonSchema reports for the tree, mapped as the reader maps it (errors and warnings together).</summary>
    private static int NJsonSchemaIssues(JsonNode document, MadmpVersion version)
    {
        var errors = new JsonSchemaValidator().Validate(JsonNodeConversion.ToJToken(document), MadmpSchemaCatalog.Get(version));
        var outErrors = new List<ValidationIssue>();
        var outWarnings = new List<ValidationIssue>();
        SchemaIssueMapper.Map(errors, version, outErrors, outWarnings);
        return outErrors.Count + outWarnings.Count;
    }

    private static void AssertSound(JsonNode document, MadmpVersion version, string label)
    {
        if (MadmpSchemaCatalog.GetFastPath(version).IsClean(document))
        {
            Assert.True(
                NJsonSchemaIssues(document, version) == 0,
                $"{label}: the fast path called it clean against {version} but NJsonSchema reports issues.");
        }
    }

    [Theory]
    [MemberData(nameof(MadmpExamples.AllFiles), MemberType = typeof(MadmpExamples))]
    public void Example_CleanOnlyWhenNJsonSchemaReportsNothing(string file)
    {
        foreach (var version in Versions)
        {
            var document = JsonNode.Parse(MadmpExamples.Text(file))!;
            var clean = MadmpSchemaCatalog.GetFastPath(version).IsClean(document);
            var issues = NJsonSchemaIssues(document, version);

            Assert.False(
                clean && issues > 0, $"{file} against {version}: the fast path called it clean but NJsonSchema reports {issues} issue(s).");

            // Useful too: every published example that NJsonSchema passes silently against its own version skips it.
            if (issues == 0 && file.StartsWith("rda-" + version.ToVersionString() + "/", StringComparison.Ordinal))
            {
                Assert.True(clean, $"{file} against {version}: NJsonSchema reports nothing but the fast path was not taken.");
            }
        }
    }

    [Fact]
    public void RepositorySample_TakesTheFastPath()
    {
        var document = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "samples", "dmp-health-study.json")))!;

        Assert.True(MadmpSchemaCatalog.GetFastPath(MadmpVersion.V1_2).IsClean(document));
        Assert.Equal(0, NJsonSchemaIssues(document, MadmpVersion.V1_2));
    }

    [Theory]
    [InlineData("not-a-date")]
    [InlineData("2025-13-45")]
    [InlineData("31/01/2025")]
    public void FormatProblem_IsLeftToNJsonSchema_SoItsWarningIsKept(string issued)
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["dataset"]![0]!["issued"] = issued;

        Assert.False(MadmpSchemaCatalog.GetFastPath(MadmpVersion.V1_2).IsClean(root));
        var result = MadmpReader.Default.Read(root.ToJsonString());
        Assert.True(result.IsValid);
        Assert.Contains(result.Warnings, w => w.Path == "/dmp/dataset/0/issued" && w.Keyword == "format");
    }

    [Fact]
    public void IdentifierOneOf_ObjectOrList_IsClean_ButBothShapesAtOnceIsNot()
    {
        var fast = MadmpSchemaCatalog.GetFastPath(MadmpVersion.V1_2);
        var root = DmpJson.Minimal12();
        var id = root.Dmp()["contact"]!["contact_id"]!;
        Assert.True(fast.IsClean(root));

        root.Dmp()["contact"]!["contact_id"] = new JsonArray(id.DeepClone());
        Assert.True(fast.IsClean(root));

        root.Dmp()["contact"]!["contact_id"] = "https://orcid.org/0000-0002-1825-0097";
        Assert.False(fast.IsClean(root));
        Assert.False(MadmpReader.Default.Read(root.ToJsonString(), MadmpExamples.Strict).IsValid);
    }

    /// <summary>
    /// Random damage to real plans (type changes, removals, bad terms, unknown keys, duplicates), checked against every
    /// version: whenever the fast path calls the result clean, NJsonSchema must report nothing.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property RandomMutations_NeverMakeTheFastPathSkipAnIssue() =>
        Prop.ForAll(Mutations().ToArbitrary(), mutation =>
        {
            var (source, path, kind, seed) = mutation;
            var document = JsonNode.Parse(source)!;
            Mutate(document, path, kind, seed);
            foreach (var version in Versions)
            {
                AssertSound(document, version, $"mutation {kind} at node #{path} (seed {seed})");
            }
        });

    private static readonly string[] Sources =
    [
        MadmpExamples.Text("rda-1.2/ex9-dmp-long.json"),
        MadmpExamples.Text("rda-1.1/ex9-dmp-long.json"),
        MadmpExamples.Text("rda-1.2/ex10-fairsharing.json"),
        DmpJson.Minimal12().ToJsonString(),
    ];

    private static Gen<(string Source, int Path, int Kind, int Seed)> Mutations() =>
        from source in Gen.Elements(Sources)
        from path in Gen.Choose(0, 10_000)
        from kind in Gen.Choose(0, 9)
        from seed in Gen.Choose(0, 1_000)
        select (source, path, kind, seed);

    /// <summary>Applies one kind of damage to the n-th node (modulo the node count) of the document, in document order.</summary>
    private static void Mutate(JsonNode root, int index, int kind, int seed)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[index % nodes.Count];
        JsonNode? replacement = kind switch
        {
            0 => null,
            1 => JsonValue.Create(""),
            2 => JsonValue.Create(seed),
            3 => JsonValue.Create(seed + 0.5),
            4 => JsonValue.Create(seed % 2 == 0),
            5 => new JsonObject(),
            6 => new JsonArray(),
            7 => JsonValue.Create("yes"),
            _ => JsonValue.Create("x" + seed),
        };

        switch (target.Parent)
        {
            case JsonObject parent when kind == 8:
                parent.Remove(target.GetPropertyName());
                break;
            case JsonObject parent when kind == 9:
                parent["unexpected_" + seed] = "value";
                break;
            case JsonArray parent when kind == 8:
                parent.Add(target.DeepClone());
                break;
            case JsonObject parent:
                parent[target.GetPropertyName()] = replacement;
                break;
            case JsonArray parent:
                parent[parent.IndexOf(target)] = replacement;
                break;
        }
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        if (node.Parent is not null)
        {
            nodes.Add(node);
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    if (child is not null)
                    {
                        Collect(child, nodes);
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null)
                    {
                        Collect(child, nodes);
                    }
                }

                break;
        }
    }
}
