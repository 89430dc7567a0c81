using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Gardien.Local.Configuration;
using Gardien.Local.Notifications;
using Gardien.Runtime;
using Gardien.Runtime.AzureStorage;
using Gardien.Testing;
using Gardien.Workflows.Access;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Retention;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// End to end: the embedded engine on the Azure Storage store, the real local adapters (blob provisioner, table registry,
/// append-blob audit log, inbox notifier, JSON directory, development secret store) on Azurite, under a fake clock.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RetentionEndToEndTests(AzuriteFixture azurite)
{
    private const string Dmp = "https://doi.org/10.1234/e2e-health-study";
    private const string Pi = "pi@neuro-institute.example";

    [Fact]
    public async Task EndToEnd_Delete_NoticesPiConfirmsStewardApprovesTwoPhaseDeleteAndCertificateMatchesTheBlobs()
    {
        await using var world = await LocalRetentionWorld.StartAsync(azurite);
        var dataset = await world.ProvisionAsync(Dmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(90), DisposalAction.Delete);
        await world.TagThroughBlobEventsAsync(dataset);
        var expectedHash = await world.ManifestHashFromAzuriteAsync(dataset.Container);

        var sweepId = await world.Retention.StartSweepAsync(WorkflowTestEnvironment.Today);
        var sweep = (await world.Host.RunToCompletionAsync(sweepId)).ReadOutputAs<RetentionSweepReport>()!;
        var caseId = RetentionCaseWorkflow.InstanceIdFor(Dmp, "mri-raw", dataset.KeepUntil!.Value);
        Assert.Contains(sweep.Items, i => i.CaseInstanceId == caseId && i.Action == SweepAction.CaseStarted && i.Window == 90);

        var notice = await world.Host.RunUntilNotifiedAsync(
            caseId,
            n => n.Kind == NotificationKind.RetentionNotice
                && n.Subject.StartsWith("Retention notice (90 days)", StringComparison.Ordinal));
        Assert.Contains(Pi, notice.To);
        await world.Host.DecideAsync(notice, "approve");
        var request = await world.Host.RunUntilNotifiedAsync(
            caseId, n => n.Kind == NotificationKind.ApprovalRequest && n.To.Contains(StewardEmail));
        Assert.True(world.Host.Time.GetUtcNow() >= Midnight(dataset.KeepUntil.Value), "the steward is asked only on the due date");
        await world.Host.DecideAsync(request, "approve");
        await world.Host.RunUntilNotifiedAsync(caseId, n => n.Subject.StartsWith("Marked for deletion", StringComparison.Ordinal));
        Assert.Equal(3, await world.CountBlobsAsync(dataset.Container));
        var done = await world.Host.RunToCompletionAsync(caseId);

        var result = done.ReadOutputAs<RetentionCaseResult>()!;
        Assert.True(result.Outcome == RetentionCaseOutcome.Disposed, $"{result.Outcome}: {result.Detail}");
        Assert.Equal(
            3, world.Sent.Count(n => n.CorrelationId == caseId && n.Subject.StartsWith("Retention notice", StringComparison.Ordinal)));
        Assert.False(await world.Blobs.GetBlobContainerClient(dataset.Container).ExistsAsync());
        Assert.Equal(DatasetState.Disposed, (await world.Registry.GetDatasetAsync(Dmp, "mri-raw"))!.State);

        var stored = await world.Retention.GetCertificateAsync(Dmp, "mri-raw");
        Assert.NotNull(stored);
        var certificate = stored.Certificate;
        Assert.Equal(dataset.Container, certificate.Container);
        Assert.Equal(3, certificate.BlobCount);
        Assert.Equal(BlobSizes.Sum(), certificate.TotalBytes);
        Assert.Equal(expectedHash, certificate.ManifestSha256);
        Assert.Contains(certificate.Approvals, a => a.Role == "steward" && a.Decision == "Approved" && a.DecidedBy == StewardEmail);
        Assert.Contains(certificate.Approvals, a => a.Role == "pi" && a.Decision == "Approved");
        Assert.Equal(3, certificate.NoticesSentAt.Count);
        Assert.True(certificate.Phase2At - certificate.Phase1At >= TimeSpan.FromDays(30), "the purge waits for the deletion grace");
        Assert.True(
            DateOnly.FromDateTime(certificate.Phase1At!.Value.UtcDateTime) >= dataset.KeepUntil, "nothing happens before keep-until");
        var verification = await world.Audit.VerifyAsync();
        Assert.True(verification.Intact, verification.FirstBrokenLink?.Problem);
        Assert.NotEmpty(await world.Inbox.ListAsync(Pi));
    }

    [Fact]
    public async Task EndToEnd_Archive_MovesBlobsToTheArchiveTierKeepsThemAndWritesACertificate()
    {
        await using var world = await LocalRetentionWorld.StartAsync(azurite);
        var dataset = await world.ProvisionAsync(Dmp, "questionnaires", WorkflowTestEnvironment.Today, DisposalAction.Archive);
        var expectedHash = await world.ManifestHashFromAzuriteAsync(dataset.Container);

        await world.Host.RunToCompletionAsync(await world.Retention.StartSweepAsync(WorkflowTestEnvironment.Today));
        var done = await world.Host.RunToCompletionAsync(
            RetentionCaseWorkflow.InstanceIdFor(Dmp, "questionnaires", dataset.KeepUntil!.Value));

        var result = done.ReadOutputAs<RetentionCaseResult>()!;
        Assert.True(result.Outcome == RetentionCaseOutcome.Archived, $"{result.Outcome}: {result.Detail}");
        var container = world.Blobs.GetBlobContainerClient(dataset.Container);
        var tiers = new List<AccessTier?>();
        await foreach (var blob in container.GetBlobsAsync())
        {
            tiers.Add(blob.Properties.AccessTier);
        }

        Assert.Equal(3, tiers.Count);
        Assert.All(tiers, t => Assert.Equal(AccessTier.Archive, t));
        Assert.Equal(DatasetState.Archived, (await world.Registry.GetDatasetAsync(Dmp, "questionnaires"))!.State);
        var stored = (await world.Retention.GetCertificateAsync(Dmp, "questionnaires"))!;
        Assert.Equal("Archive", stored.Certificate.Disposal);
        Assert.Equal(expectedHash, stored.Certificate.ManifestSha256);
        Assert.Null(stored.Certificate.Phase2At);
    }

    [Fact]
    public async Task EndToEnd_LegalHoldOnTheContainer_SkipsDisposalReportsItAndKeepsEveryBlob()
    {
        await using var world = await LocalRetentionWorld.StartAsync(azurite);
        var dataset = await world.ProvisionAsync(Dmp, "ecg", WorkflowTestEnvironment.Today, DisposalAction.Delete);
        await world.Storage.SetLegalHoldAsync(dataset.Container, "litigation2030", hold: true);

        await world.Host.RunToCompletionAsync(await world.Retention.StartSweepAsync(WorkflowTestEnvironment.Today));
        var caseId = RetentionCaseWorkflow.InstanceIdFor(Dmp, "ecg", dataset.KeepUntil!.Value);
        var held = await world.Host.RunUntilNotifiedAsync(caseId, n => n.Subject.StartsWith("Disposal on hold", StringComparison.Ordinal));

        Assert.Contains(StewardEmail, held.To);
        Assert.Contains(DpoEmail, held.To);
        Assert.Contains("legal hold", held.Body, StringComparison.Ordinal);
        Assert.Equal(3, await world.CountBlobsAsync(dataset.Container));
        Assert.Equal(DatasetState.Provisioned, (await world.Registry.GetDatasetAsync(Dmp, "ecg"))!.State);
        Assert.DoesNotContain(world.Sent, n => n.Kind == NotificationKind.ApprovalRequest);
        Assert.Null(await world.Retention.GetCertificateAsync(Dmp, "ecg"));
        var audit = await world.AuditActionsAsync();
        Assert.Contains("retention.disposal_held", audit);
        Assert.DoesNotContain("dataset.marked_for_deletion", audit);
    }

    [Fact]
    public async Task EndToEnd_DryRun_ReportsTheCaseAndChangesNothing()
    {
        await using var world = await LocalRetentionWorld.StartAsync(azurite);
        var dataset = await world.ProvisionAsync(Dmp, "genomes", WorkflowTestEnvironment.Today.AddDays(20), DisposalAction.Delete);
        var before = await world.Registry.GetDatasetAsync(Dmp, "genomes");

        var report = await world.Retention.RunSweepAsync(WorkflowTestEnvironment.Today, dryRun: true);

        var item = Assert.Single(report.Items);
        Assert.Equal(SweepAction.WouldStartCase, item.Action);
        Assert.Equal(30, item.Window);
        Assert.Equal(DisposalVerdict.MissingApprovals, item.DueVerdict);
        Assert.Equal([DisposalGuard.StewardRole], item.ApprovalsNeeded);
        Assert.Null(await world.Host.Client.GetInstanceAsync(item.CaseInstanceId));
        Assert.Empty((await world.Host.Client.QueryInstancesAsync(new WorkflowQuery { InstanceIdPrefix = "retention-" })).Instances);
        Assert.Empty(world.Sent);
        Assert.Empty(await world.AuditActionsAsync());
        var after = await world.Registry.GetDatasetAsync(Dmp, "genomes");
        Assert.Equal(before!.ETag, after!.ETag);
        Assert.Equal(DatasetState.Provisioned, after.State);
        Assert.Equal(3, await world.CountBlobsAsync(dataset.Container));
    }

    [Fact]
    public async Task EndToEnd_BlobDeletedOutsideADisposal_IsAnAuditAlert_AndTheRedeliveryIsHarmless()
    {
        await using var world = await LocalRetentionWorld.StartAsync(azurite);
        var dataset = await world.ProvisionAsync(Dmp, "eeg", WorkflowTestEnvironment.Today.AddDays(400), DisposalAction.Delete);
        await world.Blobs.GetBlobContainerClient(dataset.Container).DeleteBlobAsync("raw/file-1.dat");
        var deleted = new BlobEventInput(
            "evt-deleted-1", BlobEventKind.Deleted, dataset.Container, "raw/file-1.dat", "\"0x1\"", null, WorkflowTestEnvironment.Epoch);

        var first = await world.HandleBlobEventAsync(deleted);
        var again = await world.HandleBlobEventAsync(deleted, instanceSuffix: "-redelivered");

        Assert.Equal(BlobEventOutcome.DeletedOutsideDisposal, first.Outcome);
        Assert.Equal(BlobEventOutcome.Duplicate, again.Outcome);
        Assert.Single(await world.AuditActionsAsync(), a => a == "blob.deleted_outside_disposal");
        Assert.Single(
            world.Sent,
            n => n.Kind == NotificationKind.Alert && n.Subject.StartsWith("Blob deleted outside a disposal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EndToEnd_AccessReview_UnconfirmedMemberLosesDirectoryMembershipAndGrant_ConfirmedMemberKeepsThem()
    {
        await using var world = await LocalRetentionWorld.StartAsync(azurite);
        var dataset = await world.ProvisionAsync(Dmp, "cohort", WorkflowTestEnvironment.Today.AddYears(10), DisposalAction.Delete);
        await world.Registry.UpsertDmpAsync(
            (await world.Registry.GetDmpAsync(Dmp))! with { ContactEmail = "claire.dubois@neuro-institute.example", ETag = null });
        foreach (var (email, level) in new[]
        {
            ("claire.dubois@neuro-institute.example", AccessLevel.Owner),
            ("mehdi.benali@neuro-institute.example", AccessLevel.Contributor),
            ("anna.kowalska@neuro-institute.example", AccessLevel.Reader),
        })
        {
            await world.GrantAsync(dataset, email, level, WorkflowTestEnvironment.Today.AddYears(3));
        }

        var id = await world.Retention.StartAccessReviewAsync(Dmp);
        var review = await world.Host.RunUntilNotifiedAsync(id, n => n.Kind == NotificationKind.AccessReview);
        Assert.Equal(
            ["Keep Anna Kowalska", "Keep Mehdi Benali", "Remove Anna Kowalska", "Remove Mehdi Benali"],
            review.Links.Select(l => l.Label).Order(StringComparer.Ordinal));
        await world.Host.DecideAsync(review, "approve", linkIndex: review.Links.ToList().FindIndex(l => l.Label == "Keep Mehdi Benali"));
        await world.Host.RunUntilAsync(id, async () => (await world.AuditActionsAsync()).Contains("access_review.completed"));

        var readers = await world.GroupMembersAsync(dataset.Container, AccessLevel.Reader);
        var contributors = await world.GroupMembersAsync(dataset.Container, AccessLevel.Contributor);
        Assert.DoesNotContain("u-anna-kowalska", readers);
        Assert.Contains("u-mehdi-benali", contributors);
        Assert.Equal(GrantState.Revoked, (await world.Registry.GetGrantAsync(Dmp, "cohort", "u-anna-kowalska"))!.State);
        Assert.Equal(GrantState.Active, (await world.Registry.GetGrantAsync(Dmp, "cohort", "u-mehdi-benali"))!.State);
        Assert.Equal(GrantState.Active, (await world.Registry.GetGrantAsync(Dmp, "cohort", "u-claire-dubois"))!.State);
    }

    private static readonly int[] BlobSizes = [100, 200, 300];

    private static DateTimeOffset Midnight(DateOnly date) => new(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>One isolated Gardien on the shared Azurite (<see cref="LocalAdaptersWorld"/>) with the retention tests' helpers.</summary>
    private sealed class LocalRetentionWorld(LocalAdaptersWorld local) : IAsyncDisposable
    {
        private readonly string _id = local.Id;

        public WorkflowTestEnvironment Host => local.Environment;

        public IReadOnlyList<Notification> Sent => local.Sent;

        public IGovernanceRegistry Registry => local.Registry;

        public IStorageProvisioner Storage => local.Storage;

        public IAuditLog Audit => local.Audit;

        public InboxReader Inbox => local.Inbox;

        public RetentionService Retention => local.Retention;

        public BlobServiceClient Blobs => local.Blobs;

        private IServiceProvider Services => local.Environment.Services;

        public static async Task<LocalRetentionWorld> StartAsync(AzuriteFixture azurite) =>
            new(await LocalAdaptersWorld.StartAsync(azurite));

        /// <summary>
        /// A provisioned dataset: its container (through the real provisioner) with three blobs, its DMP and dataset records.
        /// </summary>
        public async Task<DatasetRecord> ProvisionAsync(string dmpId, string datasetId, DateOnly keepUntil, DisposalAction disposal)
        {
            var container = $"ds-{_id}-{datasetId}";
            await Storage.EnsureContainerAsync(new ContainerSpec { Name = container, OwnerInstanceId = "e2e-setup" });
            var client = Blobs.GetBlobContainerClient(container);
            for (var i = 0; i < BlobSizes.Length; i++)
            {
                await client.UploadBlobAsync($"raw/file-{i + 1}.dat", BinaryData.FromBytes(new byte[BlobSizes[i]]));
            }

            await Registry.UpsertDmpAsync(new DmpRecord { DmpId = dmpId, State = DmpState.Active, ContactEmail = Pi, Title = "E2E study" });
            return await Registry.UpsertDatasetAsync(new DatasetRecord
            {
                DmpId = dmpId,
                DatasetId = datasetId,
                Container = container,
                State = DatasetState.Provisioned,
                KeepUntil = keepUntil,
                Disposal = disposal,
                Title = "Dataset " + datasetId,
            });
        }

        /// <summary>Grants access the way the intake does: the real grant activity on the local directory and registry.</summary>
        public async Task GrantAsync(DatasetRecord dataset, string email, AccessLevel level, DateOnly endsOn)
        {
            var activity = ActivatorUtilities.CreateInstance<GrantAccessActivity>(Services);
            var result = await activity.RunAsync(new TestActivityContext("e2e-grant"), new GrantAccessInput
            {
                DmpId = dataset.DmpId,
                DatasetId = dataset.DatasetId,
                Container = dataset.Container,
                Email = email,
                Level = level,
                EndsOn = level == AccessLevel.Owner ? null : endsOn,
                ApprovalIds = ["e2e-intake:steward"],
                At = WorkflowTestEnvironment.Epoch,
                Actor = "system:e2e",
            });
            Assert.NotNull(result.PrincipalId);
        }

        public async Task<IReadOnlyList<string>> GroupMembersAsync(string container, AccessLevel level)
        {
            var directory = Services.GetRequiredService<IDirectory>();
            var group = await directory.FindGroupAsync(AccessGroups.GroupName(container, level));
            return group is null ? [] : [.. (await directory.ListMembersAsync(group.Id)).Select(u => u.Id)];
        }

        /// <summary>Delivers a BlobCreated event per blob, as Event Grid would, and checks the index tags they got.</summary>
        public async Task TagThroughBlobEventsAsync(DatasetRecord dataset)
        {
            var client = Blobs.GetBlobContainerClient(dataset.Container);
            await foreach (var blob in client.GetBlobsAsync())
            {
                var created = new BlobEventInput(
                    "created-" + _id + "-" + blob.Name,
                    BlobEventKind.Created,
                    dataset.Container,
                    blob.Name,
                    blob.Properties.ETag?.ToString(),
                    blob.Properties.ContentLength,
                    WorkflowTestEnvironment.Epoch);
                var result = await HandleBlobEventAsync(created);
                Assert.Equal(BlobEventOutcome.Tagged, result.Outcome);
                var tags = (await client.GetBlobClient(blob.Name).GetTagsAsync()).Value.Tags;
                Assert.Equal(GovernanceMetadata.Date(dataset.KeepUntil!.Value), tags[GovernanceMetadata.KeepUntil]);
                Assert.True(tags.ContainsKey(GovernanceMetadata.DmpId) && tags.ContainsKey(GovernanceMetadata.DatasetId));
            }
        }

        public async Task<BlobEventResult> HandleBlobEventAsync(BlobEventInput blobEvent, string instanceSuffix = "")
        {
            var id = await Host.Client.ScheduleNewAsync(
                nameof(HandleBlobEventWorkflow), blobEvent, HandleBlobEventWorkflow.InstanceIdFor(blobEvent.EventId) + instanceSuffix);
            var done = await Host.RunToCompletionAsync(id);
            Assert.True(done.Status == WorkflowStatus.Completed, done.FailureDetails?.ToString());
            return done.ReadOutputAs<BlobEventResult>()!;
        }

        /// <summary>The manifest hash computed independently of the adapters: SHA-256 over sorted "name\tetag\n" lines.</summary>
        public async Task<string> ManifestHashFromAzuriteAsync(string container)
        {
            var lines = new List<(string Name, string ETag)>();
            await foreach (var blob in Blobs.GetBlobContainerClient(container).GetBlobsAsync())
            {
                lines.Add((blob.Name, blob.Properties.ETag!.Value.ToString()));
            }

            var text = string.Concat(lines.OrderBy(l => l.Name, StringComparer.Ordinal).Select(l => $"{l.Name}\t{l.ETag}\n"));
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        }

        public async Task<int> CountBlobsAsync(string container)
        {
            var count = 0;
            await foreach (var unused in Blobs.GetBlobContainerClient(container).GetBlobsAsync())
            {
                count++;
            }

            return count;
        }

        public async Task<IReadOnlyList<string>> AuditActionsAsync()
        {
            var actions = new List<string>();
            await foreach (var record in Audit.ReadAsync())
            {
                actions.Add(record.Entry.Action);
            }

            return actions;
        }

        public ValueTask DisposeAsync() => local.DisposeAsync();
    }
}
