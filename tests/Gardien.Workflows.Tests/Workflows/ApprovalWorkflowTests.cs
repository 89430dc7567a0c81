using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Time.Testing;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// <see cref="ApprovalWorkflow"/> on the engine with strict port mocks and a fake clock. The default policy reminds
/// every 3 days, escalates to the role's first delegate after 7 days and expires after 30.
/// </summary>
public sealed class ApprovalWorkflowTests
{
    private const string InstanceId = "approval-under-test";

    private static ApprovalWorkflowInput Request(ApprovalRole role) =>
        new(
            DmpId,
            role,
            "intake",
            ["the dataset is closed"],
            "The plan: one dataset.",
            DmpId + ":approval",
            "Claire Dubois",
            PiEmail,
            "Test DMP");

    [Fact]
    public async Task Approval_NoDecision_RemindsEveryThreeDaysEscalatesToDelegateAfterSevenThenExpires()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.DataSteward), InstanceId);

        var statuses = new List<ApprovalStatus>();
        var timers = new List<DateTime>();
        while (await host.AdvanceToNextTimerAsync(InstanceId) is { } fireAt)
        {
            timers.Add(fireAt);
            statuses.Add((await host.Client.GetInstanceAsync(InstanceId))!.ReadCustomStatusAs<ApprovalStatus>()!);
        }

        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;
        Assert.Equal(ApprovalOutcome.Expired, output.Outcome);
        Assert.True(output.Escalated);

        // Day 3 and 6 remind the steward, day 7 escalates, days 9..27 remind both, day 30 expires.
        var days = timers.Select(t => (int)(t - WorkflowTestEnvironment.Epoch.UtcDateTime).TotalDays).ToList();
        Assert.Equal([3, 6, 7, 9, 12, 15, 18, 21, 24, 27, 30], days);
        Assert.Equal(9, output.RemindersSent);
        Assert.Equal(9, host.SentTo(StewardEmail, NotificationKind.Reminder).Count);
        Assert.Equal(7, host.SentTo(StewardDelegateEmail, NotificationKind.Reminder).Count);
        var escalation = Assert.Single(host.SentTo(StewardDelegateEmail, NotificationKind.Escalation));
        Assert.Contains(escalation.Links, l => l.Label == "Approve");

        // Custom status: who is awaited, before and after the escalation.
        Assert.Equal([StewardEmail], statuses[0].Awaiting);
        Assert.False(statuses[0].Escalated);
        Assert.Equal([StewardEmail, StewardDelegateEmail], statuses[^1].Awaiting);
        Assert.True(statuses[^1].Escalated);

        var record = host.Approvals[(DmpId, DmpId + ":approval")];
        Assert.Equal(ApprovalDecision.Expired, record.Decision);
        Assert.Equal(WorkflowTestEnvironment.Epoch.AddDays(30), record.DecidedAt);
        Assert.Contains("approval.escalated", host.AuditActions);
        Assert.Equal(9, host.AuditActions.Count(a => a == "approval.reminded"));
        Assert.Contains("approval.expired", host.AuditActions);
    }

    [Fact]
    public async Task Approval_DelegateDecidesAfterEscalation_RecordsTheDelegateAsDecider()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.DataProtectionOfficer), InstanceId);
        for (var day = 0; day < 3; day++)
        {
            // Reminders on day 3 and 6, the escalation on day 7.
            await host.AdvanceToNextTimerAsync(InstanceId);
        }

        await host.DecideAsync(DpoDelegateEmail, "approve", "covering for the DPO", NotificationKind.Escalation);
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;

        Assert.Equal(ApprovalOutcome.Approved, output.Outcome);
        Assert.Equal(DpoEmail, output.Approver);
        Assert.Equal(DpoDelegateEmail, output.DecidedBy);
        Assert.Equal("covering for the DPO", output.Comment);
        Assert.True(output.Escalated);
        var record = host.Approvals[(DmpId, DmpId + ":approval")];
        Assert.Equal(DpoDelegateEmail, record.DecidedBy);
        Assert.Equal(WorkflowTestEnvironment.Epoch.AddDays(7), record.DecidedAt);
    }

    [Fact]
    public async Task Approval_UsedLink_IsRefusedWithAClearMessage()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.PrincipalInvestigator), InstanceId);
        var request = await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);

        var first = await host.Decisions.SubmitAsync(
            WorkflowTestEnvironment.TokenOf(request, "reject"), "reject", "not yet", "user:" + PiEmail);
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;
        var again = await host.Decisions.SubmitAsync(
            WorkflowTestEnvironment.TokenOf(request, "approve"), "approve", null, "user:" + PiEmail);

        Assert.True(first.Accepted, first.Message);
        Assert.Equal(ApprovalOutcome.Rejected, output.Outcome);
        Assert.Equal("not yet", output.Comment);
        Assert.False(again.Accepted);
        Assert.Contains("already", again.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(ApprovalDecision.Rejected, host.Approvals[(DmpId, DmpId + ":approval")].Decision);
    }

    [Fact]
    public async Task Approval_ExpiredLink_IsRefusedWithItsExpiryDate()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.PrincipalInvestigator), InstanceId);
        var request = await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);

        // Someone clicks 31 days later (their clock), while this instance has not processed its expiry yet.
        var late = new ApprovalDecisionService(host.Client, host.Tokens, new FakeTimeProvider(WorkflowTestEnvironment.Epoch.AddDays(31)));
        var result = await late.SubmitAsync(WorkflowTestEnvironment.TokenOf(request), "approve", null, "user:" + PiEmail);

        Assert.False(result.Accepted);
        Assert.Equal(ApprovalTokenFailure.Expired, result.Failure);
        Assert.Contains("expired on 2026-03-04", result.Message, StringComparison.Ordinal);
        Assert.Empty(host.UsedTokens);
    }

    [Fact]
    public async Task Approval_ForgedTokenRaisedDirectly_IsRefusedAuditedAndTheWorkflowKeepsWaiting()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.PrincipalInvestigator), InstanceId);
        var request = await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);
        var genuine = WorkflowTestEnvironment.TokenOf(request);
        var dot = genuine.IndexOf('.', StringComparison.Ordinal);
        var forged = genuine[..(dot + 1)] + (genuine[dot + 1] == 'A' ? 'B' : 'A') + genuine[(dot + 2)..];

        // Bypassing the service, straight to the workflow: it verifies the token itself.
        await host.Client.RaiseEventAsync(
            InstanceId, ApprovalWorkflow.DecisionEventName, new ApprovalDecisionEvent(forged, "approve", "user:mallory", null));
        var status = await host.WaitForCustomStatusAsync<ApprovalStatus>(InstanceId, s => s.LastRefusal is not null);
        await host.DecideAsync(PiEmail, "approve");
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;

        Assert.Contains("not genuine", status!.LastRefusal, StringComparison.Ordinal);
        Assert.Equal(ApprovalOutcome.Approved, output.Outcome);
        Assert.Equal(PiEmail, output.DecidedBy);
        var refused = Assert.Single(host.AuditEntries, e => e.Action == "approval.token_refused");
        Assert.Equal("user:mallory", refused.Actor);
    }

    [Fact]
    public async Task Approval_WithdrawnByTheRequester_EndsCancelledWithTheReason()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.DataSteward), InstanceId);
        var request = await host.WaitForMessageAsync(StewardEmail, NotificationKind.ApprovalRequest);

        await host.Client.RaiseEventAsync(
            InstanceId, ApprovalWorkflow.CancelEventName, new ApprovalCancellation("the DPO rejected the plan"));
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;
        var tooLate = await host.Decisions.SubmitAsync(WorkflowTestEnvironment.TokenOf(request), "approve", null, "user:" + StewardEmail);

        Assert.Equal(ApprovalOutcome.Cancelled, output.Outcome);
        Assert.Contains("the DPO rejected the plan", output.Comment, StringComparison.Ordinal);
        Assert.False(tooLate.Accepted);
        Assert.Contains("closed", tooLate.Message, StringComparison.Ordinal);
    }
}
