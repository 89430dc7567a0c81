using System.Text;
using System.Text.Json.Nodes;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

public sealed class BadInputTests
{
    private static void AssertRejected(MadmpReadResult result, string keyword)
    {
        Assert.False(result.IsValid);
        Assert.Null(result.Document);
        var error = Assert.Single(result.Errors);
        Assert.Equal(keyword, error.Keyword);
        Assert.Equal(IssueSeverity.Error, error.Severity);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\t ")]
    public void EmptyInput_IsRejectedAsEmpty(string input)
    {
        var result = MadmpReader.Default.Read(input);

        AssertRejected(result, "json");
        Assert.Contains("empty", result.Errors[0].Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EmptyBytes_AreRejected() => AssertRejected(MadmpReader.Default.Read(ReadOnlyMemory<byte>.Empty), "json");

    [Fact]
    public void NotJson_ReportsLineAndColumn()
    {
        var result = MadmpReader.Default.Read(
            "{\n  \"dmp\": {\n    \"title\": oops\n  }\n}", new MadmpReadOptions { Mode = ValidationMode.Strict });

        AssertRejected(result, "json");
        Assert.Equal(3, result.Errors[0].Line);
        Assert.Equal(14, result.Errors[0].Column);
        Assert.Contains("line 3, column 14", result.Errors[0].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Just some words", "json")]
    [InlineData("<dmp></dmp>", "json")]
    [InlineData("[1, 2, 3]", "type")]
    [InlineData("[]", "type")]
    [InlineData("42", "type")]
    [InlineData("\"a string\"", "type")]
    [InlineData("null", "type")]
    [InlineData("true", "type")]
    public void NonObjectOrNonJsonRoot_IsRejected(string input, string keyword)
    {
        foreach (var mode in new[] { ValidationMode.Lenient, ValidationMode.Strict })
        {
            AssertRejected(MadmpReader.Default.Read(input, new MadmpReadOptions { Mode = mode }), keyword);
        }
    }

    [Fact]
    public void EmptyObject_ReportsMissingDmp()
    {
        var result = MadmpReader.Default.Read("{}");

        var error = Assert.Single(result.Errors);
        Assert.Equal("/dmp", error.Path);
        Assert.Equal("required", error.Keyword);
    }

    [Fact]
    public void Utf8Bom_IsAccepted()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(MadmpExamples.Bytes("rda-1.2/ex8-dmp-minimal-content.json")).ToArray();

        var result = MadmpReader.Default.Read(bytes);

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
    }

    [Fact]
    public void Utf16Document_IsRejectedWithEncodingAdvice()
    {
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("{\"dmp\":{}}")).ToArray();

        AssertRejected(MadmpReader.Default.Read(bytes), "encoding");
    }

    [Fact]
    public void FiftyMegabyteDocument_IsRejectedBySizeWithoutParsing()
    {
        var big = new byte[50 * 1024 * 1024];
        Array.Fill(big, (byte)' ');
        big[0] = (byte)'{';
        big[^1] = (byte)'}';

        var fromBytes = MadmpReader.Default.Read(big);
        var fromString = MadmpReader.Default.Read(Encoding.UTF8.GetString(big));

        AssertRejected(fromBytes, "size");
        AssertRejected(fromString, "size");
        Assert.Contains("10,485,760", fromBytes.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FiftyMegabyteStream_IsRejectedBySize()
    {
        using var stream = new MemoryStream(new byte[50 * 1024 * 1024]);

        var result = await MadmpReader.Default.ReadAsync(stream);

        AssertRejected(result, "size");
        Assert.True(stream.Position < 20 * 1024 * 1024, "the reader should stop soon after the limit");
    }

    [Fact]
    public void SizeLimit_IsConfigurable()
    {
        var bytes = MadmpExamples.Bytes("rda-1.2/ex9-dmp-long.json");

        AssertRejected(MadmpReader.Default.Read(bytes, new MadmpReadOptions { MaxBytes = 1000 }), "size");
        Assert.True(MadmpReader.Default.Read(bytes, new MadmpReadOptions { MaxBytes = bytes.Length }).IsValid);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(100_000)]
    public void DeepNesting_IsRejectedByDepth(int depth)
    {
        var json = "{\"dmp\":" + new string('[', depth) + new string(']', depth) + "}";

        var result = MadmpReader.Default.Read(json);

        AssertRejected(result, "depth");
        Assert.NotNull(result.Errors[0].Line);
    }

    [Fact]
    public void DepthLimit_IsConfigurable()
    {
        var bytes = MadmpExamples.Bytes("rda-1.2/ex9-dmp-long.json");

        AssertRejected(MadmpReader.Default.Read(bytes, new MadmpReadOptions { MaxDepth = 3 }), "depth");
    }

    [Fact]
    public void NonLatinTitles_RoundTripIntoTheModel()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["title"] = "Étude 脑成像 — МРТ когорта 🧠";
        root.Dmp()["dataset"]![0]!["title"] = "بيانات التصوير";

        var result = MadmpReader.Default.Read(Encoding.UTF8.GetBytes(root.ToJsonString()));

        Assert.True(result.IsValid, MadmpExamples.Describe(result));
        Assert.Equal("Étude 脑成像 — МРТ когорта 🧠", result.Document!.Dmp.Title);
        Assert.Equal("بيانات التصوير", result.Document.Dmp.Datasets[0].Title);
    }

    [Fact]
    public void NullEverywhereOptional_NeverThrowsAndLenientStillReads()
    {
        var root = DmpJson.Minimal12();
        var dmp = root.Dmp();
        foreach (var key in new[]
        {
            "description",
            "ethical_issues_description",
            "ethical_issues_report",
            "project",
            "cost",
            "contributor",
        })
        {
            dmp[key] = null;
        }

        var dataset = (JsonObject)dmp["dataset"]![0]!;
        foreach (var key in new[]
        {
            "type",
            "description",
            "issued",
            "keyword",
            "language",
            "is_reused",
            "preservation_statement",
            "data_quality_assurance",
            "security_and_privacy",
            "technical_resource",
            "metadata",
        })
        {
            dataset[key] = null;
        }

        var distribution = (JsonObject)dataset["distribution"]![0]!;
        foreach (var key in new[]
        {
            "description",
            "byte_size",
            "available_until",
            "access_url",
            "download_url",
            "format",
            "host",
            "license",
            "issued",
        })
        {
            distribution[key] = null;
        }

        var lenient = MadmpReader.Default.Read(root.ToJsonString());
        var strict = MadmpReader.Default.Read(root.ToJsonString(), new MadmpReadOptions { Mode = ValidationMode.Strict });

        Assert.True(lenient.IsValid, MadmpExamples.Describe(lenient));
        Assert.Empty(lenient.Document!.Dmp.Contributors);
        Assert.Null(lenient.Document.Dmp.Datasets[0].Distributions[0].ByteSize);
        Assert.Equal(26, lenient.Warnings.Count);
        Assert.False(strict.IsValid);
        Assert.All(strict.Errors, e => Assert.True(e.Keyword is "type" or "enum" or "required", MadmpExamples.Describe(strict)));
    }

    [Fact]
    public void NullRequiredValue_IsAnErrorEvenLeniently()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["title"] = null;

        var result = MadmpReader.Default.Read(root.ToJsonString());

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Path == "/dmp/title" && e.Keyword == "required");
    }

    [Fact]
    public void DuplicateKeys_KeepTheLastValue_WithAWarningAtTheirPath()
    {
        foreach (var mode in new[] { ValidationMode.Lenient, ValidationMode.Strict })
        {
            var root = DmpJson.Minimal12().ToJsonString()
                .Replace("\"title\":\"Cohorte IRM 2025\",", "\"title\":\"a\",\"title\":\"b\",", StringComparison.Ordinal);

            var result = MadmpReader.Default.Read(root, new MadmpReadOptions { Mode = mode });

            Assert.True(result.IsValid, MadmpExamples.Describe(result));
            Assert.Equal("b", result.Document!.Dmp.Title);
            var warning = Assert.Single(result.Warnings, w => w.Keyword == "duplicate");
            Assert.Equal("/dmp/title", warning.Path);
            Assert.NotNull(warning.Line);
        }
    }

    [Fact]
    public void InvalidUtf8_IsAnEncodingErrorWithLineAndColumn()
    {
        byte[] bytes = [(byte)'{', (byte)'\n', (byte)' ', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'];

        var result = MadmpReader.Default.Read(bytes);

        AssertRejected(result, "encoding");
        Assert.Equal((2, 3), (result.Errors[0].Line, result.Errors[0].Column));
        Assert.Contains("Save the file as UTF-8", result.Errors[0].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"dmp\": {} ", "ends before every { and [ is closed")]
    [InlineData("{\"dmp\": {}}}", "comes after the end of the document")]
    [InlineData("{\"dmp\": {\"title\": \"a\" \"language\": \"eng\"}}", "A comma is probably missing")]
    [InlineData("{\"dmp\": {\"title\": Tru}}", "the word 'Tru'")]
    [InlineData("{\"dmp\": {'title': 1}}", "single quote")]
    [InlineData("{\"dmp\": {\"title\" 1}}", "a colon is missing")]
    [InlineData("{\"dmp\": {\"title\": \"a\nb\"}}", "raw control character")]
    [InlineData("{\"dmp\": {\"title\": \"a\\qb\"}}", "backslash escape")]
    [InlineData("{\"dmp\": {\"n\": 01}}", "malformed number")]
    [InlineData("{\"dmp\": {\"title\": \"abc", "never closed")]
    [InlineData("{\"dmp\": []]}", "closes nothing")]
    public void MalformedJson_IsDescribedInPlainWords_WithLineAndColumn(string json, string expected)
    {
        var result = MadmpReader.Default.Read(json, new MadmpReadOptions { Mode = ValidationMode.Strict });

        AssertRejected(result, "json");
        var error = result.Errors[0];
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Line);
        Assert.NotNull(error.Column);
        foreach (var dotnet in new[]
        {
            "reader options",
            "Expected depth",
            "JSON payload",
            "isFinalBlock",
            "LineNumber",
            "BytePositionInLine",
            "EndObject",
        })
        {
            Assert.DoesNotContain(dotnet, error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void TrailingComma_IsAWarningInLenientMode_InPlainWords()
    {
        var json = DmpJson.Minimal12().ToJsonString()[..^2] + ",}}";

        var lenient = MadmpReader.Default.Read(json);
        var strict = MadmpReader.Default.Read(json, new MadmpReadOptions { Mode = ValidationMode.Strict });

        Assert.True(lenient.IsValid, MadmpExamples.Describe(lenient));
        Assert.Contains("a comma after the last item", Assert.Single(lenient.Warnings).Message, StringComparison.Ordinal);
        Assert.Contains("JSON allows no comma after the last item", Assert.Single(strict.Errors).Message, StringComparison.Ordinal);
        Assert.DoesNotContain("reader options", strict.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailingStream_IsReportedAsIoError()
    {
        var result = await MadmpReader.Default.ReadAsync(new FailingStream());

        AssertRejected(result, "io");
    }

    [Fact]
    public void NullString_IsRejectedNotThrown()
    {
        AssertRejected(MadmpReader.Default.Read((string)null!), "json");
    }

    [Fact]
    public void HugeNumbersAndWrongTypes_AreSchemaErrorsNotCrashes()
    {
        var root = DmpJson.Minimal12();
        root.Dmp()["dataset"]![0]!["distribution"]![0]!["byte_size"] = JsonNode.Parse("123456789012345678901234567890");
        root.Dmp()["title"] = 12.5;

        var result = MadmpReader.Default.Read(root.ToJsonString(), new MadmpReadOptions { Mode = ValidationMode.Strict });

        Assert.False(result.IsValid);
        Assert.Equal(2, result.Errors.Count);
        Assert.Contains(
            result.Errors, e => e.Path == "/dmp/title" && e.Keyword == "type" && e.Message.Contains("12.5", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Path == "/dmp/dataset/0/distribution/0/byte_size" && e.Keyword == "type");
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("disk unplugged");
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new IOException("disk unplugged");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
