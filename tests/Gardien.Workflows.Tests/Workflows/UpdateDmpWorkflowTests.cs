using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Moq;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary><see cref="UpdateDmpWorkflow"/> (and the routing of DMP events) on the engine with strict port mocks.</summary>
public sealed class UpdateDmpWorkflowTests
{
    private static async Task<IntakeDmpOutput> GovernAsync(WorkflowTestEnvironment host, string json)
    {
        var submitted = await host.Submissions.SubmitAsync(json, "user:" + PiEmail);
        var output = (await host.ApproveAllUntilCompletedAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Equal(IntakeState.Active, output.State);
        return output;
    }

    private static IReadOnlyList<string> AskedFor(WorkflowTestEnvironment host, string instanceId) =>
        [.. host.Sent.Where(
            m => m.Kind == NotificationKind.ApprovalRequest && m.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal)).SelectMany(
                m => m.To).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Update_ShortenedRetention_AsksOnlyDpoAndPi_ThenRetagsContainerAndBlobs()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await GovernAsync(host, Json(V1, datasets: new DatasetSpec("ds-open", AvailableUntil: "2040-12-31")));
        var container = host.Datasets[(DmpId, "ds-open")].Container;
        host.Ports.AddBlob(container, "results.csv", new() { [GovernanceMetadata.KeepUntil] = "2040-12-31" });

        var routed = await host.Router.RouteAsync(
            new DmpEvent(DmpId, Json(V2, datasets: new DatasetSpec("ds-open", AvailableUntil: "2035-12-31"))));
        var output = (await host.ApproveAllUntilCompletedAsync(routed.InstanceId!)).ReadOutputAs<UpdateDmpOutput>()!;

        Assert.Equal(DmpRoute.Update, routed.Route);
        Assert.Equal(UpdateState.Applied, output.State);
        Assert.Equal([PiEmail, DpoEmail], AskedFor(host, routed.InstanceId!));
        Assert.Equal(
            [ApprovalRole.PrincipalInvestigator, ApprovalRole.DataProtectionOfficer], output.Approvals.Select(a => a.Role).Order());
        Assert.Equal(new DateOnly(2035, 12, 31), host.Datasets[(DmpId, "ds-open")].KeepUntil);
        Assert.Equal("2035-12-31", host.ContainerMetadata[container][GovernanceMetadata.KeepUntil]);
        Assert.Equal("2035-12-31", host.Ports.BlobTags(container, "results.csv")[GovernanceMetadata.KeepUntil]);
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        Assert.Equal(
            new DateOnly(2035, 12, 31), GovernanceJson.DeserializePlan(host.Dmps[DmpId].ActivePlanJson!)!.Datasets[0].Retention.KeepUntil);
        var audited = Assert.Single(host.AuditEntries, e => e.Action == "dataset.retention_changed");
        Assert.Contains("2040-12-31", audited.Before!.Value.GetRawText(), StringComparison.Ordinal);
        host.Storage.Verify(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Update_ContributorRemoved_RevokesWithoutAskingAnyone()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var intake = await GovernAsync(host, Json(V1));
        var container = intake.Containers[0].Container;
        Assert.True(host.Memberships.ContainsKey(("g-" + container + "-contributors", "u-dm")));

        var routed = await host.Router.RouteAsync(new DmpEvent(DmpId, Json(V2, withDataManager: false)));
        var output = (await host.CompletionAsync(routed.InstanceId!)).ReadOutputAs<UpdateDmpOutput>()!;

        Assert.Equal(UpdateState.Applied, output.State);
        Assert.Empty(output.Approvals);
        Assert.Empty(AskedFor(host, routed.InstanceId!));
        Assert.Equal([$"Mehdi Benali on {container}"], output.Revoked);
        Assert.False(host.Memberships.ContainsKey(("g-" + container + "-contributors", "u-dm")));
        Assert.Equal(GrantState.Revoked, host.Grants[(DmpId, "ds-open", "u-dm")].State);
        Assert.Equal(GrantState.Active, host.Grants[(DmpId, "ds-open", "u-pi")].State);
        var summary = host.SentTo(PiEmail, NotificationKind.Summary).Single(m => m.CorrelationId == routed.InstanceId);
        Assert.Contains("Access revoked", summary.Body, StringComparison.Ordinal);
        Assert.Contains(host.AuditEntries, e => e.Action == "grant.revoked" && e.InstanceId == routed.InstanceId);
    }

    [Fact]
    public async Task Update_NewPersonalDataset_AsksTheDpoAndProvisionsOnlyTheNewDataset()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await GovernAsync(host, Json(V1));

        var v2 = Json(V2, datasets: [new DatasetSpec("ds-open"), new DatasetSpec("ds-cohort", PersonalData: "yes", Access: "closed")]);
        var routed = await host.Router.RouteAsync(new DmpEvent(DmpId, v2));
        var output = (await host.ApproveAllUntilCompletedAsync(routed.InstanceId!)).ReadOutputAs<UpdateDmpOutput>()!;

        Assert.Equal(UpdateState.Applied, output.State);
        Assert.Contains(DpoEmail, AskedFor(host, routed.InstanceId!));
        var added = Assert.Single(output.ContainersAdded);
        Assert.Equal("ds-cohort", added.DatasetId);
        host.Storage.Verify(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()), Times.Exactly(2));
        var cohortGrant = host.Grants[(DmpId, "ds-cohort", "u-pi")];
        Assert.Equal(GrantState.Active, cohortGrant.State);
        Assert.NotEmpty(cohortGrant.ApprovalIds);
        Assert.All(cohortGrant.ApprovalIds, id => Assert.StartsWith(routed.InstanceId!, id, StringComparison.Ordinal));
        Assert.Contains(output.Approvals, a => a.Role == ApprovalRole.DataProtectionOfficer && a.IsApproved);
        Assert.Contains(host.Dmps[DmpId].NotEnforcedLocally, f => f.Feature == GovernanceFeatures.RoleAssignment);
    }

    [Fact]
    public async Task Update_GrantFailsForGood_UndoesTheNewContainerAndGrantsAndKeepsThePlanInForce()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await GovernAsync(host, Json(V1));
        var planBefore = host.Dmps[DmpId].ActivePlanJson;
        // The grant batch dies right after recording the PI's grant on the new dataset: everything it did must be undone.
        var failed = 0;
        host.FaultAfter = call =>
            call == "Registry.UpsertGrant" && host.Grants.ContainsKey((DmpId, "ds-cohort", "u-pi"))
            && Interlocked.Exchange(ref failed, 1) == 0
                ? new PortNotFoundException("group vanished")
                : null;

        var v2 = Json(V2, datasets: [new DatasetSpec("ds-open"), new DatasetSpec("ds-cohort", PersonalData: "yes", Access: "closed")]);
        var routed = await host.Router.RouteAsync(new DmpEvent(DmpId, v2));
        var output = (await host.ApproveAllUntilCompletedAsync(routed.InstanceId!)).ReadOutputAs<UpdateDmpOutput>()!;

        Assert.Equal(UpdateState.Failed, output.State);
        Assert.Contains("group vanished", output.Reason, StringComparison.Ordinal);
        Assert.Empty(output.CompensationIncomplete);
        var cohortContainer = host.Datasets[(DmpId, "ds-cohort")].Container;
        Assert.False(host.Containers.ContainsKey(cohortContainer));
        Assert.Equal(DatasetState.Failed, host.Datasets[(DmpId, "ds-cohort")].State);
        Assert.DoesNotContain(host.ActiveGrants(DmpId), g => g.DatasetId == "ds-cohort");
        Assert.DoesNotContain(host.Memberships.Keys, m => m.GroupId.StartsWith("g-" + cohortContainer, StringComparison.Ordinal));

        // The plan in force is untouched; the claimed version stays recorded, so older versions stay ignored.
        Assert.Equal(DmpState.Active, host.Dmps[DmpId].State);
        Assert.Equal(planBefore, host.Dmps[DmpId].ActivePlanJson);
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        Assert.Equal(2, host.ActiveGrants(DmpId).Count(g => g.DatasetId == "ds-open"));
        Assert.Contains(host.AuditEntries, e => e.Action == "container.compensated" && e.InstanceId == routed.InstanceId);
    }

    [Fact]
    public async Task Update_NewAccessOnSeveralDatasets_IsGrantedInOneBatch()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await GovernAsync(host, Json(V1, withDataManager: false));

        var v2 = Json(V2, datasets: [new DatasetSpec("ds-open"), new DatasetSpec("ds-more")]);
        var routed = await host.Router.RouteAsync(new DmpEvent(DmpId, v2));
        var output = (await host.ApproveAllUntilCompletedAsync(routed.InstanceId!)).ReadOutputAs<UpdateDmpOutput>()!;

        Assert.Equal(UpdateState.Applied, output.State);
        Assert.Equal(3, output.Grants.Count);
        var scheduled = (await host.Engine.Store.GetHistoryAsync(routed.InstanceId!))
            .Where(e => e.EventType == Gardien.Runtime.HistoryEventType.TaskScheduled).Select(e => e.Name).ToList();
        Assert.Single(scheduled, n => n == nameof(Access.GrantAccessBatchActivity));
        Assert.DoesNotContain(nameof(Access.GrantAccessActivity), scheduled);
        Assert.True(host.Memberships.ContainsKey(("g-" + host.Datasets[(DmpId, "ds-open")].Container + "-contributors", "u-dm")));
    }

    [Fact]
    public async Task Update_RejectedChange_KeepsThePlanInForceAndTellsThePiWhy()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await GovernAsync(host, Json(V1, datasets: new DatasetSpec("ds-open", AvailableUntil: "2040-12-31")));

        var routed = await host.Router.RouteAsync(
            new DmpEvent(DmpId, Json(V2, datasets: new DatasetSpec("ds-open", AvailableUntil: "2030-12-31"))));
        var awaiting = await host.WaitForCustomStatusAsync<IntakeStatus>(routed.InstanceId!, s => s.Stage == "awaiting-approvals");
        await host.DecideAsync(DpoEmail, "reject", "the cohort consent requires 2040");
        var output = (await host.CompletionAsync(routed.InstanceId!)).ReadOutputAs<UpdateDmpOutput>()!;

        Assert.Equal(UpdateState.Rejected, output.State);
        Assert.Equal(["principal investigator: " + PiEmail, "data protection officer: " + DpoEmail], awaiting!.Awaiting);
        Assert.Contains("the cohort consent requires 2040", output.Reason, StringComparison.Ordinal);
        Assert.Equal(new DateOnly(2040, 12, 31), host.Datasets[(DmpId, "ds-open")].KeepUntil);
        Assert.Equal(
            new DateOnly(2040, 12, 31), GovernanceJson.DeserializePlan(host.Dmps[DmpId].ActivePlanJson!)!.Datasets[0].Retention.KeepUntil);
        Assert.Equal(DmpState.Active, host.Dmps[DmpId].State);
        var told = host.SentTo(PiEmail, NotificationKind.Rejection).Single(m => m.CorrelationId == routed.InstanceId);
        Assert.Contains("the cohort consent requires 2040", told.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Route_OlderVersionArrivingWhileTheNewerIsInIntake_IsRefusedAsStale()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();

        // v2 arrives first and goes into intake; v1 arrives while v2 awaits its approval.
        var intake = await host.Router.RouteAsync(new DmpEvent(DmpId, Json(V2)));
        await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);
        var late = await host.Router.RouteAsync(
            new DmpEvent(DmpId, Json(V1, datasets: [new DatasetSpec("ds-open"), new DatasetSpec("ds-extra")])));
        await host.DecideAsync(PiEmail, "approve");
        Assert.Equal(IntakeState.Active, (await host.CompletionAsync(intake.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!.State);

        Assert.Equal(DmpRouteOutcome.Started, intake.Outcome);
        Assert.Equal(DmpRouteOutcome.Stale, late.Outcome);
        Assert.Equal(DmpRoute.Ignored, late.Route);
        Assert.Null(late.InstanceId);
        Assert.Contains("not newer", late.Reason, StringComparison.Ordinal);
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        host.Storage.Verify(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()), Times.Once);

        // Once v2 is in force, v1 is still refused at the door.
        Assert.Equal(DmpRouteOutcome.Stale, (await host.Router.RouteAsync(new DmpEvent(DmpId, Json(V1)))).Outcome);
    }

    [Fact]
    public async Task Update_SameVersionTwice_JoinsOneInstance()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await GovernAsync(host, Json(V1));

        var v2 = Json(V2, withDataManager: false);
        var first = await host.Router.RouteAsync(new DmpEvent(DmpId, v2));
        var second = await host.Router.RouteAsync(new DmpEvent(DmpId, v2));
        await host.CompletionAsync(first.InstanceId!);

        Assert.Equal(first.InstanceId, second.InstanceId);
        Assert.Single(host.AuditEntries, e => e.Action == "update.started");
    }
}
