using System.Text.Json.Nodes;
using Gardien.Azure.Tests.Fakes;

namespace Gardien.Azure.Tests.DmpTools;

/// <summary>The fakes and clients use only what the tools' published API descriptions (Specs/) document.</summary>
public sealed class SpecConformanceTests
{
    [Fact]
    public void OpidorSpec_DocumentsEveryCallTheClientMakes()
    {
        var paths = JsonNode.Parse(TestFiles.Read("Specs/dmp-opidor-swagger-v1.json"))!["paths"]!;

        Assert.NotNull(paths["/api/v1/authenticate"]!["post"]);
        var plan = paths["/api/v1/madmp/plans/{id}"]!["get"]!;
        var format = plan["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "export_format")!;
        Assert.Equal(["standard", "rda"], format["schema"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.NotNull(paths["/api/v1/madmp/fragments/{id}"]!["put"]);
        Assert.Equal(
            "bearer",
            JsonNode.Parse(
                TestFiles.Read(
                    "Specs/dmp-opidor-swagger-v1.json"))!["components"]!["securitySchemes"]!["bearerAuth"]!["scheme"]!.GetValue<string>());
    }

    [Fact]
    public void CommonMadmpApiSpec_DocumentsEveryCallTheClientMakes()
    {
        var spec = TestFiles.Read("Specs/common-madmp-api-openapi.yaml");

        foreach (var fragment in new[]
        {
            "  /dmps:\n    get:",
            "  /dmps/{id}:\n    get:",
            "    put:\n      operationId: putDMP",
            "- name: If-Unmodified-Since",
            "- name: modified_after",
            "- name: offset",
            "- name: count",
            "- name: sort[]",
            "- name: dmp_ids[]",
            "- total_count",
            "application/vnd.org.rd-alliance.dmp-common.v1.2+json",
        })
        {
            Assert.Contains(fragment, spec, StringComparison.Ordinal);
        }
    }
}
