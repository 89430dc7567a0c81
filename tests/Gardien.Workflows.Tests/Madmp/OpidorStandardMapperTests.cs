using System.Text;
using Gardien.Workflows.Madmp;
using Gardien.Workflows.Madmp.Opidor;

namespace Gardien.Workflows.Tests.Madmp;

public sealed class OpidorStandardMapperTests
{
    private static MadmpDocument Rda() => MadmpExamples.Read("rda-1.2/ex9-dmp-long.json").Document!;

    private static MadmpSourceMapResult Enrich(string nativeExport) =>
        new OpidorStandardMapper().Enrich(Rda(), Encoding.UTF8.GetBytes(nativeExport));

    private const string Export = """
        {
          "meta": { "title": "DMP for our new project" },
          "researchOutput": [
            {
              "researchOutputDescription": { "title": "Image collection", "datasetId": "" },
              "dataStorage": {
                "securityMeasures": "Chiffrement AES-256, accès par VPN",
                "facility": [ { "title": "Baie NetApp du laboratoire" } ],
                "backupPolicy": [
                  { "backupFrequency": "Quotidienne", "backupType": "Incrémentale", "storageType": [ "Serveur NAS", "Bande magnétique" ] }
                ]
              },
              "preservationIssues": { "endDate": "2040-12-31" }
            },
            {
              "researchOutputDescription": { "title": "Client application" },
              "dataStorage": { "backupPolicy": [ { "backupType": "Mirror", "storageType": [ "Cloud" ] } ] }
            }
          ]
        }
        """;

    [Fact]
    public void StandardExport_FillsStorageBackupSecurityAndPreservation_MatchedByTitle()
    {
        var result = Enrich(Export);

        var images = result.Document.Dmp.Datasets.Single(d => d.Title == "Image collection");
        var host = images.Distributions[0].Host!;
        Assert.Equal("Baie NetApp du laboratoire", host.Title);
        Assert.Equal("NAS server, Magnetic tape", host.StorageType);
        Assert.Equal("Incremental", host.BackupType);
        Assert.Equal("Quotidienne", host.BackupFrequency);
        Assert.Contains(images.SecurityAndPrivacy, s => s.Description == "Chiffrement AES-256, accès par VPN");
        Assert.Equal(new DateOnly(2040, 12, 31), images.PreservationUntil);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void StandardExport_NeverOverridesWhatTheRdaDocumentStates()
    {
        var result = Enrich(Export);

        var client = result.Document.Dmp.Datasets.Single(d => d.Title == "Client application");
        var host = client.Distributions[0].Host!;
        Assert.Equal("GitHub", host.Title);
        Assert.Equal("repository", host.StorageType);
        Assert.Equal("Mirror", host.BackupType);
    }

    [Fact]
    public void StandardExport_LeavesUnmatchedDatasetsUntouched()
    {
        var before = Rda().Dmp.Datasets.Single(d => d.Title == "Interviews");

        var after = Enrich(Export).Document.Dmp.Datasets.Single(d => d.Title == "Interviews");

        Assert.Equal(before.Distributions[0], after.Distributions[0]);
        Assert.Null(after.PreservationUntil);
    }

    [Fact]
    public void UnknownRegistryLabel_IsKeptWithWarning()
    {
        var result = Enrich(
            """{ "researchOutput": [ { "researchOutputDescription": { "title": "Image collection" },"""
            + """ "dataStorage": { "backupPolicy": [ { "storageType": ["Disquette"] } ] } } ] }""");

        Assert.Equal(
            "Disquette", result.Document.Dmp.Datasets.Single(d => d.Title == "Image collection").Distributions[0].Host!.StorageType);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("/researchOutput/0/dataStorage/backupPolicy/0/storageType", warning.Path);
    }

    [Fact]
    public void UnmatchedResearchOutput_IsReportedWithItsPath()
    {
        var result = Enrich("""{ "plan": { "researchOutput": [ { "researchOutputDescription": { "title": "Somewhere else" } } ] } }""");

        Assert.Equal("/plan/researchOutput/0", Assert.Single(result.Warnings).Path);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    public void UnusableExport_ReturnsTheRdaDocumentUnchangedWithWarning(string export)
    {
        var rda = Rda();

        var result = new OpidorStandardMapper().Enrich(rda, Encoding.UTF8.GetBytes(export));

        Assert.Same(rda, result.Document);
        Assert.Single(result.Warnings);
    }

    [Fact]
    public void Registries_AreTheOfficialBilingualCopies()
    {
        foreach (var name in new[] { "StorageType", "BackupType" })
        {
            using var embedded = typeof(MadmpReader).Assembly.GetManifestResourceStream($"Gardien.Schemas.opidor/{name}.json")!;
            using var reader = new StreamReader(embedded);
            Assert.Equal(File.ReadAllText(MadmpExamples.PathOf($"opidor/registries/{name}.json")), reader.ReadToEnd());
        }
    }
}
