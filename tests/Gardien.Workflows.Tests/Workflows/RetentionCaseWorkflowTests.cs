using Gardien.Runtime;
using Gardien.Workflows.Activities.Provisioning;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Gardien.Workflows.Workflows;
using Moq;

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
        Settings = RetentionTestHost.Settings,
    };

    private static async Task<string> StartAsync(RetentionTestHost host, DatasetRecord dataset)
    {
        var id = RetentionCaseWorkflow.InstanceIdFor(dataset.DmpId, dataset.DatasetId, dataset.KeepUntil!.Value);
        return await host.Client.ScheduleNewAsync(nameof(RetentionCaseWorkflow), Case(dataset), id);
    }

    private static bool IsApprovalRequestTo(Notification n, string email) => n.Kind == NotificationKind.ApprovalRequest && n.To.Contains(email);

    [Fact]
    public async Task RetentionCase_Delete_NotifiesAtEachWindowThenDeletesInTwoPhasesWithCertificate()
    {
        var fakes = new RetentionTestFakes();
        var dataset = fakes.AddDataset(Dmp, "mri-raw", RetentionTestHost.Today.AddDays(100));
        var expected = ContainerManifest.Compute(dataset.Container, fakes.Blobs[dataset.Container]);
        await using var host = await RetentionTestHost.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var request = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, RetentionTestFakes.StewardEmail));
        await host.DecideAsync(request, "approve");
        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        var result = done.ReadOutputAs<RetentionCaseResult>()!;
        Assert.Equal(RetentionCaseOutcome.Disposed, result.Outcome);
        var notices = fakes.NotificationsSnapshot().Where(n => n.Kind == NotificationKind.RetentionNotice && n.Subject.StartsWith("Retention notice", StringComparison.Ordinal)).ToList();
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
        var audited = fakes.AuditSnapshot().Single(e => e.Action == "dataset.disposal_certificate");
        Assert.Equal(expected.ManifestSha256, audited.After!.Value.GetProperty("manifestSha256").GetString());
        Assert.Equal(result.Certificate!.Sequence, fakes.Dataset(Dmp, "mri-raw").DeletionCertificateSequence);
    }

    [Fact]
    public async Task RetentionCase_LegalHold_SkipsDisposalReportsToStewardAndDpoAndRechecksLater()
    {
        var fakes = new RetentionTestFakes();
        var dataset = fakes.AddDataset(Dmp, "eeg", RetentionTestHost.Today.AddDays(5), legalHold: true);
        await using var host = await RetentionTestHost.StartAsync(fakes);
        var id = await StartAsync(host, dataset);

        var held = await host.RunUntilNotifiedAsync(id, n => n.Kind == NotificationKind.Alert && n.Subject.StartsWith("Disposal on hold", StringComparison.Ordinal));

        Assert.Contains(RetentionTestFakes.StewardEmail, held.To);
        Assert.Contains(RetentionTestFakes.DpoEmail, held.To);
        fakes.Storage.Verify(s => s.MarkForDeletionAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
        fakes.Storage.Verify(s => s.PurgeAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Contains(fakes.AuditSnapshot(), e => e.Action == "retention.disposal_held");

        // The hold is lifted: the next re-check proceeds to the approvals and the disposal.
        fakes.Datasets[(Dmp, "eeg")] = fakes.Dataset(Dmp, "eeg") with { LegalHold = false };
        var request = await host.RunUntilNotifiedAsync(id, n => IsApprovalRequestTo(n, RetentionTestFakes.StewardEmail));
        await host.DecideAsync(request, "approve");
        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(RetentionCaseOutcome.Disposed, done.ReadOutputAs<RetentionCaseResult>()!.Outcome);
        Assert.False(fakes.Blobs.ContainsKey(dataset.Container));
    }
}
