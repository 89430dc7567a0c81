using System.CommandLine;

namespace Gardien.Cli;

// Placeholder until its owner writes the command; replaced, not kept.
internal static class AuditCommand
{
    public static Command Create() => new("audit", "Not implemented yet.");
}
