using Gardien.Runtime;
using Gardien.Runtime.Engine;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Replay;

/// <summary>
/// Histories recorded from real runs of the intake, approval and retention-case workflows (finished, and still waiting
/// as instances are at a deployment) replay against today's code: a change that would break running instances (an
/// action added, removed or reordered) fails here. After a deliberate change, register the new code as a new workflow
/// version, or re-record with <c>GARDIEN_RECORD_HISTORIES=1</c> when no instance can be running the old one.
/// </summary>
public sealed class WorkflowReplayTests
{
    private const string RetentionDmp = "https://doi.org/10.1234/health-study";

    public static TheoryData<string> Histories =>
    [
        "intake-personal-data-approved",
        "approval-escalated-waiting",
        "approval-escalated-approved-by-delegate",
        "retention-case-in-deletion-grace",
        "retention-case-disposed",
    ];

    [Theory]
    [MemberData(nameof(Histories))]
    public async Task Replay_RecordedHistory_TakesTheSameActionsOnTodaysCode(string name)
    {
        if (RecordedHistories.Recording)
        {
            RecordedHistories.Save(name, await RecordAsync(name));
        }

        var history = RecordedHistories.Load(name);
        var result = new WorkflowReplayer(new WorkflowRegistry().AddGardienWorkflows()).Replay(history);

        Assert.True(result.Succeeded, result.Divergence);
        Assert.Contains(history, e => e.EventType == HistoryEventType.TaskCompleted);
    }

