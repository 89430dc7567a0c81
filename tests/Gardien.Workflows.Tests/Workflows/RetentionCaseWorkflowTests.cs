using Gardien.Runtime;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Retention;
using Moq;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

public sealed class RetentionCaseWorkflowTests
{
    private const string Dmp = "https://doi.org/10.1234/health-study";

    private static RetentionCaseInput Case(DatasetRecord dataset) => new()
    {
        DmpId = dataset.DmpId,
        DatasetId = dataset.DatasetId,
        Container = dataset.Container,
        KeepUntil = dataset.KeepUntil!.Value,
        Disposal = dataset.Disposal,
        Settings = WorkflowTestEnvironment.Settings,
    };

    private static async Task<string> StartAsync(WorkflowTestEnvironment host, DatasetRecord dataset)
    {
        var id = RetentionCaseWorkflow.InstanceIdFor(dataset.DmpId, dataset.DatasetId, dataset.KeepUntil!.Value);
        return await host.Client.ScheduleNewAsync(nameof(RetentionCaseWorkflow), Case(dataset), id);
    }

    private static bool IsApprovalRequestTo(Notification n, string email) =>
        n.Kind == NotificationKind.ApprovalRequest && n.To.Contains(email);

    [Fact]
    public async Task RetentionCase_Delete_NotifiesAtEachWindowThenDeletesInTwoPhasesWithCertificate()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(100));
        var expected = ContainerManifest.Compute(dataset.Container, fakes.Blobs[dataset.Container]);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var request = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, StewardEmail));
        await host.DecideAsync(request, "approve");
        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        var result = done.ReadOutputAs<RetentionCaseResult>()!;
        Assert.Equal(RetentionCaseOutcome.Disposed, result.Outcome);
        var notices = fakes.Sent.Where(
            n => n.Kind == NotificationKind.RetentionNotice && n.Subject.StartsWith("Retention notice", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, notices.Count);
        Assert.All(notices, n => Assert.Contains("pi@neuro-institute.example", n.To));
        Assert.False(fakes.Blobs.ContainsKey(dataset.Container));
        Assert.Equal(DatasetState.Disposed, fakes.Dataset(Dmp, "mri-raw").State);

        var certificate = result.CertificateBody!;
        Assert.Equal(3, certificate.BlobCount);
        Assert.Equal(600, certificate.TotalBytes);
        Assert.Equal(expected.ManifestSha256, certificate.ManifestSha256);
        Assert.Equal(3, certificate.NoticesSentAt.Count);
        Assert.Contains(certificate.Approvals, a => a.Role == "steward" && a.Decision == "Approved");
        Assert.True(DateOnly.FromDateTime(certificate.Phase1At!.Value.UtcDateTime) >= dataset.KeepUntil, "phase 1 never before keep-until");
        Assert.True(certificate.Phase2At - certificate.Phase1At >= TimeSpan.FromDays(30), "phase 2 only after the deletion grace");
        var audited = fakes.AuditEntries.Single(e => e.Action == "dataset.disposal_certificate");
        Assert.Equal(expected.ManifestSha256, audited.After!.Value.GetProperty("manifestSha256").GetString());
        Assert.Equal(result.Certificate!.Sequence, fakes.Dataset(Dmp, "mri-raw").DeletionCertificateSequence);
    }

    [Fact]
    public async Task RetentionCase_LegalHold_SkipsDisposalReportsToStewardAndDpoAndRechecksLater()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "eeg", WorkflowTestEnvironment.Today.AddDays(5), legalHold: true);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var held = await host.RunUntilNotifiedAsync(
            id, n => n.Kind == NotificationKind.Alert && n.Subject.StartsWith("Disposal on hold", StringComparison.Ordinal));

        Assert.Contains(StewardEmail, held.To);
        Assert.Contains(DpoEmail, held.To);
        fakes.Storage.Verify(
            s => s.MarkForDeletionAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<string>(), It.IsAny<CancellationToken>()),
            Times.Never);
        fakes.Storage.Verify(s => s.PurgeAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Contains(fakes.AuditEntries, e => e.Action == "retention.disposal_held");

        // The hold is lifted: the next re-check proceeds to the approvals and the disposal.
        fakes.Datasets[(Dmp, "eeg")] = fakes.Dataset(Dmp, "eeg") with { LegalHold = false };
        var request = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, StewardEmail));
        await host.DecideAsync(request, "approve");
        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(RetentionCaseOutcome.Disposed, done.ReadOutputAs<RetentionCaseResult>()!.Outcome);
        Assert.False(fakes.Blobs.ContainsKey(dataset.Container));
    }

    [Fact]
    public async Task RetentionCase_ExtensionApprovedByTheSteward_RecordsTheNewKeepUntilInRegistryAndTags()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "cohort", WorkflowTestEnvironment.Today.AddDays(60));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var notice = await host.RunUntilNotifiedAsync(id, n => n.Kind == NotificationKind.RetentionNotice);
        await host.DecideAsync(notice, "reject", "Follow-up study funded: please keep until 2033-12-31.", linkIndex: 1);
        var request = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, StewardEmail));
        Assert.Contains("2033-12-31", request.Body, StringComparison.Ordinal);
        await host.DecideAsync(request, "approve");
        var done = await host.RunToCompletionAsync(id);

        var result = done.ReadOutputAs<RetentionCaseResult>()!;
        Assert.Equal(RetentionCaseOutcome.Extended, result.Outcome);
        Assert.Equal(new DateOnly(2033, 12, 31), result.NewKeepUntil);
        Assert.Equal(new DateOnly(2033, 12, 31), fakes.Dataset(Dmp, "cohort").KeepUntil);
        Assert.All(fakes.Blobs[dataset.Container], b => Assert.Equal("2033-12-31", b.Tags[GovernanceMetadata.KeepUntil]));
        Assert.Contains(fakes.AuditEntries, e => e.Action == "retention.extended");
        Assert.Contains(
            fakes.Approvals.Values,
            a => a.Role == "steward"
                && a.Decision == ApprovalDecision.Approved
                && a.Subject!.StartsWith("retention-extension:", StringComparison.Ordinal));
        fakes.Storage.Verify(
            s => s.MarkForDeletionAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<string>(), It.IsAny<CancellationToken>()),
            Times.Never);
    }

    [Fact]
    public async Task RetentionCase_ExtensionDenied_ThePlannedArchiveHappensOnTheDueDate()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "imaging", WorkflowTestEnvironment.Today.AddDays(20), DisposalAction.Archive);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var notice = await host.RunUntilNotifiedAsync(id, n => n.Kind == NotificationKind.RetentionNotice);
        await host.DecideAsync(notice, "reject", "keep until 2031-01-01", linkIndex: 1);
        var request = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, StewardEmail));
        await host.DecideAsync(request, "reject", "Retention already exceeds the funder's requirement.", linkIndex: 1);
        var done = await host.RunToCompletionAsync(id);

        Assert.Contains(
            fakes.Sent,
            n => n.Kind == NotificationKind.Rejection && n.Subject.StartsWith("Extension not granted", StringComparison.Ordinal));
        var result = done.ReadOutputAs<RetentionCaseResult>()!;
        Assert.Equal(RetentionCaseOutcome.Archived, result.Outcome);
        Assert.Equal(dataset.KeepUntil, fakes.Dataset(Dmp, "imaging").KeepUntil);
        Assert.Equal(StorageTier.Archive, fakes.Tiers[dataset.Container]);
        Assert.Equal(3, fakes.Blobs[dataset.Container].Count);
        Assert.Equal(DatasetState.Archived, fakes.Dataset(Dmp, "imaging").State);
        Assert.Equal("Archive", result.CertificateBody!.Disposal);
        Assert.Null(result.CertificateBody.Phase2At);
    }

    [Fact]
    public async Task RetentionCase_Publish_RecordsTheHandOffAfterStewardApproval()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "open-data", WorkflowTestEnvironment.Today.AddDays(3), DisposalAction.Publish);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var request = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, StewardEmail));
        await host.DecideAsync(request, "approve");
        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(RetentionCaseOutcome.Published, done.ReadOutputAs<RetentionCaseResult>()!.Outcome);
        var handoff = Assert.Single(fakes.AuditEntries, e => e.Action == "dataset.publication_handoff");
        Assert.Equal(dataset.Container, handoff.After!.Value.GetProperty("handoff").GetProperty("container").GetString());
        Assert.Equal(DatasetState.Published, fakes.Dataset(Dmp, "open-data").State);
        Assert.Equal(3, fakes.Blobs[dataset.Container].Count);
    }

    [Fact]
    public async Task RetentionCase_PiStopsTheDeletionDuringGrace_DataKeptAndMarkRemoved()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "survey", WorkflowTestEnvironment.Today.AddDays(2));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var request = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, StewardEmail));
        await host.DecideAsync(request, "approve");
        var marked = await host.RunUntilNotifiedAsync(id, n => n.Subject.StartsWith("Marked for deletion", StringComparison.Ordinal));
        Assert.True(fakes.Marks.ContainsKey(dataset.Container));
        await host.DecideAsync(marked, "reject", "A reviewer asked for the raw data.");
        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(RetentionCaseOutcome.StoppedByPi, done.ReadOutputAs<RetentionCaseResult>()!.Outcome);
        Assert.False(fakes.Marks.ContainsKey(dataset.Container));
        Assert.Equal(3, fakes.Blobs[dataset.Container].Count);
        Assert.Equal(DatasetState.Provisioned, fakes.Dataset(Dmp, "survey").State);
        fakes.Storage.Verify(s => s.PurgeAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Contains(fakes.AuditEntries, e => e.Action == "dataset.deletion_cancelled");
    }

    [Fact]
    public async Task RetentionCase_PersonalDataDeletion_NeedsStewardAndDpo_AndADpoRefusalDeletesNothing()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "patients", WorkflowTestEnvironment.Today.AddDays(2), personal: true);
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var steward = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, StewardEmail));
        var dpo = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, DpoEmail));
        await host.DecideAsync(steward, "approve");
        await host.DecideAsync(dpo, "reject", "Pending subject-access request.", linkIndex: 1);
        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(RetentionCaseOutcome.NotApproved, done.ReadOutputAs<RetentionCaseResult>()!.Outcome);
        Assert.Equal(3, fakes.Blobs[dataset.Container].Count);
        fakes.Storage.Verify(
            s => s.MarkForDeletionAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<string>(), It.IsAny<CancellationToken>()),
            Times.Never);
        Assert.Contains(fakes.AuditEntries, e => e.Action == "retention.disposal_not_approved");
    }

    [Fact]
    public async Task RetentionCase_HoldArrivingDuringGrace_StopsThePurgeAndIsReported()
    {
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(Dmp, "trial", WorkflowTestEnvironment.Today.AddDays(1));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var request = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, StewardEmail));
        await host.DecideAsync(request, "approve");
        await host.RunUntilNotifiedAsync(id, n => n.Subject.StartsWith("Marked for deletion", StringComparison.Ordinal));
        fakes.StorageHolds[dataset.Container] = true;
        await host.RunUntilNotifiedAsync(id, n => n.Subject.StartsWith("Disposal on hold", StringComparison.Ordinal));

        Assert.Equal(3, fakes.Blobs[dataset.Container].Count);
        Assert.False(fakes.Marks.ContainsKey(dataset.Container));
        Assert.Contains(fakes.AuditEntries, e => e.Action == "dataset.disposal_refused");
        var status = await host.Client.GetInstanceAsync(id);
        Assert.Equal(WorkflowStatus.Running, status!.Status);
    }
}
