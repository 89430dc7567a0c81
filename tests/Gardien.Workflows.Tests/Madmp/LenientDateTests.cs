using System.Text.Json.Nodes;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

/// <summary>Dates as people type them: read leniently, the format assumed named; never guessed when day and month could swap.</summary>
public sealed class LenientDateTests
{
    private static JsonObject WithProject(string? start, string end)
    {
        var root = DmpJson.Minimal12();
        var project = new JsonObject { ["title"] = "P", ["end"] = end };
        if (start is not null)
        {
            project["start"] = start;
        }

        root.Dmp()["project"] = new JsonArray(project);
        return root;
    }

    private static MadmpReadResult Read(JsonObject root, ValidationMode mode = ValidationMode.Lenient) =>
        MadmpReader.Default.Read(root.ToJsonString(), new MadmpReadOptions { Mode = mode });

    [Theory]
    [InlineData("31/12/2028", "DD/MM/YYYY")]
    [InlineData("31-12-2028", "DD-MM-YYYY")]
    [InlineData("31.12.2028", "DD.MM.YYYY")]
    [InlineData("12/31/2028", "MM/DD/YYYY")]
    [InlineData("2028/12/31", "YYYY/MM/DD")]
    [InlineData("2028.12.31", "YYYY.MM.DD")]
    [InlineData("20281231", "YYYYMMDD")]
    [InlineData(" 31/12/2028 ", "DD/MM/YYYY")]
    [InlineData("31 December 2028", "day, month name, year")]
    [InlineData("December 31, 2028", "month name, day, year")]
    [InlineData("Dec 31st 2028", "month name, day, year")]
    [InlineData("31 décembre 2028", "day, month name, year")]
    [InlineData("31 déc. 2028", "day, month name, year")]
    [InlineData("le 31 decembre 2028", "day, month name, year")]
    public void ProjectEnd_CommonForm_IsReadWithAWarningNamingTheFormat(string text, string format)
    {
        var result = Read(WithProject(null, text));

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Equal(new DateOnly(2028, 12, 31), result.Document!.Dmp.Projects[0].End);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("/dmp/project/0/end", warning.Path);
        Assert.Equal("format", warning.Keyword);
        Assert.Contains($"it was read as 2028-12-31 (31 December 2028), assuming {format}", warning.Message, StringComparison.Ordinal);
        Assert.Contains("Write it as \"2028-12-31\"", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FrenchFirstOfTheMonth_IsRead() =>
        Assert.Equal(new DateOnly(2028, 1, 1), Read(WithProject(null, "1er janvier 2028")).Document!.Dmp.Projects[0].End);

    [Fact]
    public void AmbiguousDate_AloneInTheDocument_IsNotReadAndTheWarningGivesBothReadings()
    {
        var result = Read(WithProject(null, "01/02/2028"));

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Null(result.Document!.Dmp.Projects[0].End);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("/dmp/project/0/end", warning.Path);
        Assert.Equal("format", warning.Keyword);
        const string Both = "1 February 2028 (DD/MM/YYYY: day, month, year) or as 2 January 2028 (MM/DD/YYYY: month, day, year)";
        Assert.Contains(Both, warning.Message, StringComparison.Ordinal);
        Assert.Contains("was not read", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("31/12/2028", 2028, 2, 1, "DD/MM/YYYY")]
    [InlineData("12/31/2028", 2028, 1, 2, "MM/DD/YYYY")]
    public void AmbiguousDate_IsReadTheWayTheDocumentsOtherDatesSettle(string end, int year, int month, int day, string format)
    {
        var result = Read(WithProject("01/02/2028", end));

        Assert.Equal(new DateOnly(year, month, day), result.Document!.Dmp.Projects[0].Start);
        var warning = Assert.Single(result.Warnings, w => w.Path == "/dmp/project/0/start");
        Assert.Contains($"assuming {format}: ", warning.Message, StringComparison.Ordinal);
        Assert.Contains($"like the other dates of this document (\"{end}\")", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AmbiguousDate_WhenTheOtherDatesDisagree_IsNotRead()
    {
        var root = WithProject("01/02/2028", "31/12/2028");
        root.Dmp()["dataset"]![0]!["distribution"]![0]!["available_until"] = "12/31/2040";

        var result = Read(root);

        Assert.Null(result.Document!.Dmp.Projects[0].Start);
        Assert.Equal(new DateOnly(2028, 12, 31), result.Document.Dmp.Projects[0].End);
        Assert.Equal(new DateOnly(2040, 12, 31), result.Document.Dmp.Datasets[0].Distributions[0].AvailableUntil);
        var start = Assert.Single(result.Warnings, w => w.Path == "/dmp/project/0/start");
        Assert.Contains("no other date of the document settles which", start.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DateWithDots_IsDayFirst() =>
        Assert.Equal(new DateOnly(2028, 2, 1), Read(WithProject(null, "01.02.2028")).Document!.Dmp.Projects[0].End);

    [Fact]
    public void SameDayAndMonth_IsReadEitherWay() =>
        Assert.Equal(new DateOnly(2028, 3, 3), Read(WithProject(null, "03/03/2028")).Document!.Dmp.Projects[0].End);

    [Fact]
    public void TwoDigitYear_IsNotGuessed()
    {
        var result = Read(WithProject(null, "31/12/28"));
        Assert.Null(result.Document!.Dmp.Projects[0].End);
        Assert.Contains(result.Warnings, w => w.Path == "/dmp/project/0/end" && w.Message.Contains("century", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("31/02/2028")]
    [InlineData("next year")]
    [InlineData("2028-12")]
    public void NotADate_IsLeftToTheSchemasFormatWarning(string text)
    {
        var result = Read(WithProject(null, text));

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Null(result.Document!.Dmp.Projects[0].End);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("format", warning.Keyword);
        Assert.Contains("should be a date YYYY-MM-DD", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryDateField_IsRead()
    {
        var root = WithProject("01/09/2024", "31/12/2028");
        var dataset = root.Dmp()["dataset"]![0]!.AsObject();
        dataset["issued"] = "15/01/2025";
        var distribution = dataset["distribution"]![0]!.AsObject();
        distribution["available_until"] = "31/12/2048";
        distribution["issued"] = "15/03/2025";
        var license = new JsonObject { ["license_ref"] = "https://creativecommons.org/licenses/by/4.0/", ["start_date"] = "01/01/2030" };
        distribution["license"] = new JsonArray(license);

        var result = Read(root);

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        var dmp = result.Document!.Dmp;
        Assert.Equal(new DateOnly(2024, 9, 1), dmp.Projects[0].Start);
        Assert.Equal(new DateOnly(2025, 1, 15), dmp.Datasets[0].Issued);
        Assert.Equal(new DateOnly(2048, 12, 31), dmp.Datasets[0].Distributions[0].AvailableUntil);
        Assert.Equal(new DateOnly(2025, 3, 15), dmp.Datasets[0].Distributions[0].Issued);
        Assert.Equal(new DateOnly(2030, 1, 1), dmp.Datasets[0].Distributions[0].Licenses[0].StartDate);
        Assert.Equal(6, result.Warnings.Count(w => w.Keyword == "format"));
    }

    [Fact]
    public void IsoDates_AreUntouched()
    {
        var result = Read(WithProject("2024-09-01", "2028-12-31"));
        Assert.Empty(result.Warnings);
        Assert.Equal(new DateOnly(2028, 12, 31), result.Document!.Dmp.Projects[0].End);
    }

    [Theory]
    [InlineData("31/12/2028")]
    [InlineData("01/02/2028")]
    public void StrictMode_ReadsNoDateThatIsNotIso(string text)
    {
        var result = Read(WithProject(null, text), ValidationMode.Strict);

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Null(result.Document!.Dmp.Projects[0].End);
        Assert.Contains(result.Warnings, w => w.Path == "/dmp/project/0/end" && w.Keyword == "format");
    }
}
