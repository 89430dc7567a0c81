using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Moq;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

public sealed class IntakeDmpWorkflowTests
{
    private static readonly string InstanceId = IntakeDmpWorkflow.InstanceIdFor(DmpId);

    [Fact]
    public void InstanceIdFor_IsStableSafeAndDistinctPerDmp()
    {
        var id = IntakeDmpWorkflow.InstanceIdFor(DmpId);

        Assert.Equal(id, IntakeDmpWorkflow.InstanceIdFor(" " + DmpId + " "));
        Assert.StartsWith("intake-test-dmp-", id, StringComparison.Ordinal);
        Assert.Matches("^[a-z0-9-]+$", id);
        Assert.NotEqual(id, IntakeDmpWorkflow.InstanceIdFor(DmpId + "2"));
    }

    [Fact]
    public async Task Intake_PersonalData_RequiresDpoApproval()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json(datasets: new DatasetSpec("ds-cohort", PersonalData: "yes", Access: "closed"));

        var submitted = await host.Submissions.SubmitAsync(json, "user:" + PiEmail);
        await host.DecideAsync(PiEmail, "approve");
        await host.DecideAsync(StewardEmail, "approve");
        await host.DecideAsync(DpoEmail, "approve", "pseudonymised before upload");
        var done = await host.CompletionAsync(submitted.InstanceId!);

