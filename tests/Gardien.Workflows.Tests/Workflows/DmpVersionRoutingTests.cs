using Gardien.Runtime;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Moq;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// Versions of one DMP submitted as people do it (<see cref="DmpSubmissionService"/>, the path of <c>gardien submit</c>):
/// every version goes through the router and none is silently dropped.
/// </summary>
public sealed class DmpVersionRoutingTests
{
    private static readonly DateTimeOffset V3 = V2.AddDays(10);
    private static readonly DateTimeOffset V4 = V2.AddDays(20);
    private static readonly DateTimeOffset V5 = V2.AddDays(30);

    private static readonly DatasetSpec Open = new("ds-open");
    private static readonly DatasetSpec Cohort = new("ds-cohort", PersonalData: "yes", SensitiveData: "yes", Access: "closed");

    private static async Task GovernAsync(WorkflowTestEnvironment host, string json)
    {
        var submitted = await host.Submissions.SubmitAsync(json, "user:" + PiEmail);
        Assert.Equal(
            IntakeState.Active, (await host.ApproveAllUntilCompletedAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!.State);
    }

    private static IReadOnlyList<string> AskedFor(WorkflowTestEnvironment host, string instanceId) =>
        [.. host.Sent.Where(
            m => m.Kind == NotificationKind.ApprovalRequest && m.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal)).SelectMany(
                m => m.To).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Submit_NewerVersionOfAnActiveDmp_IsAppliedAsAnUpdateThatAsksTheDpo()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await GovernAsync(host, Json(V1, datasets: Open));

        var submitted = await host.Submissions.SubmitAsync(Json(V2, datasets: [Open, Cohort]), "user:" + PiEmail);
        var output = (await host.ApproveAllUntilCompletedAsync(submitted.InstanceId!)).ReadOutputAs<UpdateDmpOutput>()!;

        Assert.True(submitted.Accepted);
        Assert.Equal(DmpRouteOutcome.Started, submitted.Outcome);
        Assert.Equal(DmpRoute.Update, submitted.Route);
        Assert.False(submitted.JoinedExisting);
        Assert.Contains("newer than the version in force", submitted.Message, StringComparison.Ordinal);
        Assert.Equal(UpdateState.Applied, output.State);
        Assert.Contains(DpoEmail, AskedFor(host, submitted.InstanceId!));
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        Assert.Equal(DatasetState.Provisioned, host.Datasets[(DmpId, "ds-cohort")].State);
        Assert.True(host.Datasets[(DmpId, "ds-cohort")].PersonalData);
        Assert.Contains(host.AuditEntries, e => e.Action == "update.started" && e.InstanceId == submitted.InstanceId);
    }

    [Fact]
    public async Task Submit_OlderOrSameVersionOfAnActiveDmp_IsRefusedAsStaleOrAlreadyInForce()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await GovernAsync(host, Json(V2));

        var older = await host.Submissions.SubmitAsync(Json(V1, datasets: [Open, Cohort]));
        var same = await host.Submissions.SubmitAsync(Json(V2));

