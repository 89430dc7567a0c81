using Gardien.Testing;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Tests.Madmp;

/// <summary>The reference examples in tests/data/madmp, read by the tests (never by the app).</summary>
internal static class MadmpExamples
{
    public static string ExamplesDir => Path.Combine(RepoPaths.MadmpData, "examples");

    public static string PathOf(string relative) => Path.Combine(RepoPaths.MadmpData, relative);

    public static byte[] Bytes(string relativeToExamples) => File.ReadAllBytes(Path.Combine(ExamplesDir, relativeToExamples));

    public static string Text(string relativeToExamples) => File.ReadAllText(Path.Combine(ExamplesDir, relativeToExamples));

    public static MadmpReadResult Read(string relativeToExamples, MadmpReadOptions? options = null) =>
        MadmpReader.Default.Read(Bytes(relativeToExamples), options);

    /// <summary>Every example file, relative to the examples folder with forward slashes, in a stable order.</summary>
    public static TheoryData<string> AllFiles() =>
        [.. Directory.EnumerateFiles(ExamplesDir, "*.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(ExamplesDir, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];

    public static readonly MadmpReadOptions Strict = new() { Mode = ValidationMode.Strict };

    public static string Describe(MadmpReadResult result) =>
        string.Join(
            Environment.NewLine, result.Errors.Concat(result.Warnings).Select(i => $"{i.Severity} {i.Path} [{i.Keyword}] {i.Message}"));
}
