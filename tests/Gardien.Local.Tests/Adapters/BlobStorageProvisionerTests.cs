using Azure.Storage.Blobs;
using Gardien.BlobStorage;
using Gardien.Testing;
using Gardien.Workflows.Ports;

namespace Gardien.Local.Tests.Adapters;

[Collection(AzuriteCollection.Name)]
public sealed class BlobStorageProvisionerTests(AzuriteFixture fixture)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private readonly BlobServiceClient _service = new(fixture.ConnectionString);

    private BlobStorageProvisioner Provisioner => new(_service);

    private static string NewName() => "ds-" + Guid.NewGuid().ToString("N")[..12];

    private async Task UploadAsync(string container, string name, string content) =>
        await _service.GetBlobContainerClient(container).GetBlobClient(name).UploadAsync(BinaryData.FromString(content), overwrite: true);

    [Fact]
    public async Task EnsureContainer_CalledTwice_CreatesOnceAndKeepsOwner()
    {
        var name = NewName();
        var spec = new ContainerSpec
        {
            Name = name,
            Metadata = new Dictionary<string, string> { ["dmp_id"] = "10.1234/abc" },
            OwnerInstanceId = "intake-1",
        };

        var first = await Provisioner.EnsureContainerAsync(spec);
        var retry = await Provisioner.EnsureContainerAsync(spec);
        var otherRun = await Provisioner.EnsureContainerAsync(spec with { OwnerInstanceId = "intake-2" });

        Assert.Equal(ProvisionOutcome.Created, first.Outcome);
        Assert.Equal(ProvisionOutcome.Created, retry.Outcome);
        Assert.Equal(ProvisionOutcome.AlreadyExisted, otherRun.Outcome);
        var info = await Provisioner.GetContainerAsync(name);
        Assert.Equal("intake-1", info!.OwnerInstanceId);
        Assert.Equal("10.1234/abc", info.Metadata["dmp_id"]);
        Assert.EndsWith("/" + name, first.Location.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Controls_ReportWhatIsOnlyRecorded_FromTheContainerItself()
    {
        var name = NewName();
        await Provisioner.EnsureContainerAsync(
            new ContainerSpec { Name = name, ImmutabilityDays = 30, EncryptionScope = "sensitive", QuotaBytes = 1000 });
        await Provisioner.SetLegalHoldAsync(name, "case42", hold: true);

        var controls = await Provisioner.GetControlsAsync(name);

        Assert.Contains(GovernanceFeatures.ContainerMetadata, controls.Enforced);
        Assert.Equal(
            [GovernanceFeatures.EncryptionScope, GovernanceFeatures.Immutability, GovernanceFeatures.LegalHold, GovernanceFeatures.Quota],
            controls.NotEnforced.Select(f => f.Feature).Order(StringComparer.Ordinal));
        Assert.True(controls.Hold is { LegalHold: true, PlatformEnforced: false });
        Assert.Null(controls.ImmutabilityDays);
        await Assert.ThrowsAsync<PortNotFoundException>(() => Provisioner.GetControlsAsync(NewName()));
    }

    [Fact]
    public async Task EnsureContainer_PlatformOnlyFeatures_AreReportedNotEnforcedAndRecorded()
    {
        var name = NewName();
        var spec = new ContainerSpec
        {
            Name = name,
            ImmutabilityDays = 3650,
            LegalHold = true,
            EncryptionScope = "health",
            QuotaBytes = 1_000_000,
            Tier = StorageTier.Cool,
            LifecycleRules = [new LifecycleRule("cool-after-30", TierToCoolAfterDays: 30)],
        };

        var result = await Provisioner.EnsureContainerAsync(spec);

        var notEnforced = result.NotEnforcedLocally.Select(f => f.Feature).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            GovernanceFeatures.Immutability, GovernanceFeatures.LegalHold, GovernanceFeatures.EncryptionScope,
            GovernanceFeatures.Quota, GovernanceFeatures.AccessTier, GovernanceFeatures.LifecyclePolicy,
        }, notEnforced);
        Assert.All(result.NotEnforcedLocally, f => Assert.False(string.IsNullOrWhiteSpace(f.Reason)));
        Assert.Contains(GovernanceFeatures.ContainerMetadata, result.EnforcedFeatures);
        var info = await Provisioner.GetContainerAsync(name);
        Assert.Equal("3650", info!.Metadata[ContainerMetadataKeys.ImmutabilityDays]);
        Assert.True(info.LegalHold);
    }

    [Fact]
    public async Task EnsureContainer_InvalidName_ThrowsNonTransientWithTheRule()
    {
        var ex = await Assert.ThrowsAsync<PortRefusedException>(
            () => Provisioner.EnsureContainerAsync(new ContainerSpec { Name = "Bad_Name" }));

        Assert.False(ex.IsTransient);
        Assert.Contains("lower-case", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetBlobTags_BlobOrContainerGone_IsThePortsNotFound()
    {
        var name = NewName();
        await Provisioner.EnsureContainerAsync(new ContainerSpec { Name = name });
        var tags = new Dictionary<string, string> { ["gardien_dmp"] = "dmp1" };

        var blobGone = await Assert.ThrowsAsync<PortNotFoundException>(() => Provisioner.SetBlobTagsAsync(name, "raw/deleted.csv", tags));
        var containerGone = await Assert.ThrowsAsync<PortNotFoundException>(
            () => Provisioner.SetBlobTagsAsync(NewName(), "raw/a.csv", tags));

        Assert.Contains("raw/deleted.csv", blobGone.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", containerGone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetBlobTags_SameTagsTwice_ChangesOnceAndIsFindableByTag()
    {
        var name = NewName();
        await Provisioner.EnsureContainerAsync(new ContainerSpec { Name = name });
        await UploadAsync(name, "raw/a.csv", "x,y\n1,2\n");
        var keepUntil = "2027-01-" + Random.Shared.Next(10, 28);
        var tags = new Dictionary<string, string> { ["gardien_dmp"] = "dmp1", ["gardien_keep_until"] = keepUntil, ["gardien_case"] = name };

        var first = await Provisioner.SetBlobTagsAsync(name, "raw/a.csv", tags);
        var second = await Provisioner.SetBlobTagsAsync(name, "raw/a.csv", tags);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Empty(first.NotEnforcedLocally);
        var listed = await Provisioner.ListBlobsAsync(name).ToListAsync();
        Assert.Equal(keepUntil, Assert.Single(listed).Tags["gardien_keep_until"]);
        var found = await Provisioner.FindBlobsByTagsAsync([
            new TagCondition("gardien_case", TagOperator.Equal, name),
            new TagCondition("gardien_keep_until", TagOperator.LessThanOrEqual, "2027-01-31"),
        ]).ToListAsync();
        var hit = Assert.Single(found);
        Assert.Equal(name, hit.Container);
        Assert.Equal("dmp1", hit.Tags["gardien_dmp"]);
    }

    [Fact]
    public async Task SetTier_Archive_MovesEveryBlobAndIsIdempotent()
    {
        var name = NewName();
        await Provisioner.EnsureContainerAsync(new ContainerSpec { Name = name });
        await UploadAsync(name, "a", "1");
        await UploadAsync(name, "b", "2");

        var first = await Provisioner.SetTierAsync(name, StorageTier.Archive);
        var second = await Provisioner.SetTierAsync(name, StorageTier.Archive);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.All(await Provisioner.ListBlobsAsync(name).ToListAsync(), b => Assert.Equal(StorageTier.Archive, b.Tier));
    }

    [Fact]
    public async Task DeleteContainerIfEmpty_OnlyDeletesEmptyContainersOfTheSameRun()
    {
        var empty = NewName();
        var full = NewName();
        await Provisioner.EnsureContainerAsync(new ContainerSpec { Name = empty, OwnerInstanceId = "run-1" });
        await Provisioner.EnsureContainerAsync(new ContainerSpec { Name = full, OwnerInstanceId = "run-1" });
        await UploadAsync(full, "data.bin", "precious");

        Assert.Equal(ContainerDeletionOutcome.NotOwned, await Provisioner.DeleteContainerIfEmptyAsync(empty, "run-2"));
        Assert.Equal(ContainerDeletionOutcome.NotEmpty, await Provisioner.DeleteContainerIfEmptyAsync(full, "run-1"));
        Assert.Equal(ContainerDeletionOutcome.Deleted, await Provisioner.DeleteContainerIfEmptyAsync(empty, "run-1"));
        Assert.Equal(ContainerDeletionOutcome.NotFound, await Provisioner.DeleteContainerIfEmptyAsync(empty, "run-1"));
        Assert.NotNull(await Provisioner.GetContainerAsync(full));
    }

    [Fact]
    public async Task Purge_RefusesUnmarkedEarlyOrHeldContainers_ThenPurgesOnceWithAManifest()
    {
        var name = NewName();
        await Provisioner.EnsureContainerAsync(new ContainerSpec { Name = name });
        await UploadAsync(name, "a.txt", "hello");
        await UploadAsync(name, "b.txt", "world!");
        var manifestBefore = await Provisioner.ComputeManifestAsync(name);

        Assert.Equal(PurgeOutcome.NotMarked, (await Provisioner.PurgeAsync(name, Now)).Outcome);

        var mark = await Provisioner.MarkForDeletionAsync(name, Now.AddDays(30), "retention ended");
        var remark = await Provisioner.MarkForDeletionAsync(name, Now.AddDays(1), "again, earlier");
        Assert.True(mark.Changed);
        Assert.False(remark.Changed);
        Assert.Contains(mark.NotEnforcedLocally, f => f.Feature == GovernanceFeatures.SoftDelete);
        Assert.Equal(Now.AddDays(30), (await Provisioner.GetContainerAsync(name))!.DeletionMark!.PurgeNotBefore);

        Assert.Equal(PurgeOutcome.GracePeriodNotOver, (await Provisioner.PurgeAsync(name, Now.AddDays(29))).Outcome);

        await Provisioner.SetLegalHoldAsync(name, "lawsuit42", hold: true);
        Assert.Equal(PurgeOutcome.UnderLegalHold, (await Provisioner.PurgeAsync(name, Now.AddDays(31))).Outcome);
        Assert.Equal(2, (await Provisioner.ListBlobsAsync(name).ToListAsync()).Count);
        await Provisioner.SetLegalHoldAsync(name, "lawsuit42", hold: false);

        var purged = await Provisioner.PurgeAsync(name, Now.AddDays(31));
        var again = await Provisioner.PurgeAsync(name, Now.AddDays(32));

        Assert.Equal(PurgeOutcome.Purged, purged.Outcome);
        Assert.Equal(manifestBefore, purged.Manifest);
        Assert.Equal(2, purged.Manifest!.BlobCount);
        Assert.Equal(11, purged.Manifest.TotalBytes);
        Assert.Equal(PurgeOutcome.AlreadyGone, again.Outcome);
        Assert.Null(await Provisioner.GetContainerAsync(name));
    }

    [Fact]
    public async Task MarkForDeletion_UnderLegalHold_IsRefused()
    {
        var name = NewName();
        await Provisioner.EnsureContainerAsync(new ContainerSpec { Name = name });
        var hold = await Provisioner.SetLegalHoldAsync(name, "audit2026", hold: true);
        var holdAgain = await Provisioner.SetLegalHoldAsync(name, "audit2026", hold: true);

        var ex = await Assert.ThrowsAsync<PortRefusedException>(() => Provisioner.MarkForDeletionAsync(name, Now, "retention ended"));

        Assert.True(hold.Changed);
        Assert.False(holdAgain.Changed);
        Assert.Contains(hold.NotEnforcedLocally, f => f.Feature == GovernanceFeatures.LegalHold);
        Assert.Contains("legal hold", ex.Message, StringComparison.Ordinal);
        var status = await Provisioner.GetHoldStatusAsync(name);
        Assert.True(status.LegalHold);
        Assert.False(status.PlatformEnforced);
        Assert.Equal(["audit2026"], status.HoldTags);
    }

    [Fact]
    public async Task UnmarkForDeletion_CancelsTheMark()
    {
        var name = NewName();
        await Provisioner.EnsureContainerAsync(new ContainerSpec { Name = name });
        await Provisioner.MarkForDeletionAsync(name, Now, "retention ended");

        var unmark = await Provisioner.UnmarkForDeletionAsync(name);

        Assert.True(unmark.Changed);
        Assert.Null((await Provisioner.GetContainerAsync(name))!.DeletionMark);
        Assert.Equal(PurgeOutcome.NotMarked, (await Provisioner.PurgeAsync(name, Now.AddYears(1))).Outcome);
    }

    [Fact]
    public async Task SetContainerMetadata_MergesAndRemovesKeys()
    {
        var name = NewName();
        await Provisioner.EnsureContainerAsync(
            new ContainerSpec { Name = name, Metadata = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } });

        var changed = await Provisioner.SetContainerMetadataAsync(name, new Dictionary<string, string?> { ["a"] = "10", ["b"] = null });
        var unchanged = await Provisioner.SetContainerMetadataAsync(name, new Dictionary<string, string?> { ["a"] = "10" });

        Assert.True(changed.Changed);
        Assert.False(unchanged.Changed);
        var metadata = (await Provisioner.GetContainerAsync(name))!.Metadata;
        Assert.Equal("10", metadata["a"]);
        Assert.False(metadata.ContainsKey("b"));
    }

    [Fact]
    public void ContainerManifest_IsIndependentOfListingOrder()
    {
        var a = new StoredBlob("a", "\"e1\"", 3, new Dictionary<string, string>(), null, null);
        var b = new StoredBlob("b", "\"e2\"", 4, new Dictionary<string, string>(), null, null);

        Assert.Equal(ContainerManifest.Compute("c", [a, b]), ContainerManifest.Compute("c", [b, a]));
        Assert.NotEqual(
            ContainerManifest.Compute("c", [a, b]).ManifestSha256,
            ContainerManifest.Compute("c", [a, b with { ETag = "\"e3\"" }]).ManifestSha256);
    }
}
