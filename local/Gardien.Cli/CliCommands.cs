using System.CommandLine;

namespace Gardien.Cli;

/// <summary>The gardien command tree, shared by the executable and the tests that drive it.</summary>
internal static class CliCommands
{
    public static RootCommand CreateRoot(string description) => new(description)
    {
        ValidateCommand.Create(),
        PlanCommand.Create(),
        AuditCommand.Create(),
        SubmitCommand.Create(),
        InboxCommand.Create(),
        ApproveCommand.Create(),
        StatusCommand.Create(),
        SweepCommand.Create(),
        DemoCommand.Create(),
    };
}
