using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>The policy's <c>notifications.language</c> chooses the language of every message, end to end.</summary>
public sealed class NotificationLanguageTests
{
    private static readonly GovernancePolicy French =
        GovernancePolicy.Default with { Notifications = new NotificationPolicy { Language = "fr" } };

    [Fact]
    public async Task Intake_FrenchPolicy_RequestAndSummaryAreInFrench_AndTheApproveLinkKeepsItsLabel()
    {
        var options = new GardienWorkflowOptions { ApprovalBaseUrl = new Uri("https://gardien.test/"), Policy = French };
        await using var host = await WorkflowTestEnvironment.StartAsync(workflows: options);

        var submitted = await host.Submissions.SubmitAsync(Json(), "user:" + PiEmail);
        var request = await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);
        await host.DecideAsync(PiEmail, "approve");
        var output = (await host.CompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;
        var summary = await host.WaitForMessageAsync(PiEmail, NotificationKind.Summary);

        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal("fr", request.Language);
        Assert.StartsWith("Approbation requise (responsable scientifique) : ", request.Subject, StringComparison.Ordinal);
        Assert.Contains("Chaque lien ne sert qu'une fois", request.Body, StringComparison.Ordinal);
        Assert.Contains("Le plan :", request.Body, StringComparison.Ordinal);
        Assert.Equal([ApprovalButtons.Approve, ApprovalButtons.Reject], request.Links.Select(l => l.Label));
        Assert.Equal("fr", summary.Language);
        Assert.StartsWith("PGD approuvé et provisionné : ", summary.Subject, StringComparison.Ordinal);
        Assert.Contains(output.Containers[0].Container, summary.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Intake_DefaultPolicy_WritesEnglish()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();

        await host.Submissions.SubmitAsync(Json(), "user:" + PiEmail);
        var request = await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);

        Assert.Equal("en", request.Language);
        Assert.StartsWith("Approval needed (principal investigator): ", request.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetentionCase_FrenchSettings_NoticeIsInFrenchWithFrenchLinkLabels()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset("https://doi.org/10.1234/health-study", "mri-raw", WorkflowTestEnvironment.Today.AddDays(100));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = RetentionCaseWorkflow.InstanceIdFor(dataset.DmpId, dataset.DatasetId, dataset.KeepUntil!.Value);
        await host.Client.ScheduleNewAsync(nameof(RetentionCaseWorkflow), new RetentionCaseInput
        {
            DmpId = dataset.DmpId,
            DatasetId = dataset.DatasetId,
            Container = dataset.Container,
            KeepUntil = dataset.KeepUntil.Value,
            Settings = WorkflowTestEnvironment.Settings with { Language = "fr" },
        }, id);

        var notice = await host.RunUntilNotifiedAsync(id, n => n.Kind == NotificationKind.RetentionNotice);

        Assert.Equal("fr", notice.Language);
        Assert.StartsWith("Avis de fin de conservation (90 jours) : ", notice.Subject, StringComparison.Ordinal);
        Assert.Contains("suppression (marquage d'abord, purge après le délai de grâce)", notice.Body, StringComparison.Ordinal);
        Assert.Equal(["Confirmer l'élimination", "M'opposer / demander une prolongation"], notice.Links.Select(l => l.Label));
    }

    [Fact]
    public void Settings_FromAFrenchPolicy_CarryTheLanguage()
    {
        Assert.Equal("fr", RetentionSettings.FromPolicy(French).Language);
        Assert.Equal("en", RetentionSettings.FromPolicy(GovernancePolicy.Default).Language);
    }
}
