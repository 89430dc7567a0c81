using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>Who the intake asks: never a look-alike mailbox, never one person for two approvals of personal data.</summary>
public sealed class IntakeApproverTests
{
    private const string FallbackEmail = "research-office@neuro-institute.example";

    [Fact]
    public async Task Intake_ContactIsTheDataSteward_TheStewardsDelegateGivesTheStewardApproval()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json(StewardEmail, datasets: new DatasetSpec("ds-cohort", PersonalData: "yes", Access: "closed"));

        var submitted = await host.Submissions.SubmitAsync(json, "user:" + StewardEmail);
        await host.DecideAsync(StewardEmail, "approve");
        await host.DecideAsync(StewardDelegateEmail, "approve");
        await host.DecideAsync(DpoEmail, "approve");
        var output = (await host.CompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(IntakeState.Active, output.State);
        Assert.Single(host.SentTo(StewardEmail, NotificationKind.ApprovalRequest));
        Assert.Equal(StewardEmail, Assert.Single(output.Approvals, a => a.Role == ApprovalRole.PrincipalInvestigator).DecidedBy);
        Assert.Equal(StewardDelegateEmail, Assert.Single(output.Approvals, a => a.Role == ApprovalRole.DataSteward).DecidedBy);
        Assert.Equal(3, output.Approvals.Select(a => a.DecidedBy).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Theory]
    [InlineData("claire.dubois@neurо.example")]
    [InlineData("claire.dubois＠neuro.example")]
    public async Task Intake_LookAlikeContactMailbox_AsksTheFallbackAndSendsItNothing(string lookAlike)
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json(lookAlike, datasets: new DatasetSpec("ds-open"));

        var submitted = await host.Submissions.SubmitAsync(json, "user:someone");
        await host.DecideAsync(FallbackEmail, "approve");
        var output = (await host.CompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal(FallbackEmail, Assert.Single(output.Approvals).DecidedBy);
        Assert.Empty(host.SentTo(lookAlike));
        Assert.DoesNotContain(
            host.Sent,
            n => n.To.Any(
                to => to.Contains("neuro.example", StringComparison.Ordinal) && !to.StartsWith("mehdi", StringComparison.Ordinal)));
        Assert.Contains(output.Warnings, w => w.Contains("/dmp/contact/mbox", StringComparison.Ordinal));
        Assert.Null(host.Dmps[DmpId].ContactEmail);
    }
}