        var output = done.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Equal(IntakeState.Active, output.State);
        var dpo = Assert.Single(output.Approvals, a => a.Role == ApprovalRole.DataProtectionOfficer);
        Assert.Equal(DpoEmail, dpo.DecidedBy);
        Assert.Equal("pseudonymised before upload", dpo.Comment);
        Assert.Equal(
            [ApprovalRole.PrincipalInvestigator, ApprovalRole.DataSteward, ApprovalRole.DataProtectionOfficer],
            output.Approvals.Select(a => a.Role).Order());
        var recorded = host.Approvals[(DmpId, InstanceId + ":dpo")];
        Assert.Equal(ApprovalDecision.Approved, recorded.Decision);
        Assert.Equal(WorkflowTestEnvironment.Epoch, recorded.DecidedAt);
    }

    [Fact]
    public async Task Intake_AllApproved_ProvisionsGrantsNotifiesWritesBack()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json(datasets: [new DatasetSpec("ds-a"), new DatasetSpec("ds-b")]);

        var submitted = await host.Submissions.SubmitAsync(json, "user:" + PiEmail);
        var status = await host.WaitForCustomStatusAsync<IntakeStatus>(submitted.InstanceId!, s => s.Stage == "awaiting-approvals");
        await host.DecideAsync(PiEmail, "approve", "go");
        var done = await host.CompletionAsync(submitted.InstanceId!);

        Assert.Equal(InstanceId, submitted.InstanceId);
        Assert.Equal("principal investigator", status!.Detail);
        Assert.Equal(["principal investigator: " + PiEmail], status.Awaiting);
        var output = done.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal(["ds-a", "ds-b"], output.Containers.Select(c => c.DatasetId));
        Assert.All(output.Containers, c => Assert.True(c.CreatedByThisRun));
        host.Storage.Verify(
            s => s.EnsureContainerAsync(
                It.Is<ContainerSpec>(
                    spec => spec.OwnerInstanceId == InstanceId && spec.Metadata[GovernanceMetadata.DmpId] == Uri.EscapeDataString(DmpId)),
                It.IsAny<CancellationToken>()),
            Times.Exactly(2));

        // PI owner + data manager contributor on both datasets, each through the container's group, justified by the PI approval.
        Assert.Equal(4, output.Grants.Count);
        Assert.Equal(4, host.ActiveGrants(DmpId).Count);
        Assert.All(host.ActiveGrants(DmpId), g => Assert.Equal([InstanceId + ":pi"], g.ApprovalIds));
        var container = output.Containers[0].Container;
        Assert.True(host.Memberships.ContainsKey(("g-" + container + "-owners", "u-pi")));
        Assert.True(host.Memberships.ContainsKey(("g-" + container + "-contributors", "u-dm")));
        Assert.True(host.RoleAssignments.ContainsKey(("g-" + container + "-owners", container, AccessLevel.Owner)));

        var summary = Assert.Single(host.SentTo(PiEmail, NotificationKind.Summary));
        Assert.Contains(container, summary.Body, StringComparison.Ordinal);
        Assert.Contains("role-assignment", summary.Body, StringComparison.Ordinal);
        Assert.Equal(2, host.WriteBacks.Count);
        Assert.All(host.WriteBacks, w => Assert.Equal("Azure Blob Storage", w.WriteBack.StorageType));
        Assert.Contains(output.NotEnforcedLocally, f => f.Feature == GovernanceFeatures.RoleAssignment);

        var dmp = host.Dmps[DmpId];
        Assert.Equal(DmpState.Active, dmp.State);
        Assert.Equal(V1, dmp.Modified);
        Assert.Equal(2, GovernanceJson.DeserializePlan(dmp.ActivePlanJson!)!.Datasets.Count);
        Assert.Equal(DatasetState.Provisioned, host.Datasets[(DmpId, "ds-a")].State);
        foreach (var action in new[]
        {
            "dmp.recorded",
            "intake.started",
            "approval.requested",
            "approval.decided",
            "container.provisioned",
            "grant.created",
            "dmp.state_changed",
            "dmp.written_back",
        })
        {
            Assert.Contains(action, host.AuditActions);
        }
    }

    [Fact]
    public async Task Intake_Rejected_NotifiesPiAndProvisionsNothing()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json(datasets: new DatasetSpec("ds-closed", Access: "closed"));

        var submitted = await host.Submissions.SubmitAsync(json);
        await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);
        await host.DecideAsync(StewardEmail, "reject", "no backup plan for the raw data");
        var done = await host.CompletionAsync(submitted.InstanceId!);

        var output = done.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Equal(IntakeState.Rejected, output.State);
        Assert.Contains("no backup plan for the raw data", output.Reason, StringComparison.Ordinal);
        Assert.Empty(output.Containers);
        Assert.Empty(output.Grants);

        // The PI's pending approval was withdrawn, not left hanging.
        Assert.Equal(ApprovalOutcome.Cancelled, Assert.Single(output.Approvals, a => a.Role == ApprovalRole.PrincipalInvestigator).Outcome);
        var rejection = Assert.Single(host.SentTo(PiEmail, NotificationKind.Rejection));
        Assert.Contains("no backup plan for the raw data", rejection.Body, StringComparison.Ordinal);
        host.Storage.Verify(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()), Times.Never);
        host.Directory.Verify(d => d.AddMemberAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
        host.Directory.Verify(
            d => d.AddMembersAsync(It.IsAny<string>(), It.IsAny<IReadOnlyList<string>>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Equal(DmpState.Rejected, host.Dmps[DmpId].State);
    }

    [Fact]
    public async Task Intake_ApproverNeverDecides_EndsRejectedAsExpiredAfterTheTimeout()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var submitted = await host.Submissions.SubmitAsync(Json());
        await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);
        var approval = ApprovalWorkflow.InstanceIdFor(InstanceId, ApprovalRole.PrincipalInvestigator);
        while (await host.AdvanceToNextTimerAsync(approval) is not null)
        {
            // Reminders every 3 days, the escalation on day 7, expiry on day 30 (the default policy).
        }

        var output = (await host.CompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Equal(IntakeState.Rejected, output.State);
        Assert.Contains("did not decide in time", output.Reason, StringComparison.Ordinal);
        Assert.Equal(ApprovalOutcome.Expired, Assert.Single(output.Approvals).Outcome);
        Assert.Equal(DmpState.Rejected, host.Dmps[DmpId].State);
        Assert.Equal(ApprovalDecision.Expired, host.Approvals[(DmpId, InstanceId + ":pi")].Decision);

        // The PI has no delegate: on escalation the data steward is told to follow up.
        Assert.Contains(
            "No delegate", Assert.Single(host.SentTo(StewardEmail, NotificationKind.Escalation)).Body, StringComparison.Ordinal);
        Assert.Contains(
            "did not decide in time", Assert.Single(host.SentTo(PiEmail, NotificationKind.Rejection)).Body, StringComparison.Ordinal);
        host.Storage.Verify(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Intake_GrantFailsAfterRetries_CompensatesAndEndsFailed()
    {
        var attempts = 0;
        await using var host = await WorkflowTestEnvironment.StartAsync(h => h.Directory
            .Setup(
                d => d.AddMembersAsync(
                    It.IsAny<string>(), It.Is<IReadOnlyList<string>>(ids => ids.Contains("u-dm")), It.IsAny<CancellationToken>()))
            .Callback(() => Interlocked.Increment(ref attempts))
            .ThrowsAsync(new PortException("directory throttled", isTransient: true)));
        var json = Json(datasets: [new DatasetSpec("ds-a"), new DatasetSpec("ds-b")]);

        var submitted = await host.Submissions.SubmitAsync(json);
        await host.DecideAsync(PiEmail, "approve");
        var done = await host.RunToCompletionAsync(submitted.InstanceId!);

        var output = done.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Equal(IntakeState.Failed, output.State);
        Assert.Contains("GrantAccessBatchActivity", output.Reason, StringComparison.Ordinal);
        Assert.Contains("directory throttled", output.Reason, StringComparison.Ordinal);
        Assert.Equal(5, attempts);
        Assert.Empty(output.CompensationIncomplete);

        // Nothing half-granted: the PI joined the owners' group in the same batch before the failure; compensation
        // takes them out again. Groups are empty, containers gone, no grant is active.
        Assert.Empty(host.ActiveGrants(DmpId));
        Assert.DoesNotContain(host.Grants.Values, g => g.State == GrantState.Active);
        Assert.Empty(host.Memberships);
        Assert.Empty(host.RoleAssignments);
        Assert.Empty(host.Containers);
        host.Storage.Verify(
            s => s.DeleteContainerIfEmptyAsync(It.IsAny<string>(), InstanceId, It.IsAny<CancellationToken>()), Times.Exactly(2));
        Assert.Equal(DmpState.Failed, host.Dmps[DmpId].State);
        Assert.Single(host.SentTo(PiEmail, NotificationKind.Alert));
        Assert.Contains("grant.revoked", host.AuditActions);
        Assert.Contains("container.compensated", host.AuditActions);
    }

    [Fact]
    public async Task Intake_SameSubmissionFiveTimesConcurrently_RunsOnceAndProvisionsOnce()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json();

        var submissions = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => host.Submissions.SubmitAsync(json)));
        await host.DecideAsync(PiEmail, "approve");
        var done = await host.CompletionAsync(InstanceId);

        Assert.All(submissions, s => Assert.Equal(InstanceId, s.InstanceId));
        Assert.Single(submissions, s => s.Outcome == DmpRouteOutcome.Started);
        Assert.Equal(4, submissions.Count(s => s.Outcome == DmpRouteOutcome.Joined && s.JoinedExisting));
        Assert.Equal(IntakeState.Active, done.ReadOutputAs<IntakeDmpOutput>()!.State);
        Assert.Single(host.SentTo(PiEmail, NotificationKind.ApprovalRequest));
        host.Storage.Verify(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal(2, host.ActiveGrants(DmpId).Count);

        // A sixth submission after the end is told that this version is in force: nothing runs again.
        var late = await host.Submissions.SubmitAsync(json);
        Assert.True(late.Accepted);
        Assert.Equal(DmpRouteOutcome.AlreadyInForce, late.Outcome);
        Assert.Equal(InstanceId, late.InstanceId);
        host.Storage.Verify(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Intake_InvalidDmp_ReportsWhereAndRecordsNothing()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json().Replace("\"contact\":{", "\"contact\":{\"x\":1,", StringComparison.Ordinal)
            .Replace("\"mbox\":\"" + PiEmail + "\",\"contact_id\"", "\"contact_id\"", StringComparison.Ordinal);

        var submitted = await host.Submissions.SubmitAsync(json);
        var done = await host.CompletionAsync(submitted.InstanceId!);

        var output = done.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Equal(IntakeState.Invalid, output.State);
        Assert.Contains("/dmp/contact", output.Reason, StringComparison.Ordinal);
        Assert.Empty(host.Dmps);
        Assert.Contains("dmp.invalid", host.AuditActions);
        host.Storage.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Submission_WithoutDmpId_IsRefusedWithTheFix()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();

        var result = await host.Submissions.SubmitAsync("{\"dmp\":{\"title\":\"x\"}}");

        Assert.False(result.Accepted);
        Assert.Contains("/dmp/dmp_id/identifier", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Intake_UnknownContributor_IsReportedNotGranted()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync(h => h.Users.TryRemove("u-dm", out _));

        var submitted = await host.Submissions.SubmitAsync(Json());
        await host.DecideAsync(PiEmail, "approve");
        var output = (await host.CompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal(["u-pi"], output.Grants.Select(g => g.PrincipalId));
        Assert.Contains(
            output.Warnings,
            w => w.Contains("Mehdi Benali", StringComparison.Ordinal) && w.Contains("not in the directory", StringComparison.Ordinal));
        Assert.Contains("grant.skipped", host.AuditActions);
    }
}
