using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Retention;
using Moq;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

public sealed class RetentionSweepWorkflowTests
{
    private const string Dmp = "https://doi.org/10.1234/health-study";

    private static async Task<RetentionSweepReport> SweepAsync(
        WorkflowTestEnvironment host,
        DateOnly date,
        bool dryRun = false,
        string? instanceId = null)
    {
        var id = await host.Client.ScheduleNewAsync(
            nameof(RetentionSweepWorkflow),
            new RetentionSweepInput(date, dryRun, WorkflowTestEnvironment.Settings),
            instanceId ?? (dryRun ? RetentionSweepWorkflow.DryRunInstanceIdFor(date, "t") : RetentionSweepWorkflow.InstanceIdFor(date)));
        var done = await host.RunToCompletionAsync(id);
        Assert.True(done.Status == WorkflowStatus.Completed, done.FailureDetails?.ToString());
        return done.ReadOutputAs<RetentionSweepReport>()!;
    }

    [Fact]
    public async Task Sweep_StartsOneCasePerDatasetInTheNoticeHorizon()
    {
        var fakes = new PortFakes();
        fakes.AddDataset(Dmp, "due-soon", WorkflowTestEnvironment.Today.AddDays(20));
        fakes.AddDataset(Dmp, "due-at-horizon", WorkflowTestEnvironment.Today.AddDays(90));
        fakes.AddDataset(Dmp, "far-away", WorkflowTestEnvironment.Today.AddDays(400));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var report = await SweepAsync(host, WorkflowTestEnvironment.Today);

        Assert.Equal(["due-soon", "due-at-horizon"], report.Items.Select(i => i.DatasetId));
        Assert.All(report.Items, i => Assert.Equal(SweepAction.CaseStarted, i.Action));
        Assert.Equal(30, report.Items[0].Window);
        Assert.Equal(90, report.Items[1].Window);
        foreach (var item in report.Items)
        {
            var instance = await host.Client.GetInstanceAsync(
                RetentionCaseWorkflow.InstanceIdFor(Dmp, item.DatasetId, item.KeepUntil), getInputsAndOutputs: true);
            Assert.NotNull(instance);
            Assert.Equal(item.KeepUntil, instance.ReadInputAs<RetentionCaseInput>()!.KeepUntil);
        }

        Assert.Contains(fakes.AuditEntries, e => e.Action == "retention.sweep_completed");
    }

    [Fact]
    public async Task Sweep_RepeatedNextDay_StartsNoDuplicateCase_AndSameDayStartJoinsTheFirstSweep()
    {
        var fakes = new PortFakes();
        fakes.AddDataset(Dmp, "due-soon", WorkflowTestEnvironment.Today.AddDays(20));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var first = await SweepAsync(host, WorkflowTestEnvironment.Today);
        var sameDayId = await host.Client.ScheduleNewAsync(
            nameof(RetentionSweepWorkflow),
            new RetentionSweepInput(WorkflowTestEnvironment.Today),
            RetentionSweepWorkflow.InstanceIdFor(WorkflowTestEnvironment.Today));
        var second = await SweepAsync(host, WorkflowTestEnvironment.Today.AddDays(1));

        Assert.Equal(RetentionSweepWorkflow.InstanceIdFor(WorkflowTestEnvironment.Today), sameDayId);
        Assert.Equal(SweepAction.CaseStarted, Assert.Single(first.Items).Action);
        Assert.Equal(SweepAction.CaseAlreadyOpen, Assert.Single(second.Items).Action);
        var cases = await host.Client.QueryInstancesAsync(new WorkflowQuery { InstanceIdPrefix = "retention-case-" });
        Assert.Single(cases.Instances);
    }

    [Fact]
    public async Task Sweep_DryRun_ListsWhatWouldHappenAndChangesNothing()
    {
        // Read-only strict mocks: any write to the registry, storage, inbox or audit fails the test.
        var fakes = new PortFakes(allowWrites: false);
        var dataset = fakes.AddDataset(Dmp, "due-soon", WorkflowTestEnvironment.Today.AddDays(20), personal: true);
        fakes.AddDataset(Dmp, "held", WorkflowTestEnvironment.Today.AddDays(60), legalHold: true);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var report = await SweepAsync(host, WorkflowTestEnvironment.Today, dryRun: true);

        Assert.Equal(2, report.Items.Count);
        var item = report.Items[0];
        Assert.Equal(SweepAction.WouldStartCase, item.Action);
        Assert.Equal(DisposalVerdict.MissingApprovals, item.DueVerdict);
        Assert.Equal([DisposalGuard.StewardRole, DisposalGuard.DpoRole], item.ApprovalsNeeded);
        var held = report.Items[1];
        Assert.Equal(DisposalVerdict.Held, held.DueVerdict);
        Assert.Contains("legal hold", held.DueReason, StringComparison.Ordinal);
        Assert.True(report.DryRun);
        Assert.Null(await host.Client.GetInstanceAsync(RetentionCaseWorkflow.InstanceIdFor(Dmp, "due-soon", dataset.KeepUntil!.Value)));
        fakes.Notifier.VerifyNoOtherCalls();
        fakes.Audit.VerifyNoOtherCalls();
        fakes.Storage.Verify(
            s => s.FindBlobsByTagsAsync(It.IsAny<IReadOnlyList<TagCondition>>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Sweep_TagDisagreeingWithRegistry_IsReportedAndTheRegistryWins()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "tagged", WorkflowTestEnvironment.Today.AddDays(400));
        var stale = new Dictionary<string, string>
        {
            [GovernanceMetadata.KeepUntil] = GovernanceMetadata.Date(WorkflowTestEnvironment.Today.AddDays(10)),
        };
        fakes.Blobs[dataset.Container] = [.. fakes.Blobs[dataset.Container].Select(b => b with { Tags = stale })];
        fakes.Blobs["orphan-container"] = [new StoredBlob("x.csv", "\"1\"", 5, stale, StorageTier.Hot, null)];
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);

        var report = await SweepAsync(host, WorkflowTestEnvironment.Today);

        Assert.Empty(report.Items);
        var disagree = Assert.Single(report.Discrepancies, d => d.Kind == RetentionDiscrepancyKind.TagDisagrees);
        Assert.Equal(dataset.Container, disagree.Container);
        Assert.Equal(3, disagree.BlobCount);
        Assert.Equal(GovernanceMetadata.Date(dataset.KeepUntil!.Value), disagree.RegistryKeepUntil);
        Assert.Single(report.Discrepancies, d => d.Kind == RetentionDiscrepancyKind.UnknownContainer && d.Container == "orphan-container");
        var alert = Assert.Single(fakes.Sent);
        Assert.Equal(NotificationKind.Alert, alert.Kind);
        Assert.Contains(StewardEmail, alert.To);
    }

