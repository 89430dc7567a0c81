using System.Text.Json.Nodes;
using Gardien.Testing;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

/// <summary>
/// The files of tests/data/hostile: every problem is reported at its JSON path (or line and column), never as an
/// internal error, and the strict verdict is python-jsonschema's (reference-verdicts.csv there).
/// </summary>
public sealed class HostileInputTests
{
    private static string Folder => Path.Combine(RepoPaths.TestData, "hostile");

    private static readonly MadmpReadOptions Strict = new() { Mode = ValidationMode.Strict };

    private static MadmpReadResult Read(string file, MadmpReadOptions? options = null) =>
        MadmpReader.Default.Read(File.ReadAllBytes(Path.Combine(Folder, file)), options);

    public static TheoryData<string, string> ReferenceVerdicts()
    {
        var data = new TheoryData<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(Folder, "reference-verdicts.csv")).Skip(1))
        {
            var cells = line.Split(',');
            data.Add(cells[0], cells[1]);
        }

        return data;
    }

    [Fact]
    public void EveryHostileFile_HasAReferenceVerdict()
    {
        var listed = ReferenceVerdicts().Select(row => (string)row[0]).ToHashSet();

        Assert.All(Directory.EnumerateFiles(Folder, "*.json"), f => Assert.Contains(Path.GetFileName(f), listed));
    }

    [Theory]
    [MemberData(nameof(ReferenceVerdicts))]
    public void Strict_AgreesWithTheReferenceValidator_AndSaysWhereEveryProblemIs(string file, string verdict)
    {
        var result = Read(file, Strict);

        switch (verdict)
        {
            case "valid":
                Assert.True(result.IsValid, MadmpExamples.Describe(result));
                break;
            case "unreadable":
                var error = Assert.Single(result.Errors);
                Assert.True(error.Keyword is "json" or "encoding", error.Keyword);
                Assert.NotNull(error.Line);
                Assert.NotNull(error.Column);
                break;
            default:
                Assert.False(result.IsValid);
                Assert.Equal(verdict, $"invalid({result.Errors.Count})");
                break;
        }

        AssertEveryIssueSaysWhere(result);
        AssertEveryIssueSaysWhere(Read(file));
    }

    [Theory]
    [InlineData("contact-string.json", "/dmp/contact")]
    [InlineData("contact-number.json", "/dmp/contact")]
    [InlineData("distribution-string.json", "/dmp/dataset/0/distribution")]
    [InlineData("distribution-item-string.json", "/dmp/dataset/0/distribution/0")]
    [InlineData("dataset-item-string.json", "/dmp/dataset/0")]
    [InlineData("host-string.json", "/dmp/dataset/0/distribution/0/host")]
    [InlineData("dmp-string.json", "/dmp")]
    public void WrongType_IsOneTypeErrorAtItsPath_InBothModes(string file, string path)
    {
        foreach (var options in new[] { Strict, new MadmpReadOptions() })
        {
            var result = Read(file, options);

            var error = Assert.Single(result.Errors);
            Assert.Equal((path, "type"), (error.Path, error.Keyword));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NullDmp_IsOneError_NotACascadeOfRequiredFields()
    {
        var strict = Read("dmp-null.json", Strict);
        var lenient = Read("dmp-null.json");

        Assert.Equal(("/dmp", "type"), (Assert.Single(strict.Errors).Path, strict.Errors[0].Keyword));
        Assert.Equal("/dmp", Assert.Single(lenient.Errors).Path);
    }

    [Fact]
    public void Latin1File_SaysWhereAndToSaveAsUtf8()
    {
        var error = Assert.Single(Read("latin1.json").Errors);

        Assert.Equal("encoding", error.Keyword);
        Assert.Equal((4, 15), (error.Line, error.Column));
        Assert.Contains("Save the file as UTF-8", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"É\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoneSurrogate_IsValid_WithAWarningAtItsPath()
    {
        foreach (var options in new[] { Strict, new MadmpReadOptions() })
        {
            var result = Read("lone-surrogate.json", options);

            Assert.True(result.IsValid, MadmpExamples.Describe(result));
            Assert.Equal("IRM brutes \uFFFD", result.Document!.Dmp.Datasets[0].Title);
            var warning = Assert.Single(result.Warnings);
            Assert.Equal(("/dmp/dataset/0/title", "encoding"), (warning.Path, warning.Keyword));
            Assert.NotNull(warning.Line);
        }
    }

    [Fact]
    public void DuplicateKeys_StrictGivesTheSchemasVerdict_OnTheLastValues()
    {
        var result = Read("duplicate-keys.json", Strict);

        Assert.Equal(["/dmp/contact/mbox", "/dmp/language"], result.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        var duplicates = result.Warnings.Where(w => w.Keyword == "duplicate").ToList();
        Assert.Equal(["/dmp/language", "/dmp/title"], duplicates.Select(w => w.Path).Order(StringComparer.Ordinal));
        Assert.Contains(duplicates, w => w.Message.Contains("lines 5 and 23", StringComparison.Ordinal));
        Assert.Contains(duplicates, w => w.Message.Contains("lines 4 and 24", StringComparison.Ordinal));
    }

    [Fact]
    public void DuplicateKeys_LenientShowsEveryErrorAtOnce()
    {
        var result = Read("duplicate-keys.json");

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Path == "/dmp/language" && e.Keyword == "enum");
        Assert.Contains(result.Errors, e => e.Path == "/dmp/contact/mbox" && e.Keyword == "required");
        Assert.Equal(2, result.Warnings.Count(w => w.Keyword == "duplicate"));
    }

    [Fact]
    public void DuplicateKeys_WhoseLastValuesAreValid_AreValidInStrictMode()
    {
        var result = Read("duplicate-keys-last-valid.json", Strict);

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Equal("eng", result.Document!.Dmp.Language);
        Assert.Equal(YesNoUnknown.Yes, result.Document.Dmp.Datasets[0].PersonalData);
        Assert.Equal(["/dmp/dataset/0/personal_data", "/dmp/language"], result.Warnings.Select(w => w.Path).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Every value of two real plans replaced in turn by a value of each JSON type: no internal error, every issue has a
    /// path or a position, and nothing is reported below a value of the wrong type.
    /// </summary>
    [Theory]
    [InlineData("minimal")]
    [InlineData("rda-1.2/ex9-dmp-long.json")]
    public void AnyValueOfTheWrongType_IsReportedWhereItIs(string source)
    {
        var original = source == "minimal" ? DmpJson.Minimal12() : JsonNode.Parse(MadmpExamples.Text(source))!.AsObject();
        string[] replacements = ["\"x\"", "42", "true", "null", "[]", "{}", "[\"x\"]", "[{}]", "[42]"];
        var paths = Paths(original, "").Where(p => p.Length > 0).ToList();
        Assert.True(paths.Count > 20);

        foreach (var path in paths)
        {
            foreach (var replacement in replacements)
            {
                var mutated = original.DeepClone().AsObject();
                Replace(mutated, path, JsonNode.Parse(replacement));
                var json = mutated.ToJsonString();
                foreach (var options in new[] { Strict, new MadmpReadOptions() })
                {
                    var result = MadmpReader.Default.Read(json, options);
                    AssertEveryIssueSaysWhere(result, $"{path} = {replacement} ({options.Mode})");
                    var wrongTypes = result.Errors.Where(e => e.Keyword == "type").Select(e => e.Path + "/").ToList();
                    Assert.DoesNotContain(result.Errors, e => wrongTypes.Any(t => e.Path.StartsWith(t, StringComparison.Ordinal)));
                }
            }
        }
    }

    private static void AssertEveryIssueSaysWhere(MadmpReadResult result, string? context = null)
    {
        foreach (var issue in result.Errors.Concat(result.Warnings))
        {
            Assert.True(issue.Keyword != "internal", $"{context}: {issue.Message}");
            Assert.True(issue.Path.Length > 0 || issue.Line is not null, $"{context}: no path nor position for: {issue.Message}");
            Assert.False(string.IsNullOrWhiteSpace(issue.Message));
        }
    }

    private static IEnumerable<string> Paths(JsonNode? node, string path)
    {
        yield return path;
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    foreach (var inner in Paths(
                        value, path + "/" + key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var inner in Paths(array[i], $"{path}/{i}"))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    private static void Replace(JsonNode root, string pointer, JsonNode? value)
    {
        var segments = pointer.Split('/')[1..].Select(
            s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        var parent = root;
        foreach (var segment in segments[..^1])
        {
            parent = parent is JsonArray a ? a[int.Parse(segment, System.Globalization.CultureInfo.InvariantCulture)]! : parent[segment]!;
        }

        if (parent is JsonArray array)
        {
            array[int.Parse(segments[^1], System.Globalization.CultureInfo.InvariantCulture)] = value;
        }
        else
        {
            parent[segments[^1]] = value;
        }
    }
}
