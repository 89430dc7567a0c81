using System.Text;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;

namespace Gardien.Workflows.Hosting;

/// <summary>
/// Reads a policy file for a host (the core never touches files): the checks of <see cref="PolicyLoader.Load"/>, plus a
/// missing, oversized or unreadable file reported as an error with keyword <c>io</c> or <c>size</c>. Never throws for bad input.
/// </summary>
public static class PolicyFiles
{
    public static PolicyLoadResult Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return Fail($"Policy file '{path}' does not exist. Check the path (see policy.sample.json for an example).", "io");
            }

            if (info.Length > PolicyLoader.MaxPolicyBytes)
            {
                return Fail(
                    $"Policy file '{path}' is {info.Length} bytes; a policy is at most {PolicyLoader.MaxPolicyBytes} bytes. "
                    + "Is it the right file?",
                    "size");
            }

            return PolicyLoader.Load(File.ReadAllText(path, Encoding.UTF8));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.SecurityException
            or ArgumentException or NotSupportedException)
        {
            return Fail($"Policy file '{path}' cannot be read: {ex.Message}", "io");
        }
    }

    private static PolicyLoadResult Fail(string message, string keyword) =>
        new(null, [new ValidationIssue(string.Empty, message, keyword, IssueSeverity.Error)]);
}
