using System.Diagnostics;
using Gardien.Testing;

namespace Gardien.Workflows.Tests.Repository;

/// <summary>
/// A fresh clone has nothing beside it: every file the code, tests, scripts or docs name must be inside the repository.
/// </summary>
public sealed class SelfContainedRepositoryTests
{
    // Built from parts so that this file does not match itself.
    private static readonly string[] OutsidePaths =
    [
        ".." + "/shared",
        ".." + "\\shared",
        "/work" + "/shared",
        "shared" + "/madmp",
        "shared" + "\\madmp",
    ];

    private static readonly HashSet<string> BinaryExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".zip", ".gz", ".dll", ".exe", ".snk", ".pfx",
    };

    [Fact]
    public void TrackedFiles_NeverReferToTheSharedFolderBesideTheRepository()
    {
        var offenders = new List<string>();
        foreach (var relative in TrackedFiles())
        {
            var full = Path.Combine(RepoPaths.Root, relative);
            if (BinaryExtensions.Contains(Path.GetExtension(relative)) || !File.Exists(full))
            {
                continue;
            }

            var lines = File.ReadAllLines(full);
            for (var i = 0; i < lines.Length; i++)
            {
                if (OutsidePaths.FirstOrDefault(p => lines[i].Contains(p, StringComparison.OrdinalIgnoreCase)) is { } hit)
                {
                    offenders.Add($"{relative}:{i + 1}: names '{hit}'");
                }
            }
        }

        Assert.True(
            offenders.Count == 0,
            "Files that depend on a folder outside the repository (copy the data under tests/data or docs/specs instead):"
                + Environment.NewLine
                + string.Join(Environment.NewLine, offenders));
    }

    [Fact]
    public void MadmpTestData_IsInsideTheRepository_WithItsOrigins()
    {
        Assert.StartsWith(RepoPaths.Root, Path.GetFullPath(RepoPaths.MadmpData), StringComparison.Ordinal);
        foreach (var folder in new[] { "schema", "examples", Path.Combine("opidor", "registries") })
        {
            Assert.True(File.Exists(Path.Combine(RepoPaths.MadmpData, folder, "ORIGIN.md")), $"tests/data/madmp/{folder} has no ORIGIN.md");
        }

        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, "docs", "specs", "ORIGIN.md")), "docs/specs has no ORIGIN.md");
        Assert.True(File.Exists(Path.Combine(RepoPaths.MadmpData, "examples", "reference-verdicts.csv")));
    }

    /// <summary>The files git tracks; on a copy without git metadata, every file outside build output and dependencies.</summary>
    private static IEnumerable<string> TrackedFiles()
    {
        if (Directory.Exists(Path.Combine(RepoPaths.Root, ".git")) || File.Exists(Path.Combine(RepoPaths.Root, ".git")))
        {
            try
            {
                using var git = Process.Start(new ProcessStartInfo("git", "ls-files -z")
                {
                    WorkingDirectory = RepoPaths.Root,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                })!;
                var listing = git.StandardOutput.ReadToEnd();
                git.WaitForExit();
                if (git.ExitCode == 0)
                {
                    return listing.Split('\0', StringSplitOptions.RemoveEmptyEntries);
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // git is not installed: fall back to the file system.
            }
        }

        string[] skipped = ["bin", "obj", "node_modules", ".git", ".gardien", "TestResults", "BenchmarkDotNet.Artifacts"];
        return Directory.EnumerateFiles(RepoPaths.Root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(segment => skipped.Contains(segment)));
    }
}
