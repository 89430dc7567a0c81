using System.CommandLine;

namespace Gardien.Cli;

// Placeholder until its owner writes the command; replaced, not kept.
internal static class PlanCommand
{
    public static Command Create() => new("plan", "Not implemented yet.");
}
