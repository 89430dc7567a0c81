namespace Gardien.Testing;

/// <summary>Locates the repository root and the test data inside it from a test's working directory.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The repository root (the folder holding Functions.sln).</summary>
    public static string Root => LazyRoot.Value;

    /// <summary><c>tests/data</c>: files the tests read (never the application).</summary>
    public static string TestData => Path.Combine(Root, "tests", "data");

    /// <summary>
    /// <c>tests/data/madmp</c>: the RDA schemas, examples and reference verdicts, DMP OPIDoR vocabularies (origins in its ORIGIN.md files).
    /// </summary>
    public static string MadmpData => Path.Combine(TestData, "madmp");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Functions.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Functions.sln not found above " + AppContext.BaseDirectory);
    }
}
