using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

public sealed class ExampleFilesTests
{
    public static TheoryData<string> Files() => MadmpExamples.AllFiles();

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryExample_ReadsLenientlyIntoAModel(string file)
    {
        var result = MadmpExamples.Read(file);
        if (file.StartsWith("rda-1.0/", StringComparison.Ordinal))
        {
            // Lenient mode repairs the 1.0 examples' shapes (single objects for lists, "en" for "eng"); what it cannot
            // invent (a missing dataset_id) stays an error, and an empty dataset list stays empty.
            Assert.DoesNotContain(result.Errors, e => e.Keyword is "type" or "enum");
            Assert.Contains(result.Warnings, w => w.Path == "/dmp/language" && w.Keyword == "enum");
            Assert.Equal(result.IsValid, result.Document is not null);
            return;
        }

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        var dmp = result.Document!.Dmp;
        Assert.False(string.IsNullOrWhiteSpace(dmp.Title));
        Assert.False(string.IsNullOrWhiteSpace(dmp.Contact.Mbox));
        Assert.NotEmpty(dmp.Datasets);
        Assert.All(dmp.Datasets, d => Assert.False(string.IsNullOrWhiteSpace(d.Title)));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryExample_DetectsTheVersionItWasPublishedWith(string file)
    {
        var result = MadmpExamples.Read(file);

        var expected = file.StartsWith("rda-1.2/", StringComparison.Ordinal) ? MadmpVersion.V1_2 : MadmpVersion.V1_1;
        Assert.Equal(expected, result.Version);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryExample_StrictAndLenientAgreeOnPublishedVersions(string file)
    {
        if (file.StartsWith("rda-1.0/", StringComparison.Ordinal))
        {
            // The 1.0 examples break every schema; only lenient mode repairs them (see LenientDeviationTests).
            Assert.False(MadmpExamples.Read(file, MadmpExamples.Strict).IsValid);
            return;
        }

        var strict = MadmpExamples.Read(file, MadmpExamples.Strict);
        var lenient = MadmpExamples.Read(file);

        Assert.True(strict.IsValid, MadmpExamples.Describe(strict));
        Assert.Equal(strict.Document!.Dmp.Datasets.Count, lenient.Document!.Dmp.Datasets.Count);
        Assert.Equal(strict.Document.Dmp.DmpId, lenient.Document.Dmp.DmpId);
    }
}
