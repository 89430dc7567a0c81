using Gardien.Local.Hosting;
using Gardien.Testing;

namespace Gardien.Local.Tests.Hosting;

[Collection(AzuriteCollection.Name)]
public sealed class GardienLocalHostTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task Start_InvalidPolicyFile_FailsNamingThePolicyAndTheFix()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        var policy = sandbox.Combine("policy.json");
        await File.WriteAllTextAsync(policy, """{ "policy_version": "one" }""");
        await using var host = GardienLocalHost.Create(
            GardienLocalConfiguration.Build(sandbox.ConfigPath, [new("Workflows:PolicyPath", policy)]), consoleLogging: false);

        var error = await Assert.ThrowsAsync<GardienLocalHostException>(() => host.StartAsync());

        Assert.Contains(policy, error.Message, StringComparison.Ordinal);
        Assert.Contains("Workflows:PolicyPath", error.Message, StringComparison.Ordinal);
        Assert.Contains("docs/policy.md", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BadTimeSpanSetting_FailsNamingTheKey()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var host = GardienLocalHost.Create(
            GardienLocalConfiguration.Build(sandbox.ConfigPath, [new("Engine:IdleTimeout", "soon")]), consoleLogging: false);

        var error = await Assert.ThrowsAsync<GardienLocalHostException>(() => host.StartAsync());

        Assert.Contains("Engine:IdleTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_ConfigFileNotJson_FailsSayingSo()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        File.WriteAllText(sandbox.ConfigPath, "{ \"Engine\": ");

        var error = Assert.Throws<GardienLocalHostException>(() => GardienLocalConfiguration.Build(sandbox.ConfigPath));

        Assert.Contains("is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunUntilIdle_AfterSubmit_LeavesTheIntakeWaitingForItsApprovals()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var host = GardienLocalHost.Create(GardienLocalConfiguration.Build(sandbox.ConfigPath), consoleLogging: false);
        await host.StartAsync();

        var submitted = await host.Submissions.SubmitAsync(await File.ReadAllTextAsync(sandbox.DmpPath), "user:test");
        Assert.True(await host.RunUntilIdleAsync());

        var approvals = await host.Registry.ListApprovalsAsync(sandbox.DmpId);
        Assert.Equal(["dpo", "pi", "steward"], approvals.Select(a => a.Role).Order(StringComparer.Ordinal));
        Assert.All(approvals, a => Assert.Equal(Workflows.Ports.ApprovalDecision.Pending, a.Decision));
        Assert.Equal(3, (await host.Inbox.ListAsync()).Count);
        var intake = await host.Client.GetInstanceAsync(submitted.InstanceId!);
        Assert.Equal(Runtime.WorkflowStatus.Running, intake!.Status);
    }

    [Fact]
    public async Task Start_StartsTheRetentionSchedule_AndASecondStartLeavesItRunning()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using (var first = GardienLocalHost.Create(GardienLocalConfiguration.Build(sandbox.ConfigPath), consoleLogging: false))
        {
            await first.StartAsync();
            Assert.True(await first.RunUntilIdleAsync());
        }

        await using var second = GardienLocalHost.Create(GardienLocalConfiguration.Build(sandbox.ConfigPath), consoleLogging: false);
        await second.StartAsync();
        Assert.True(await second.RunUntilIdleAsync());

        var schedule = await second.Client.GetInstanceAsync(
            Workflows.Retention.RetentionScheduleWorkflow.InstanceId, getInputsAndOutputs: true);
        Assert.Equal(Runtime.WorkflowStatus.Running, schedule!.Status);
        Assert.Equal(0, schedule.ReadInputAs<Workflows.Retention.RetentionScheduleInput>()!.Runs);
        Assert.Equal("waiting", schedule.ReadCustomStatusAs<Workflows.Retention.RetentionScheduleStatus>()!.Stage);
    }

    [Fact]
    public async Task Start_WithTheScheduleTurnedOff_StartsNoSchedule()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var host = GardienLocalHost.Create(
            GardienLocalConfiguration.Build(sandbox.ConfigPath, [new("Workflows:StartRetentionSchedule", "false")]), consoleLogging: false);

        await host.StartAsync();

        Assert.Null(await host.Client.GetInstanceAsync(Workflows.Retention.RetentionScheduleWorkflow.InstanceId));
    }
}