    [Fact]
    public async Task Schedule_SweepsOncePerDayAtItsTime_AndStartsTheAccessReviewOfEachActiveDmpOnce()
    {
        var fakes = new PortFakes();
        fakes.Dmps[Dmp] = new DmpRecord { DmpId = Dmp, State = DmpState.Active, ContactEmail = "pi@neuro-institute.example" };
        fakes.Dmps["https://doi.org/10.1234/rejected"] = new DmpRecord
        {
            DmpId = "https://doi.org/10.1234/rejected",
            State = DmpState.Rejected,
        };
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var sweeps = Enumerable.Range(1, 3).Select(d => RetentionSweepWorkflow.InstanceIdFor(WorkflowTestEnvironment.Today.AddDays(d)))
            .ToList();

        await host.Client.ScheduleNewAsync(
            nameof(RetentionScheduleWorkflow),
            new RetentionScheduleInput { RunAt = new TimeOnly(2, 0) },
            RetentionScheduleWorkflow.InstanceId);
        await host.RunUntilAsync(RetentionScheduleWorkflow.InstanceId, async () =>
        {
            foreach (var id in sweeps)
            {
                if ((await host.Client.GetInstanceAsync(id, getInputsAndOutputs: false))?.Status != WorkflowStatus.Completed)
                {
                    return false;
                }
            }

            return true;
        });

        // Started at 08:00: today's 02:00 has passed, so the first sweep is tomorrow's.
        Assert.Null(await host.Client.GetInstanceAsync(RetentionSweepWorkflow.InstanceIdFor(WorkflowTestEnvironment.Today)));
        var first = await host.Client.GetInstanceAsync(sweeps[0], getInputsAndOutputs: true);
        Assert.Equal(WorkflowTestEnvironment.Today.AddDays(1), first!.ReadInputAs<RetentionSweepInput>()!.Date);
        Assert.True(
            first.CreatedAt >= new DateTimeOffset(WorkflowTestEnvironment.Today.AddDays(1).ToDateTime(new TimeOnly(2, 0)), TimeSpan.Zero),
            "the sweep runs at its time of day");
        var schedule = await host.Client.GetInstanceAsync(RetentionScheduleWorkflow.InstanceId);
        Assert.False(schedule!.Status.IsTerminal(), "the schedule is eternal");
        var reviews = await host.Client.QueryInstancesAsync(new WorkflowQuery { InstanceIdPrefix = "access-review-" });
        Assert.Equal(AccessReviewWorkflow.InstanceIdFor(Dmp), Assert.Single(reviews.Instances).InstanceId);
    }

    [Fact]
    public async Task Schedule_ADayWhoseStepsFailAfterRetries_IsAuditedAndTheScheduleKeepsSweepingNextDays()
    {
        var fakes = new PortFakes();
        fakes.Registry.Setup(r => r.ListDmpsAsync(It.IsAny<DmpState?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("registry unavailable"));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var secondDay = RetentionSweepWorkflow.InstanceIdFor(WorkflowTestEnvironment.Today.AddDays(2));

        await host.Client.ScheduleNewAsync(
            nameof(RetentionScheduleWorkflow), new RetentionScheduleInput(), RetentionScheduleWorkflow.InstanceId);
        await host.RunUntilAsync(
            RetentionScheduleWorkflow.InstanceId,
            async () => (await host.Client.GetInstanceAsync(secondDay, getInputsAndOutputs: false))?.Status == WorkflowStatus.Completed);

        Assert.Contains(fakes.AuditEntries, e => e.Action == "retention.schedule_run_failed");
        Assert.False((await host.Client.GetInstanceAsync(RetentionScheduleWorkflow.InstanceId))!.Status.IsTerminal());
    }
}
