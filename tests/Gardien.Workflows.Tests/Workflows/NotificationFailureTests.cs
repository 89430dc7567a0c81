using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Retention;
using Moq;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// Every workflow with a notifier that always fails (a transient outage, so each message is retried first): the message is
/// audited <c>notification.failed</c> and reported in the output, and the workflow carries on as if it had been sent.
/// </summary>
public sealed class NotificationFailureTests
{
    private const string Dmp = "https://doi.org/10.1234/health-study";

    /// <summary>Hang guard only: no test asserts on elapsed time.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private static PortException MailDown() => new("mail server down", isTransient: true);

    private static void NotifierDown(PortFakes fakes) =>
        fakes.Notifier.Setup(n => n.SendAsync(It.IsAny<Notification>(), It.IsAny<CancellationToken>())).ThrowsAsync(MailDown());

    private static List<JsonElement> FailedMessages(IEnumerable<AuditEntry> entries) =>
        [.. entries.Where(e => e.Action == "notification.failed").Select(e => e.After!.Value)];

    private static async Task AdvanceUntilAsync(WorkflowTestEnvironment host, Func<Task<bool>> condition, TimeSpan step)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition never held while the clock moved on.");
            }

            host.Time.Advance(step);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Intake_NotifierAlwaysDown_ApprovalWaitsRemindsEscalatesAndExpires_TheIntakeEndsRejectedNotFailed()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync(h => h.Fault = call => call == "Notifier.Send" ? MailDown() : null);

        var submitted = await host.Submissions.SubmitAsync(Json(), "user:" + PiEmail);
        var output = (await host.RunToCompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(IntakeState.Rejected, output.State);
        Assert.Contains("did not decide in time", output.Reason, StringComparison.Ordinal);
        var approval = Assert.Single(output.Approvals);
        Assert.Equal(ApprovalOutcome.Expired, approval.Outcome);
        Assert.True(approval.Escalated);
        Assert.True(approval.RemindersSent >= 3, $"{approval.RemindersSent} reminders");
        var request = Assert.Single(approval.UndeliveredNotifications, f => f.Kind == NotificationKind.ApprovalRequest);
        Assert.Equal([PiEmail], request.To);
        Assert.Contains("mail server down", request.Reason, StringComparison.Ordinal);
        Assert.Equal(approval.RemindersSent, approval.UndeliveredNotifications.Count(f => f.Kind == NotificationKind.Reminder));
        Assert.Contains(
            approval.UndeliveredNotifications, f => f.Kind == NotificationKind.Escalation && f.To.SequenceEqual([StewardEmail]));
        Assert.Contains(output.UndeliveredNotifications, f => f.Kind == NotificationKind.Rejection);
        Assert.Contains(output.Warnings, w => w.Contains("could not be sent: mail server down", StringComparison.Ordinal));
        Assert.Equal(DmpState.Rejected, host.Dmps[DmpId].State);
        Assert.Empty(host.Sent);

        var failed = FailedMessages(host.AuditEntries);
        Assert.Contains(failed, f => f.GetProperty("kind").GetString() == "ApprovalRequest"
            && f.GetProperty("to")[0].GetString() == PiEmail
            && f.GetProperty("reason").GetString()!.Contains("mail server down", StringComparison.Ordinal));
        Assert.Contains(failed, f => f.GetProperty("kind").GetString() == "Rejection");
    }

    [Fact]
    public async Task Approval_RequestUndelivered_IsShownInTheStatus_AndTheReminderCarriesAWorkingLink()
    {
        var sends = 0;
        await using var host = await WorkflowTestEnvironment.StartAsync(h => h.Fault = call =>
            call == "Notifier.Send" && Interlocked.Increment(ref sends) <= ActivityRetryPolicies.Transient.MaxNumberOfAttempts
                ? MailDown()
                : null);

        var submitted = await host.Submissions.SubmitAsync(Json(), "user:" + PiEmail);
        var approvalId = ApprovalWorkflow.InstanceIdFor(
            submitted.InstanceId!, Gardien.Workflows.Governance.ApprovalRole.PrincipalInvestigator);
        ApprovalStatus? status = null;
        await AdvanceUntilAsync(host, async () =>
        {
            status = (await host.Client.GetInstanceAsync(approvalId))?.ReadCustomStatusAs<ApprovalStatus>();
            return status?.Undelivered is { Count: > 0 };
        }, TimeSpan.FromMinutes(1));

        Assert.Equal("awaiting-decision", status!.Stage);
        Assert.Equal(NotificationKind.ApprovalRequest, Assert.Single(status.Undelivered!).Kind);
        Assert.Empty(host.SentTo(PiEmail));

        await AdvanceUntilAsync(
            host, () => Task.FromResult(host.SentTo(PiEmail, NotificationKind.Reminder).Count > 0), TimeSpan.FromHours(6));
        await host.DecideAsync(PiEmail, "approve", kind: NotificationKind.Reminder);
        var output = (await host.CompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal(NotificationKind.ApprovalRequest, Assert.Single(output.UndeliveredNotifications).Kind);
        Assert.Equal("ApprovalRequest", Assert.Single(FailedMessages(host.AuditEntries)).GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Update_NotifierDown_TheChangeIsApplied_AndThePiSummaryIsReportedUndelivered()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var intake = await host.Submissions.SubmitAsync(Json(V1), "user:" + PiEmail);
        var governed = await host.ApproveAllUntilCompletedAsync(intake.InstanceId!);
        Assert.Equal(IntakeState.Active, governed.ReadOutputAs<IntakeDmpOutput>()!.State);
        host.Fault = call => call == "Notifier.Send" ? MailDown() : null;

        var routed = await host.Router.RouteAsync(new DmpEvent(DmpId, Json(V2, withDataManager: false)));
        var output = (await host.RunToCompletionAsync(routed.InstanceId!)).ReadOutputAs<UpdateDmpOutput>()!;

        Assert.Equal(UpdateState.Applied, output.State);
        Assert.Single(output.Revoked);
        Assert.Equal(V2, host.Dmps[DmpId].Modified);
        Assert.Equal(NotificationKind.Summary, Assert.Single(output.UndeliveredNotifications).Kind);
        Assert.Contains(output.Warnings, w => w.Contains("could not be sent", StringComparison.Ordinal));
        Assert.Single(host.AuditEntries, e => e.Action == "notification.failed" && e.InstanceId == routed.InstanceId);
    }

    [Fact]
    public async Task RetentionCase_NotifierDown_NoticesAreAuditedAndTheArchiveStillHappensOnTheDueDate()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "cohort", WorkflowTestEnvironment.Today.AddDays(100), disposal: DisposalAction.Archive);
        NotifierDown(fakes);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = RetentionCaseWorkflow.InstanceIdFor(Dmp, "cohort", dataset.KeepUntil!.Value);
        await host.Client.ScheduleNewAsync(nameof(RetentionCaseWorkflow), new RetentionCaseInput
        {
            DmpId = Dmp,
            DatasetId = "cohort",
            Container = dataset.Container,
            KeepUntil = dataset.KeepUntil.Value,
            Disposal = DisposalAction.Archive,
            Settings = WorkflowTestEnvironment.Settings,
        }, id);

        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        var result = done.ReadOutputAs<RetentionCaseResult>()!;
        Assert.Equal(RetentionCaseOutcome.Archived, result.Outcome);
        Assert.Equal(3, result.UndeliveredNotifications.Count(f => f.Kind == NotificationKind.RetentionNotice));
        Assert.Contains(result.UndeliveredNotifications, f => f.Kind == NotificationKind.Summary);
        Assert.Equal(DatasetState.Archived, fakes.Dataset(Dmp, "cohort").State);
        Assert.Equal(3, fakes.AuditEntries.Count(e => e.Action == "retention.notice_sent"));
        Assert.Equal(4, FailedMessages(fakes.AuditEntries).Count);
        Assert.Empty(fakes.Sent);
    }

    [Fact]
    public async Task Sweep_NotifierDown_TheDiscrepancyAlertIsReportedAndTheSweepCompletes()
    {
        var fakes = new PortFakes();
        var stale = new Dictionary<string, string>
        {
            [GovernanceMetadata.KeepUntil] = GovernanceMetadata.Date(WorkflowTestEnvironment.Today.AddDays(10)),
        };
        fakes.Blobs["orphan-container"] = [new StoredBlob("x.csv", "\"1\"", 5, stale, StorageTier.Hot, null)];
        NotifierDown(fakes);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await host.Client.ScheduleNewAsync(
            nameof(RetentionSweepWorkflow),
            new RetentionSweepInput(WorkflowTestEnvironment.Today, Settings: WorkflowTestEnvironment.Settings),
            RetentionSweepWorkflow.InstanceIdFor(WorkflowTestEnvironment.Today));

        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        var report = done.ReadOutputAs<RetentionSweepReport>()!;
        Assert.Single(report.Discrepancies);
        var alert = Assert.Single(report.UndeliveredNotifications);
        Assert.Equal([StewardEmail], alert.To);
        Assert.Contains(fakes.AuditEntries, e => e.Action == "retention.sweep_completed");
        Assert.Single(FailedMessages(fakes.AuditEntries));
    }

    [Fact]
    public async Task AccessReview_NotifierDown_TheCycleStillEndsAndUnconfirmedMembersLoseAccess()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "mri-raw", WorkflowTestEnvironment.Today.AddYears(10));
        fakes.Users["u-bob"] = new DirectoryUser("u-bob", "bob", "bob@neuro-institute.example", null);
        fakes.Grants[(Dmp, "mri-raw", "u-bob")] = new GrantRecord
        {
            DmpId = Dmp,
            DatasetId = "mri-raw",
            PrincipalId = "u-bob",
            Level = AccessLevel.Reader,
            State = GrantState.Active,
            EndsOn = WorkflowTestEnvironment.Today.AddYears(3),
        };
        fakes.AddMember(AccessGroups.GroupName(dataset.Container, AccessLevel.Reader), "u-bob");
        NotifierDown(fakes);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await host.Client.ScheduleNewAsync(
            nameof(AccessReviewWorkflow),
            new AccessReviewInput(Dmp, WorkflowTestEnvironment.Settings),
            AccessReviewWorkflow.InstanceIdFor(Dmp));

        await host.RunUntilAsync(id, () => Task.FromResult(fakes.AuditEntries.Any(e => e.Action == "access_review.completed")));

        Assert.Equal(GrantState.Revoked, fakes.Grants[(Dmp, "mri-raw", "u-bob")].State);
        var kinds = FailedMessages(fakes.AuditEntries).Select(f => f.GetProperty("kind").GetString()).ToList();
        Assert.Contains("AccessReview", kinds);
        Assert.Contains("Reminder", kinds);
        await host.RunUntilAsync(
            id, () => Task.FromResult(FailedMessages(fakes.AuditEntries).Any(f => f.GetProperty("kind").GetString() == "Summary")));
        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetInstanceAsync(id))!.Status);
    }

    [Fact]
    public async Task BlobEvent_NotifierDown_TheAlertIsAuditedAndTheEventIsStillMarkedProcessed()
    {
        var fakes = new PortFakes();
        NotifierDown(fakes);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var input = new BlobEventInput(
            "ev-down", BlobEventKind.Created, "shadow-data", "dump.sql", "\"0x8D1\"", 100, WorkflowTestEnvironment.Epoch, "PutBlob");
        var id = await host.Client.ScheduleNewAsync(
            nameof(HandleBlobEventWorkflow), input, HandleBlobEventWorkflow.InstanceIdFor(input.EventId));

        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        var result = done.ReadOutputAs<BlobEventResult>()!;
        Assert.Equal(BlobEventOutcome.UnknownContainer, result.Outcome);
        Assert.Equal(["unknown-container"], result.Alerts);
        Assert.Equal(NotificationKind.Alert, Assert.Single(result.UndeliveredNotifications).Kind);
        Assert.True(fakes.ProcessedEvents.ContainsKey("ev-down"));
        Assert.Contains(fakes.AuditEntries, e => e.Action == "blob.unknown_container");
        Assert.Single(FailedMessages(fakes.AuditEntries));
    }
}
