using System.CommandLine;
using Gardien.Cli;

// Exit codes are part of the contract: 0 success/valid, 1 invalid input (validation errors), 2 usage or I/O error.
var root = new RootCommand("Gardien: turns machine-actionable DMPs into enforced governance on Azure.")
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

return await CliRunner.RunAsync(root, args);
