using Gardien.Cli;

// Exit codes are part of the contract: 0 success/valid, 1 invalid input (validation errors), 2 usage or I/O error.
var root = CliCommands.CreateRoot("Gardien: turns machine-actionable DMPs into enforced governance on Azure.");

return await CliRunner.RunAsync(root, args);
