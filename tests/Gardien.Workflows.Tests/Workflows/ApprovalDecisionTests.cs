using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// From a link to a decision: the decision a link carries, and the identity of the person using it, on the engine with
/// strict port mocks.
/// </summary>
public sealed class ApprovalDecisionTests
{
    private const string InstanceId = "approval-under-test";
    private const string Mallory = "mallory@elsewhere.example";
    private const string DpoAssistant = "dpo-assistant@neuro-institute.example";

    private static ApprovalWorkflowInput Request(ApprovalRole role, GovernancePolicy? policy = null) =>
        new(
            DmpId,
            role,
            "intake",
            ["the dataset holds health data"],
            "The plan: one dataset.",
            DmpId + ":approval",
            "Claire Dubois",
            PiEmail,
            "Test DMP",
            policy);

    private static GovernancePolicy PolicyWithDpoAssistant()
    {
        var policy = GovernancePolicy.Default;
        return policy with
        {
            Approvals = policy.Approvals with
            {
                DataProtectionOfficer = policy.Approvals.DataProtectionOfficer with
                {
                    OnBehalf = [new Gardien.Workflows.Governance.Delegate("DPO office assistant", DpoAssistant)],
                },
            },
        };
    }

    [Theory]
    [InlineData("reject", ApprovalOutcome.Rejected)]
    [InlineData("approve", ApprovalOutcome.Approved)]
    public async Task Decision_WholeLinkWithoutAskedDecision_RecordsTheLinksOwnDecision(string linkDecision, ApprovalOutcome expected)
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.DataSteward), InstanceId);
        var request = await host.WaitForMessageAsync(StewardEmail, NotificationKind.ApprovalRequest);

        // What "gardien approve LINK" sends: no decision of its own, approve only as the default for a bare token.
        var result = await host.Decisions.SubmitAsync(
            new ApprovalDecisionRequest(WorkflowTestEnvironment.LinkOf(request, linkDecision), DefaultDecision: "approve"));
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;

        Assert.True(result.Accepted, result.Message);
        Assert.Equal(linkDecision, result.Decision);
        Assert.Equal(expected, output.Outcome);
    }

    [Theory]
    [InlineData("reject", "approve")]
    [InlineData("approve", "reject")]
    public async Task Decision_AskedDecisionContradictsTheLink_IsRefusedAndTheLinkStaysUsable(string linkDecision, string asked)
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.DataSteward), InstanceId);
        var request = await host.WaitForMessageAsync(StewardEmail, NotificationKind.ApprovalRequest);
        var link = WorkflowTestEnvironment.LinkOf(request, linkDecision);

        var refused = await host.Decisions.SubmitAsync(new ApprovalDecisionRequest(link, asked, DecisionSource: "--" + asked));
        var used = await host.Decisions.SubmitAsync(new ApprovalDecisionRequest(link));
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;

        Assert.False(refused.Accepted);
        Assert.Equal(ApprovalTokenFailure.DecisionContradictsLink, refused.Failure);
        Assert.Contains($"decision={linkDecision}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--" + asked, refused.Message, StringComparison.Ordinal);
        Assert.True(used.Accepted, used.Message);
        Assert.Equal(linkDecision == "reject" ? ApprovalOutcome.Rejected : ApprovalOutcome.Approved, output.Outcome);
    }

    [Fact]
    public async Task Decision_BySomeoneOtherThanTheApprover_IsRefusedAndTheApproverCanStillDecide()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.DataSteward), InstanceId);
        var request = await host.WaitForMessageAsync(StewardEmail, NotificationKind.ApprovalRequest);
        var link = WorkflowTestEnvironment.LinkOf(request, "approve");

        var mallory = await host.Decisions.SubmitAsync(new ApprovalDecisionRequest(link, Actor: "user:" + Mallory));
        var steward = await host.Decisions.SubmitAsync(new ApprovalDecisionRequest(link, Actor: "user:" + StewardEmail));
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;

        Assert.False(mallory.Accepted);
        Assert.Equal(ApprovalTokenFailure.WrongApprover, mallory.Failure);
        Assert.Contains($"sent to {StewardEmail}; {Mallory} may not decide", mallory.Message, StringComparison.Ordinal);
        Assert.True(steward.Accepted, steward.Message);
        Assert.Equal(StewardEmail, output.DecidedBy);
        Assert.Null(output.OnBehalfOf);
        Assert.DoesNotContain(
            host.AuditEntries, e => e.Actor.Contains(Mallory, StringComparison.Ordinal) && e.Action == "approval.decided");
    }

    [Fact]
    public async Task Decision_ForeignIdentityRaisedStraightToTheWorkflow_IsRefusedWithoutUsingTheLinkUp()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.DataSteward), InstanceId);
        var request = await host.WaitForMessageAsync(StewardEmail, NotificationKind.ApprovalRequest);

        // A host that skipped the service's check: the workflow checks the identity itself, before the token is used.
        await host.Client.RaiseEventAsync(
            InstanceId,
            ApprovalWorkflow.DecisionEventName,
            new ApprovalDecisionEvent(WorkflowTestEnvironment.TokenOf(request), "approve", "user:" + Mallory, null));
        var status = await host.WaitForCustomStatusAsync<ApprovalStatus>(InstanceId, s => s.LastRefusal is not null);
        Assert.Empty(host.UsedTokens);
        await host.DecideAsync(StewardEmail, "reject", "not with this retention");
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;

        Assert.Contains($"{Mallory} may not decide", status!.LastRefusal, StringComparison.Ordinal);
        Assert.Equal(ApprovalOutcome.Rejected, output.Outcome);
        Assert.Equal(StewardEmail, output.DecidedBy);
        var refused = Assert.Single(host.AuditEntries, e => e.Action == "approval.token_refused");
        Assert.Equal("user:" + Mallory, refused.Actor);
    }

    [Fact]
    public async Task Decision_DelegateUsingTheApproversLink_IsRecordedAsTheDelegate()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(ApprovalRole.DataProtectionOfficer), InstanceId);
        var request = await host.WaitForMessageAsync(DpoEmail, NotificationKind.ApprovalRequest);

        var result = await host.Decisions.SubmitAsync(
            new ApprovalDecisionRequest(WorkflowTestEnvironment.LinkOf(request, "approve"), Actor: "user:" + DpoDelegateEmail));
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;

        Assert.True(result.Accepted, result.Message);
        Assert.Equal(DpoDelegateEmail, output.DecidedBy);
        Assert.Null(output.OnBehalfOf);
        Assert.Equal(DpoEmail, output.Approver);
    }

    [Fact]
    public async Task Decision_OnBehalfAllowedByThePolicy_IsRecordedAndShownAsOnBehalf()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(
            nameof(ApprovalWorkflow), Request(ApprovalRole.DataProtectionOfficer, PolicyWithDpoAssistant()), InstanceId);
        var request = await host.WaitForMessageAsync(DpoEmail, NotificationKind.ApprovalRequest);

        var result = await host.Decisions.SubmitAsync(
            new ApprovalDecisionRequest(WorkflowTestEnvironment.LinkOf(request, "approve"), Actor: "user:" + DpoAssistant));
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;

        Assert.True(result.Accepted, result.Message);
        Assert.Contains($"on behalf of {DpoEmail}", result.Message, StringComparison.Ordinal);
        Assert.Equal(DpoAssistant, output.DecidedBy);
        Assert.Equal(DpoEmail, output.OnBehalfOf);
        Assert.Equal($"{DpoAssistant} on behalf of {DpoEmail}", output.DecidedByLabel);
        var record = host.Approvals[(DmpId, DmpId + ":approval")];
        Assert.Equal(DpoAssistant, record.DecidedBy);
        Assert.Equal(DpoEmail, record.OnBehalfOf);
        var decided = Assert.Single(host.AuditEntries, e => e.Action == "approval.decided");
        Assert.Equal("user:" + DpoAssistant, decided.Actor);
        Assert.Contains(DpoEmail, decided.After!.Value.GetProperty("onBehalfOf").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decision_OnBehalfPersonOfAnotherRole_IsRefused()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(
            nameof(ApprovalWorkflow), Request(ApprovalRole.DataSteward, PolicyWithDpoAssistant()), InstanceId);
        var request = await host.WaitForMessageAsync(StewardEmail, NotificationKind.ApprovalRequest);

        var result = await host.Decisions.SubmitAsync(
            new ApprovalDecisionRequest(WorkflowTestEnvironment.LinkOf(request, "approve"), Actor: "user:" + DpoAssistant));

        Assert.False(result.Accepted);
        Assert.Equal(ApprovalTokenFailure.WrongApprover, result.Failure);
        Assert.Empty(host.UsedTokens);
    }
}