    [Fact]
    public void Replay_ApprovalWithAnActivityAddedFirst_FailsAtTheFirstRecordedStep()
    {
        var registry = new WorkflowRegistry().AddWorkflow<ApprovalWithAnAuditFirst>(nameof(ApprovalWorkflow));

        var result = new WorkflowReplayer(registry).Replay(RecordedHistories.Load("approval-escalated-approved-by-delegate"));

        Assert.False(result.Succeeded);
        Assert.Contains("at step #0", result.Divergence, StringComparison.Ordinal);
        Assert.Contains($"CallActivityAsync(\"{nameof(ResolveApproverActivity)}\")", result.Divergence, StringComparison.Ordinal);
        Assert.Contains($"CallActivityAsync(\"{nameof(WriteAuditActivity)}\")", result.Divergence, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_ApprovalThatStopsAfterResolvingTheApprover_FailsForTheActionsItNoLongerTakes()
    {
        var registry = new WorkflowRegistry().AddWorkflow<ApprovalThatStopsEarly>(nameof(ApprovalWorkflow));

        var result = new WorkflowReplayer(registry).Replay(RecordedHistories.Load("approval-escalated-waiting"));

        Assert.False(result.Succeeded);
        Assert.Contains("after 1 of the", result.Divergence, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_RetentionCaseWithATimerAddedFirst_FailsOnTheRunningInstancesHistory()
    {
        var registry = new WorkflowRegistry().AddWorkflow<RetentionCaseWithADelayFirst>(nameof(RetentionCaseWorkflow));

        var result = new WorkflowReplayer(registry).Replay(RecordedHistories.Load("retention-case-in-deletion-grace"));

        Assert.False(result.Succeeded);
        Assert.Contains("now took CreateTimer(", result.Divergence, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_IntakeHistoryAgainstTheApprovalWorkflow_IsReportedAsNotRegistered()
    {
        var replayer = new WorkflowReplayer(new WorkflowRegistry().AddWorkflow<ApprovalWorkflow>());

        var result = replayer.Replay(RecordedHistories.Load("intake-personal-data-approved"));

        Assert.False(result.Succeeded);
        Assert.Equal(nameof(IntakeDmpWorkflow), result.WorkflowName);
        Assert.Contains("is not registered", result.Divergence, StringComparison.Ordinal);
    }

    private static Task<IReadOnlyList<HistoryEvent>> RecordAsync(string name) => name switch
    {
        "intake-personal-data-approved" => RecordIntakeAsync(),
        "approval-escalated-waiting" => RecordApprovalAsync(decide: false),
        "approval-escalated-approved-by-delegate" => RecordApprovalAsync(decide: true),
        "retention-case-in-deletion-grace" => RecordRetentionCaseAsync(complete: false),
        "retention-case-disposed" => RecordRetentionCaseAsync(complete: true),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "No scenario records this history."),
    };

    /// <summary>A personal-data DMP: the PI, the data steward and the DPO approve; provisioning, grants, write-back.</summary>
    private static async Task<IReadOnlyList<HistoryEvent>> RecordIntakeAsync()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json(datasets: [new DatasetSpec("ds-cohort", PersonalData: "yes", Access: "closed"), new DatasetSpec("ds-open")]);
        var submitted = await host.Submissions.SubmitAsync(json, "user:" + PiEmail);
        var done = await host.ApproveAllUntilCompletedAsync(submitted.InstanceId!);
        Assert.Equal(IntakeState.Active, done.ReadOutputAs<IntakeDmpOutput>()!.State);
        return await host.Store.GetHistoryAsync(submitted.InstanceId!);
    }

    /// <summary>The DPO does not answer: reminders on days 3 and 6, the escalation to the delegate on day 7, who approves.</summary>
    private static async Task<IReadOnlyList<HistoryEvent>> RecordApprovalAsync(bool decide)
    {
        const string id = "approval-recorded";
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var request = new ApprovalWorkflowInput(
            DmpId, ApprovalRole.DataProtectionOfficer, "intake", ["personal data"], "The plan: one dataset.", DmpId + ":approval",
            "Claire Dubois", PiEmail, "Test DMP");
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), request, id);
        for (var timer = 0; timer < 3; timer++)
        {
            await host.AdvanceToNextTimerAsync(id);
        }

        if (decide)
        {
            await host.DecideAsync(DpoDelegateEmail, "approve", "covering for the DPO", NotificationKind.Escalation);
            Assert.Equal(ApprovalOutcome.Approved, (await host.CompletionAsync(id)).ReadOutputAs<ApprovalWorkflowOutput>()!.Outcome);
        }
        else
        {
            await host.WaitForMessageAsync(DpoDelegateEmail, NotificationKind.Escalation);
        }

        return await host.Store.GetHistoryAsync(id);
    }

    /// <summary>
    /// Notices at 90, 30 and 7 days, the steward approves, phase one marks the container; then the purge and the certificate.
    /// </summary>
    private static async Task<IReadOnlyList<HistoryEvent>> RecordRetentionCaseAsync(bool complete)
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(RetentionDmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(100));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = RetentionCaseWorkflow.InstanceIdFor(dataset.DmpId, dataset.DatasetId, dataset.KeepUntil!.Value);
        await host.Client.ScheduleNewAsync(
            nameof(RetentionCaseWorkflow),
            new RetentionCaseInput
            {
                DmpId = dataset.DmpId,
                DatasetId = dataset.DatasetId,
                Container = dataset.Container,
                KeepUntil = dataset.KeepUntil.Value,
                Disposal = dataset.Disposal,
                Settings = WorkflowTestEnvironment.Settings,
            },
            id);
        var request = await host.RunUntilNotifiedAsync(id, n => n.Kind == NotificationKind.ApprovalRequest && n.To.Contains(StewardEmail));
        await host.DecideAsync(request, "approve");
        if (complete)
        {
            Assert.Equal(RetentionCaseOutcome.Disposed, (await host.RunToCompletionAsync(id)).ReadOutputAs<RetentionCaseResult>()!.Outcome);
        }
        else
        {
            await host.RunUntilNotifiedAsync(id, n => n.Subject.StartsWith("Marked for deletion", StringComparison.Ordinal));
        }

        return await host.Store.GetHistoryAsync(id);
    }

    /// <summary>Today's approval with one more activity before everything else.</summary>
    private sealed class ApprovalWithAnAuditFirst : Workflow<ApprovalWorkflowInput, ApprovalWorkflowOutput>
    {
        public override async Task<ApprovalWorkflowOutput> RunAsync(WorkflowContext context, ApprovalWorkflowInput input)
        {
            await context.CallActivityAsync(nameof(WriteAuditActivity), null);
            return await new ApprovalWorkflow().RunAsync(context, input);
        }
    }

    /// <summary>An approval that resolves the approver and then gives up.</summary>
    private sealed class ApprovalThatStopsEarly : Workflow<ApprovalWorkflowInput, ApprovalWorkflowOutput?>
    {
        public override async Task<ApprovalWorkflowOutput?> RunAsync(WorkflowContext context, ApprovalWorkflowInput input)
        {
            await context.CallActivityAsync(nameof(ResolveApproverActivity), null);
            return null;
        }
    }

    /// <summary>Today's retention case, starting with a one-hour delay.</summary>
    private sealed class RetentionCaseWithADelayFirst : Workflow<RetentionCaseInput, RetentionCaseResult>
    {
        public override async Task<RetentionCaseResult> RunAsync(WorkflowContext context, RetentionCaseInput input)
        {
            await context.CreateTimer(TimeSpan.FromHours(1), CancellationToken.None);
            return await new RetentionCaseWorkflow().RunAsync(context, input);
        }
    }
}
