using System.CommandLine;

namespace Gardien.Cli;

// Placeholder until its owner writes the command; replaced, not kept.
internal static class ValidateCommand
{
    public static Command Create() => new("validate", "Not implemented yet.");
}