        Assert.False(older.Accepted);
        Assert.Equal(DmpRouteOutcome.Stale, older.Outcome);
        Assert.Null(older.InstanceId);
        Assert.Contains("not newer than the version in force", older.Error, StringComparison.Ordinal);
        Assert.True(same.Accepted);
        Assert.Equal(DmpRouteOutcome.AlreadyInForce, same.Outcome);
        host.Storage.Verify(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Submit_RevisedVersionAfterARejection_IsTakenInByANewIntake()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var first = await host.Submissions.SubmitAsync(Json(V1, datasets: Cohort));
        await host.DecideAsync(DpoEmail, "reject", "no consent form");
        Assert.Equal(IntakeState.Rejected, (await host.CompletionAsync(first.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!.State);

        var again = await host.Submissions.SubmitAsync(Json(V1, datasets: Cohort));
        var revised = await host.Submissions.SubmitAsync(Json(V2, datasets: Cohort));
        var output = (await host.ApproveAllUntilCompletedAsync(revised.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.False(again.Accepted);
        Assert.Equal(DmpRouteOutcome.Refused, again.Outcome);
        Assert.Contains("was rejected", again.Error, StringComparison.Ordinal);
        Assert.Contains("no consent form", again.Error, StringComparison.Ordinal);
        Assert.Equal(DmpRouteOutcome.Started, revised.Outcome);
        Assert.NotEqual(first.InstanceId, revised.InstanceId);
        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        Assert.Equal(DmpState.Active, host.Dmps[DmpId].State);
    }

    [Fact]
    public async Task Submit_SameVersionAfterAFailure_StartsANewAttemptWhichDuplicatesJoin()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var failing = true;
        host.Fault = call => failing && call == "Storage.EnsureContainer" ? new PortRefusedException("quota exceeded") : null;
        var first = await host.Submissions.SubmitAsync(Json(V1));
        Assert.Equal(
            IntakeState.Failed, (await host.ApproveAllUntilCompletedAsync(first.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!.State);
        failing = false;

        var retry = await host.Submissions.SubmitAsync(Json(V1));
        var duplicate = await host.Submissions.SubmitAsync(Json(V1));
        var output = (await host.ApproveAllUntilCompletedAsync(retry.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(DmpRouteOutcome.Started, retry.Outcome);
        Assert.Contains("failed", retry.Message, StringComparison.Ordinal);
        Assert.NotEqual(first.InstanceId, retry.InstanceId);
        Assert.Equal(retry.InstanceId, duplicate.InstanceId);
        Assert.True(duplicate.JoinedExisting);
        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal(DmpState.Active, host.Dmps[DmpId].State);
    }

    [Fact]
    public async Task Submit_NewerVersionDuringAnIntake_WaitsWithoutPollingAndIsAppliedAsAnUpdateOnceTheIntakeIsApproved()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var first = await host.Submissions.SubmitAsync(Json(V1, datasets: Open));
        await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);

        var newer = await host.Submissions.SubmitAsync(Json(V2, datasets: [Open, Cohort]));
        var queued = await host.WaitForCustomStatusAsync<IntakeStatus>(newer.InstanceId!, s => s.Stage == "queued");
        await host.DecideAsync(PiEmail, "approve");
        var firstOutput = (await host.CompletionAsync(first.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;
        var output = (await host.ApproveAllUntilCompletedAsync(newer.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(DmpRouteOutcome.Queued, newer.Outcome);
        Assert.Equal(first.InstanceId, newer.WaitsFor);
        Assert.Contains("as an update if the older version was approved", newer.Message, StringComparison.Ordinal);
        Assert.Contains(first.InstanceId!, queued!.Detail, StringComparison.Ordinal);
        Assert.Equal(IntakeState.Active, firstOutput.State);
        Assert.Equal(IntakeState.Updated, output.State);
        Assert.Equal(UpdateState.Applied, output.Update!.State);
        Assert.Contains(DpoEmail, AskedFor(host, newer.InstanceId!));
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        Assert.Empty(host.Dmps[DmpId].Queue);
        Assert.Equal(DatasetState.Provisioned, host.Datasets[(DmpId, "ds-cohort")].State);
        // Its turn came with the intake's end, not from a timer (the daily watchdog never fired).
        Assert.DoesNotContain(await host.Engine.Store.GetHistoryAsync(newer.InstanceId!), e => e.EventType == HistoryEventType.TimerFired);
        Assert.Contains(host.AuditEntries, e => e.Action == "intake.queued" && e.InstanceId == newer.InstanceId);
    }

    [Fact]
    public async Task Submit_NewerVersionDuringAnIntakeThatIsRejected_IsTakenInAsTheNewIntake()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var first = await host.Submissions.SubmitAsync(Json(V1, datasets: Cohort));
        await host.WaitForMessageAsync(DpoEmail, NotificationKind.ApprovalRequest);
        var revised = await host.Submissions.SubmitAsync(Json(V2, datasets: Cohort));
        await host.WaitForCustomStatusAsync<IntakeStatus>(revised.InstanceId!, s => s.Stage == "queued");

        await host.DecideAsync(DpoEmail, "reject", "consent form missing");
        Assert.Equal(IntakeState.Rejected, (await host.CompletionAsync(first.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!.State);
        var output = (await host.ApproveAllUntilCompletedAsync(revised.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(DmpRouteOutcome.Queued, revised.Outcome);
        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        Assert.Equal(revised.InstanceId, host.Dmps[DmpId].InstanceId);
    }

    [Fact]
    public async Task Submit_FiveVersionsAtOnce_TheNewestWinsAndEverySubmitterIsToldTruthfully()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        DateTimeOffset[] versions = [V2, V5, V1, V4, V3];

        var results = await Task.WhenAll(versions.Select(v => Task.Run(() => host.Submissions.SubmitAsync(
            Json(v, datasets: v == V5 ? [Open, Cohort] : [Open]), $"user:submitter-{v:MMdd}"))));
        var handled = results.Where(r => r.InstanceId is not null).Select(r => r.InstanceId!).Distinct().ToList();

        // Every version reaches the registry before anyone approves: the versions were all submitted before any
        // decision. (A version whose intake only records after an older one is in force is that older one's update, and
        // is applied after it: Intake_OlderVersionTakingItsTurnAfterANewerOneTookIts_GivesWayAndIsNeverInForce.)
        foreach (var id in handled)
        {
            await WorkflowTestEnvironment.WaitUntilAsync(
                async () =>
                {
                    // A write that lost a registry race is retried after a backoff on the clock.
                    host.Time.Advance(TimeSpan.FromSeconds(2));
                    return await host.Client.GetInstanceAsync(id) is { } instance
                        && (instance.IsCompleted
                            || (instance.SerializedCustomStatus is not null
                                && instance.ReadCustomStatusAs<IntakeStatus>() is { Stage: not ("validating" or "recording") }));
                },
                $"{id} to record its version");
        }

        await ApproveEverythingAsync(host, handled);

        // The newest version is in force, with its own datasets.
        Assert.Equal(DmpState.Active, host.Dmps[DmpId].State);
        Assert.Equal(V5, host.Dmps[DmpId].Modified);
        Assert.Empty(host.Dmps[DmpId].Queue);
        Assert.True(host.Datasets[(DmpId, "ds-cohort")].PersonalData);

        // Every submitter was told what happened to their version.
        var inputVersions = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
        foreach (var id in handled)
        {
            inputVersions[id] = DmpSubmissionService.ExtractModified(
                (await host.Client.GetInstanceAsync(id))!.ReadInputAs<IntakeDmpInput>()!.DmpJson);
        }

        foreach (var (version, result) in versions.Zip(results))
        {
            switch (result.Outcome)
            {
                case DmpRouteOutcome.Stale:
                    Assert.False(result.Accepted);
                    Assert.Null(result.InstanceId);
                    Assert.Contains(inputVersions.Values, handledVersion => handledVersion > version);
                    break;
                case DmpRouteOutcome.Started or DmpRouteOutcome.Queued or DmpRouteOutcome.Joined:
                    Assert.True(result.Accepted);
                    Assert.Equal(version, inputVersions[result.InstanceId!]);
                    Assert.Equal(result.Outcome == DmpRouteOutcome.Joined, result.JoinedExisting);
                    var ended = (await host.Client.GetInstanceAsync(result.InstanceId!))!.ReadOutputAs<IntakeDmpOutput>()!;
                    Assert.Contains(
                        ended.State,
                        (IntakeState[])(version == V5
                            ? [IntakeState.Active, IntakeState.Updated]
                            : [IntakeState.Active, IntakeState.Superseded]));
                    var applied = ended.State != IntakeState.Updated || ended.Update?.State == UpdateState.Applied;
                    Assert.True(applied, $"{version:O}: {ended.State}: {ended.Reason}");
                    break;
                default:
                    Assert.Fail($"{version:O}: unexpected outcome {result.Outcome}: {result.Message}");
                    break;
            }
        }

        Assert.Single(results, r => r.Outcome == DmpRouteOutcome.Started);
        Assert.Contains(results, r => r.Accepted && r.InstanceId is { } id && inputVersions[id] == V5);
    }

    [Fact]
    public async Task Intake_OlderVersionTakingItsTurnAfterANewerOneTookIts_GivesWayAndIsNeverInForce()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();

        // The newer version is fetched from the DMP tool; the fetch of its update waits until the older version has run.
        var fetches = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.DmpTool.Setup(t => t.FetchDmpAsync(DmpId, It.IsAny<CancellationToken>())).Returns(async (string id, CancellationToken _) =>
        {
            if (Interlocked.Increment(ref fetches) > 1)
            {
                await release.Task;
            }

            return new FetchedDmp(id, Json(V5, datasets: [Open, Cohort]), V5, null);
        });
        var first = await host.Submissions.SubmitAsync(Json(V2, datasets: Open), "user:" + PiEmail);
        await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);
        var newer = await host.Router.RouteAsync(new DmpEvent(DmpId, null, V5, "system:dmp-tool"));
        await host.WaitForCustomStatusAsync<IntakeStatus>(newer.InstanceId!, s => s.Stage == "queued");
        await host.DecideAsync(PiEmail, "approve");

        // From here an activity is held on purpose, so the engine is never idle: wait on the instances themselves.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await host.Client.WaitForCompletionAsync(first.InstanceId!, cancellationToken: guard.Token);
        await WorkflowTestEnvironment.WaitUntilAsync(
            async () => (await host.Client.GetInstanceAsync(newer.InstanceId!))?.ReadCustomStatusAs<IntakeStatus>()?.Stage == "updating",
            "the newer version applied as an update");
        await WorkflowTestEnvironment.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref fetches) == 2), "the newer update's fetch");

        // An intake the router queued earlier, whose first steps ran only now.
        var late = IntakeDmpWorkflow.InstanceIdFor(DmpId) + "-late";
        var lateInput = new IntakeDmpInput(DmpId, Json(V3, datasets: Open), "user:" + PiEmail);
        await host.Client.ScheduleNewAsync(nameof(IntakeDmpWorkflow), lateInput, late);
        var lateOutput = (await host.Client.WaitForCompletionAsync(late, cancellationToken: guard.Token)).ReadOutputAs<IntakeDmpOutput>()!;
        release.SetResult();
        var newerOutput = (await host.ApproveAllUntilCompletedAsync(newer.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(DmpRouteOutcome.Queued, newer.Outcome);
        Assert.Equal(IntakeState.Superseded, lateOutput.State);
        Assert.Contains(V5.ToString("O", System.Globalization.CultureInfo.InvariantCulture), lateOutput.Reason, StringComparison.Ordinal);
        Assert.Null(lateOutput.Update);
        var lateEntries = host.AuditEntries.Where(e => e.InstanceId.StartsWith(late, StringComparison.Ordinal)).Select(e => e.Action);
        Assert.DoesNotContain("dmp.version_claimed", lateEntries);
        Assert.DoesNotContain("dmp.state_changed", lateEntries);
        Assert.Equal(IntakeState.Updated, newerOutput.State);
        Assert.Equal(UpdateState.Applied, newerOutput.Update!.State);
        Assert.Equal(V5, host.Dmps[DmpId].Modified);
        Assert.True(host.Datasets[(DmpId, "ds-cohort")].PersonalData);
    }

    [Fact]
    public async Task Intake_WhoseUpdateANewerVersionOvertook_EndsSupersededNotUpdated()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var first = await host.Submissions.SubmitAsync(Json(V1, datasets: Open), "user:" + PiEmail);
        await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);
        var queued = await host.Submissions.SubmitAsync(Json(V2, datasets: [Open, Cohort]), "user:" + PiEmail);
        await host.WaitForCustomStatusAsync<IntakeStatus>(queued.InstanceId!, s => s.Stage == "queued");
        await host.DecideAsync(PiEmail, "approve");
        await host.CompletionAsync(first.InstanceId!);
        await host.WaitForMessageAsync(DpoEmail, NotificationKind.ApprovalRequest);

        var newest = await host.Submissions.SubmitAsync(Json(V3, datasets: [Open, Cohort]), "user:" + PiEmail);
        await host.WaitForMessageAsync(DpoEmail, NotificationKind.ApprovalRequest, count: 2);
        var queuedOutput = (await host.ApproveAllUntilCompletedAsync(queued.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;
        var newestOutput = (await host.ApproveAllUntilCompletedAsync(newest.InstanceId!)).ReadOutputAs<UpdateDmpOutput>()!;

        Assert.Equal(DmpRouteOutcome.Started, newest.Outcome);
        Assert.Equal(IntakeState.Superseded, queuedOutput.State);
        Assert.Contains("newer version", queuedOutput.Reason, StringComparison.Ordinal);
        Assert.Equal(UpdateState.Superseded, queuedOutput.Update!.State);
        Assert.Equal(UpdateState.Applied, newestOutput.State);
        Assert.Equal(V3, host.Dmps[DmpId].Modified);
    }

    [Fact]
    public async Task Intake_OfAnOlderVersionThanTheOneInForce_EndsSupersededAndOfTheSameVersionAlreadyGoverned()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        await GovernAsync(host, Json(V2));
        var stem = IntakeDmpWorkflow.InstanceIdFor(DmpId);

        await host.Client.ScheduleNewAsync(nameof(IntakeDmpWorkflow), new IntakeDmpInput(DmpId, Json(V1)), stem + "-older");
        await host.Client.ScheduleNewAsync(nameof(IntakeDmpWorkflow), new IntakeDmpInput(DmpId, Json(V2)), stem + "-same");
        var older = (await host.CompletionAsync(stem + "-older")).ReadOutputAs<IntakeDmpOutput>()!;
        var same = (await host.CompletionAsync(stem + "-same")).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(IntakeState.Superseded, older.State);
        Assert.Contains(V2.ToString("O", System.Globalization.CultureInfo.InvariantCulture), older.Reason, StringComparison.Ordinal);
        Assert.Equal(IntakeState.AlreadyGoverned, same.State);
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
    }

    [Fact]
    public async Task Submit_NewerVersionWaitingForAnIntakeAnOperatorTerminated_IsTakenInAfterADay()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var first = await host.Submissions.SubmitAsync(Json(V1, datasets: Open), "user:" + PiEmail);
        await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);
        var newer = await host.Submissions.SubmitAsync(Json(V2, datasets: [Open, Cohort]), "user:" + PiEmail);
        await host.WaitForCustomStatusAsync<IntakeStatus>(newer.InstanceId!, s => s.Stage == "queued");

        await host.Client.TerminateAsync(first.InstanceId!, "stopped by an operator");
        await host.CompletionAsync(first.InstanceId!);
        await host.AdvanceToNextTimerAsync(newer.InstanceId!);
        var output = (await host.ApproveAllUntilCompletedAsync(newer.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(DmpRouteOutcome.Queued, newer.Outcome);
        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        Assert.Equal(newer.InstanceId, host.Dmps[DmpId].InstanceId);
        Assert.Equal(DmpState.Active, host.Dmps[DmpId].State);
        var lost = Assert.Single(host.AuditEntries, e => e.Action == "intake.owner_lost");
        Assert.Equal(newer.InstanceId, lost.InstanceId);
        Assert.Contains("Terminated", lost.After!.Value.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_NewerVersionWaitingForAnIntakeStillAwaitingApprovals_KeepsWaitingPastTheDailyCheck()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var first = await host.Submissions.SubmitAsync(Json(V1, datasets: Open), "user:" + PiEmail);
        await host.WaitForMessageAsync(PiEmail, NotificationKind.ApprovalRequest);
        var newer = await host.Submissions.SubmitAsync(Json(V2, datasets: [Open, Cohort]), "user:" + PiEmail);
        await host.WaitForCustomStatusAsync<IntakeStatus>(newer.InstanceId!, s => s.Stage == "queued");

        await host.AdvanceToNextTimerAsync(newer.InstanceId!);
        await host.WaitForTimersAsync(newer.InstanceId!, 2);
        var stillQueued = await host.Client.GetInstanceAsync(newer.InstanceId!);
        await host.DecideAsync(PiEmail, "approve");
        var output = (await host.ApproveAllUntilCompletedAsync(newer.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal("queued", stillQueued!.ReadCustomStatusAs<IntakeStatus>()!.Stage);
        Assert.Equal(IntakeState.Active, (await host.CompletionAsync(first.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!.State);
        Assert.Equal(IntakeState.Updated, output.State);
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        Assert.DoesNotContain(host.AuditEntries, e => e.Action == "intake.owner_lost");
    }

    /// <summary>
    /// Approves every approval request as it arrives until the given instances (and what they started) complete. The
    /// clock moves on a little each round so that a registry race lost by one intake is retried (seconds, far from any
    /// reminder).
    /// </summary>
    private static async Task ApproveEverythingAsync(WorkflowTestEnvironment host, IReadOnlyList<string> instanceIds)
    {
        var decided = new HashSet<string>(StringComparer.Ordinal);
        await WorkflowTestEnvironment.WaitUntilAsync(
            async () =>
            {
                host.Time.Advance(TimeSpan.FromSeconds(2));
                foreach (var message in host.Sent.Where(m => m.Kind == NotificationKind.ApprovalRequest).ToList())
                {
                    if (decided.Add(message.DeduplicationKey))
                    {
                        await host.Decisions.SubmitAsync(
                            WorkflowTestEnvironment.TokenOf(message), "approve", null, "user:" + message.To[0]);
                    }
                }

                foreach (var id in instanceIds)
                {
                    if (await host.Client.GetInstanceAsync(id) is not { IsCompleted: true })
                    {
                        return false;
                    }
                }

                return true;
            },
            "every version to be handled");
    }
}
