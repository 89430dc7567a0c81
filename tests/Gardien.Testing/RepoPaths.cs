namespace Gardien.Testing;

/// <summary>Locates the repository root and the sibling <c>shared/</c> folder from a test's working directory.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The repository root (the folder holding Functions.sln).</summary>
    public static string Root => LazyRoot.Value;

    /// <summary><c>../shared/madmp</c> beside the repository: reference data tests may read directly.</summary>
    public static string SharedMadmp => Path.GetFullPath(Path.Combine(Root, "..", "shared", "madmp"));

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
