using System.Globalization;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

public sealed class ReferenceVerdictTests
{
    public static TheoryData<string, string, string> Rows()
    {
        var data = new TheoryData<string, string, string>();
        var lines = File.ReadAllLines(MadmpExamples.PathOf("examples/reference-verdicts.csv"));
        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var cells = line.Split(',');
            for (var column = 1; column < header.Length; column++)
            {
                data.Add(cells[0], header[column].Replace("schema_", "", StringComparison.Ordinal), cells[column]);
            }
        }

        return data;
    }

    [Fact]
    public void ReferenceCsv_CoversEveryExampleAgainstEveryVersion()
    {
        var rows = Rows().Count();
        var files = Directory.EnumerateFiles(MadmpExamples.ExamplesDir, "*.json", SearchOption.AllDirectories).Count();

        Assert.Equal(files * 3, rows);
        Assert.Equal(81, rows);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void StrictVerdict_EqualsReferenceValidator(string file, string schemaVersion, string reference)
    {
        var result = MadmpReader.Default.Read(
            File.ReadAllBytes(MadmpExamples.PathOf(file)),
            new MadmpReadOptions { Mode = ValidationMode.Strict, SchemaVersion = MadmpVersionExtensions.ParseVersion(schemaVersion) });

        if (reference == "valid")
        {
            Assert.True(result.IsValid, MadmpExamples.Describe(result));
            Assert.NotNull(result.Document);
            Assert.Empty(result.Errors);
        }
        else
        {
            Assert.StartsWith("invalid(", reference, StringComparison.Ordinal);
            var expectedCount = int.Parse(reference["invalid(".Length..^1], CultureInfo.InvariantCulture);
            Assert.False(result.IsValid);
            Assert.Null(result.Document);
            Assert.Equal(expectedCount, result.Errors.Count);
        }

        Assert.Equal(MadmpVersionExtensions.ParseVersion(schemaVersion), result.Version);
        Assert.All(result.Errors.Concat(result.Warnings), issue =>
        {
            Assert.True(issue.Path.Length == 0 || issue.Path.StartsWith('/'), issue.Path);
            Assert.False(string.IsNullOrWhiteSpace(issue.Message));
            Assert.False(string.IsNullOrWhiteSpace(issue.Keyword));
        });
    }
}
