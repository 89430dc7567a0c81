using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Moq;

namespace Gardien.Workflows.Tests.Workflows;

public sealed class RetentionServiceTests
{
    private const string Dmp = "https://doi.org/10.1234/health-study";

    private static DeletionCertificate Certificate(string datasetId, string id) => new()
    {
        CertificateId = id,
        DmpId = Dmp,
        DatasetId = datasetId,
        Container = "gardien-" + datasetId,
        Disposal = "Delete",
        KeepUntil = new DateOnly(2030, 4, 1),
        BlobCount = 3,
        TotalBytes = 600,
        ManifestSha256 = new string('a', 64),
        Actor = "system:RetentionCaseWorkflow",
        InstanceId = "retention-case-x",
        IssuedAt = new DateTimeOffset(2030, 5, 1, 0, 0, 0, TimeSpan.Zero),
    };

    private static AuditRecord Record(long sequence, string action, JsonElement? after) =>
        new(
            sequence,
            "p" + sequence,
            "h" + sequence,
            new AuditEntry("system:test", action, "i", "dataset:x", DateTimeOffset.UnixEpoch, After: after),
            "audit/segment-1.jsonl",
            (int)sequence);

    private static RetentionService Service(DatasetRecord? dataset, params AuditRecord[] trail)
    {
        var registry = new Mock<IGovernanceRegistry>(MockBehavior.Strict);
        registry.Setup(r => r.GetDatasetAsync(Dmp, It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(dataset);
        var audit = new Mock<IAuditLog>(MockBehavior.Strict);
        audit.Setup(a => a.ReadAsync(It.IsAny<long>(), It.IsAny<CancellationToken>()))
            .Returns((long from, CancellationToken _) => trail.Where(r => r.Sequence >= from).ToAsyncEnumerable());
        return new RetentionService(new Mock<IWorkflowClient>(MockBehavior.Strict).Object, registry.Object, audit.Object);
    }

    private static DatasetRecord Dataset(string datasetId, long? certificateSequence) => new()
    {
        DmpId = Dmp,
        DatasetId = datasetId,
        Container = "gardien-" + datasetId,
        State = DatasetState.Disposed,
        DeletionCertificateSequence = certificateSequence,
    };

    [Fact]
    public async Task GetCertificate_ReadsTheAuditEntryTheRegistryPointsAt()
    {
        var service = Service(
            Dataset("mri-raw", 3),
            Record(1, "retention.notice_sent", null),
            Record(2, WriteDeletionCertificateActivity.AuditAction, Certificate("other", "c-other").ToJsonElement()),
            Record(3, WriteDeletionCertificateActivity.AuditAction, Certificate("mri-raw", "c-mine").ToJsonElement()));

        var stored = await service.GetCertificateAsync(Dmp, "mri-raw");

        Assert.NotNull(stored);
        Assert.Equal(3, stored.Sequence);
        Assert.Equal("h3", stored.Hash);
        Assert.Equal("c-mine", stored.Certificate.CertificateId);
        Assert.Equal(new string('a', 64), stored.Certificate.ManifestSha256);
    }

    [Fact]
    public async Task GetCertificate_RegistryWithoutSequence_FallsBackToTheLatestCertificateOfTheDatasetAndSkipsUnreadableOnes()
    {
        var service = Service(
            Dataset("mri-raw", null),
            Record(1, WriteDeletionCertificateActivity.AuditAction, Certificate("mri-raw", "c-first").ToJsonElement()),
            Record(2, WriteDeletionCertificateActivity.AuditAction, JsonDocument.Parse("""{"blobCount":"not a number"}""").RootElement),
            Record(3, WriteDeletionCertificateActivity.AuditAction, Certificate("mri-raw", "c-second").ToJsonElement()),
            Record(4, WriteDeletionCertificateActivity.AuditAction, Certificate("other", "c-other").ToJsonElement()));

        var stored = await service.GetCertificateAsync(Dmp, "mri-raw");

        Assert.Equal("c-second", stored!.Certificate.CertificateId);
        Assert.Equal(3, stored.Sequence);
    }

    [Fact]
    public async Task GetCertificate_NoCertificate_ReturnsNull()
    {
        var service = Service(Dataset("mri-raw", null), Record(1, "retention.notice_sent", null));

        Assert.Null(await service.GetCertificateAsync(Dmp, "mri-raw"));
    }

    [Fact]
    public async Task EnsureSchedule_NoSchedule_StartsIt()
    {
        var client = new Mock<IWorkflowClient>(MockBehavior.Strict);
        client.Setup(c => c.GetInstanceAsync(RetentionScheduleWorkflow.InstanceId, false, false, It.IsAny<CancellationToken>()))
            .ReturnsAsync((WorkflowMetadata?)null);
        SetupSchedule(client);

        var id = await Service(client).EnsureScheduleAsync();

        Assert.Equal(RetentionScheduleWorkflow.InstanceId, id);
        client.Verify(
            c => c.ScheduleNewAsync(
                nameof(RetentionScheduleWorkflow), It.IsAny<RetentionScheduleInput>(), Id, null, It.IsAny<CancellationToken>()),
            Times.Once);
    }

    [Theory]
    [InlineData(WorkflowStatus.Running, false)]
    [InlineData(WorkflowStatus.ContinuedAsNew, false)]
    [InlineData(WorkflowStatus.Terminated, false)]
    [InlineData(WorkflowStatus.Failed, true)]
    public async Task EnsureSchedule_ExistingSchedule_IsLeftAloneUnlessItFailed(WorkflowStatus status, bool startedAfresh)
    {
        var client = new Mock<IWorkflowClient>(MockBehavior.Strict);
        client.Setup(c => c.GetInstanceAsync(RetentionScheduleWorkflow.InstanceId, false, false, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new WorkflowMetadata(
                RetentionScheduleWorkflow.InstanceId, nameof(RetentionScheduleWorkflow), status, new JsonWorkflowSerializer()));
        client.Setup(c => c.PurgeAsync(RetentionScheduleWorkflow.InstanceId, It.IsAny<CancellationToken>())).ReturnsAsync(true);
        SetupSchedule(client);

        await Service(client).EnsureScheduleAsync();

        // Scheduling an existing id is a no-op of the client; only a failed schedule is purged first, so that it runs again.
        client.Verify(c => c.PurgeAsync(Id, It.IsAny<CancellationToken>()), startedAfresh ? Times.Once : Times.Never);
    }

    private static void SetupSchedule(Mock<IWorkflowClient> client) =>
        client.Setup(
            c => c.ScheduleNewAsync(
                nameof(RetentionScheduleWorkflow), It.IsAny<RetentionScheduleInput>(), Id, null, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Id);

    private const string Id = RetentionScheduleWorkflow.InstanceId;

    private static RetentionService Service(Mock<IWorkflowClient> client) =>
        new(client.Object, new Mock<IGovernanceRegistry>(MockBehavior.Strict).Object, new Mock<IAuditLog>(MockBehavior.Strict).Object);
}
