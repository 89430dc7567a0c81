using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

public sealed class ModelMappingTests
{
    [Fact]
    public void Ex9Long_MapsHeaderContactContributorsAndProject()
    {
        var result = MadmpExamples.Read("rda-1.2/ex9-dmp-long.json");

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        var document = result.Document!;
        Assert.Equal(MadmpVersion.V1_2, document.Version);
        var dmp = document.Dmp;
        Assert.Equal("DMP for our new project", dmp.Title);
        Assert.Equal(new Identifier("10.0000/00.0.1234", "doi"), dmp.DmpId);
        Assert.Equal("eng", dmp.Language);
        Assert.Equal(new DateTimeOffset(2019, 12, 6, 11, 33, 5, 619, TimeSpan.Zero), dmp.Created);
        Assert.Equal(YesNoUnknown.Yes, dmp.EthicalIssuesExist);
        Assert.Equal("https://docs.google.com/document/d/xyz", dmp.EthicalIssuesReport);

        Assert.Equal("John Smith", dmp.Contact.Name);
        Assert.Equal("john.smith@tuwien.ac.at", dmp.Contact.Mbox);
        Assert.Equal(new Identifier("https://www.tiss.tuwien.ac.at/person/2351952424", "other"), dmp.Contact.ContactId);

        Assert.Equal(3, dmp.Contributors.Count);
        var lewandowski = dmp.Contributors[1];
        Assert.Equal("Robert Lewandowski", lewandowski.Name);
        Assert.Equal(new Identifier("0000-0002-4929-7875", "orcid"), lewandowski.ContributorId);
        // Lenient reads lower-case the DataCite terms (the policy compares terms case-insensitively anyway).
        Assert.Equal(["contactperson", "datamanager"], lewandowski.Roles);

        var project = Assert.Single(dmp.Projects);
        Assert.Equal(new DateOnly(2017, 10, 1), project.Start);
        Assert.Equal(new DateOnly(2020, 9, 30), project.End);
        Assert.Equal(
            new Identifier("https://tiss.tuwien.ac.at/api/pdb/rest/project/v3/1428966", "HTTP-PDB"), Assert.Single(project.ProjectIds));
        var funding = Assert.Single(project.Funding);
        Assert.Equal(new Identifier("EO-2-2017", "other"), funding.GrantId);
    }

    [Fact]
    public void Ex9Long_MapsDatasetsDistributionsHostsAndLicences()
    {
        var dmp = MadmpExamples.Read("rda-1.2/ex9-dmp-long.json").Document!.Dmp;

        Assert.Equal(["Client application", "Image collection", "Interviews"], dmp.Datasets.Select(d => d.Title));
        var client = dmp.Datasets[0];
        Assert.Equal(YesNoUnknown.No, client.PersonalData);
        Assert.Equal(new Identifier("0000/00.00000", "handle"), client.DatasetId);
        var distribution = Assert.Single(client.Distributions);
        Assert.Equal(DataAccess.Open, distribution.DataAccess);
        Assert.Equal(1_000_000_000L, distribution.ByteSize);
        Assert.Equal(new DateOnly(2030, 9, 30), distribution.AvailableUntil);
        var license = Assert.Single(distribution.Licenses);
        Assert.Equal("http://opensource.org/licenses/mit-license.php", license.LicenseRef);
        Assert.Equal(new DateOnly(2020, 9, 30), license.StartDate);
        var host = distribution.Host!;
        Assert.Equal("GitHub", host.Title);
        Assert.Equal("repository", host.StorageType);
        Assert.Equal(YesNoUnknown.Yes, host.SupportVersioning);
        Assert.Equal(["other"], host.PidSystems);

        var images = dmp.Datasets[1];
        Assert.Equal(YesNoUnknown.Yes, images.SensitiveData);
        Assert.Equal(50_000_000_000L, images.Distributions[0].ByteSize);
        Assert.Equal(DataAccess.Closed, images.Distributions[0].DataAccess);
        Assert.Null(images.Distributions[0].Host);

        Assert.Equal(YesNoUnknown.Yes, dmp.Datasets[2].PersonalData);
        Assert.Null(dmp.Datasets[2].PreservationUntil);
    }

    [Fact]
    public void Ex7Many_MapsEveryDatasetWithItsOwnValues()
    {
        var dmp = MadmpExamples.Read("rda-1.2/ex7-dataset-many.json").Document!.Dmp;

        Assert.Empty(dmp.Projects);
        Assert.Equal(2, dmp.Datasets.Count);
        var cool = dmp.Datasets[0];
        Assert.Equal("Cool data", cool.Title);
        Assert.Equal(YesNoUnknown.Unknown, cool.SensitiveData);
        Assert.Equal(new DateOnly(2019, 6, 30), cool.Issued);
        Assert.Equal(["text/csv"], cool.Distributions[0].Formats);
        Assert.Equal(100_000L, cool.Distributions[0].ByteSize);

        var code = dmp.Datasets[1];
        Assert.Equal(new Identifier("10.1234/zenodo.123456789", "doi"), code.DatasetId);
        Assert.Equal("source-code", code.Type);
        Assert.Single(code.DataQualityAssurance);
        Assert.Equal("http://github.com/some-repo...", code.Distributions[0].AccessUrl);
        Assert.Null(code.Distributions[0].ByteSize);
    }

    [Fact]
    public void Ex9Published11_KeepsStringProjectIdAsOtherIdentifier()
    {
        var result = MadmpExamples.Read("rda-1.1/ex9-dmp-long.json");

        Assert.Equal(MadmpVersion.V1_1, result.Version);
        var project = Assert.Single(result.Document!.Dmp.Projects);
        Assert.Equal("other", Assert.Single(project.ProjectIds).Type);
    }

    [Fact]
    public void StrictRead_KeepsRolesAsWritten()
    {
        var dmp = MadmpExamples.Read("rda-1.2/ex9-dmp-long.json", MadmpExamples.Strict).Document!.Dmp;

        Assert.Equal(["ContactPerson", "DataManager"], dmp.Contributors[1].Roles);
    }

    [Fact]
    public void Model_IsImmutableRecords_EqualByValue()
    {
        var a = MadmpExamples.Read("rda-1.2/ex8-dmp-minimal-content.json").Document!;
        var b = MadmpExamples.Read("rda-1.2/ex8-dmp-minimal-content.json").Document!;

        Assert.Equal(a.Dmp.Contact, b.Dmp.Contact);
        Assert.Equal(a.Dmp.DmpId, b.Dmp.DmpId);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Model_ListsCompareByValueAllTheWayDown()
    {
        var a = MadmpExamples.Read("rda-1.2/ex9-dmp-long.json").Document!;
        var b = MadmpExamples.Read("rda-1.2/ex9-dmp-long.json").Document!;

        Assert.NotSame(a.Dmp.Datasets, b.Dmp.Datasets);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());

        var retitled = b with { Dmp = b.Dmp with { Datasets = [.. b.Dmp.Datasets.Skip(1), b.Dmp.Datasets[0]] } };
        Assert.NotEqual(a, retitled);
    }

    [Fact]
    public void Model_ListsAreCopiedOnAssignment_SoTheCallerCannotMutateThem()
    {
        var keywords = new List<string> { "genomics" };
        var dataset = new Dataset { DatasetId = new Identifier("ds-1", "other"), Title = "t", Keywords = keywords };

        keywords.Add("added later");

        Assert.Equal(["genomics"], dataset.Keywords);
        Assert.Equal(new Dataset { DatasetId = new Identifier("ds-1", "other"), Title = "t", Keywords = ["genomics"] }, dataset);
    }
}
