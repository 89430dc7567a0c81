using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Gardien.Azure.Arm;
using Gardien.Azure.Storage;
using Gardien.Azure.Tests.Fakes;
using Gardien.BlobStorage;
using Gardien.Testing;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace Gardien.Azure.Tests.Storage;

/// <summary>The Azure provisioner: the Blob data plane on Azurite, the management plane on a fake ARM.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStorageProvisionerTests : IDisposable
{
    private readonly FakeStorageArm _arm = new();
    private readonly BlobServiceClient _blobs;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly List<DatasetRecord> _datasets = [];
    private readonly string _container = "gardien-" + Guid.NewGuid().ToString("N")[..12];

    public AzureStorageProvisionerTests(AzuriteFixture azurite)
    {
        ArgumentNullException.ThrowIfNull(azurite);
        _blobs = new BlobServiceClient(azurite.ConnectionString);
    }

    public void Dispose() => _arm.Dispose();

    private ResearchStorageOptions Options(int? cool = null, int? archive = null)
    {
        var options = _arm.Arm.Options;
        options.TierToCoolAfterDays = cool;
        options.TierToArchiveAfterDays = archive;
        return options;
    }

    private (AzureStorageProvisioner Provisioner, LifecyclePolicySync Lifecycle) Create(int? cool = null, int? archive = null)
    {
        var registry = new Mock<IGovernanceRegistry>(MockBehavior.Strict);
        registry.Setup(r => r.ListDmpsAsync(null, It.IsAny<CancellationToken>()))
            .ReturnsAsync(
                () => [.. _datasets.Select(d => d.DmpId).Distinct().Select(id => new DmpRecord { DmpId = id, State = DmpState.Active })]);
        registry.Setup(r => r.ListDatasetsAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string dmpId, CancellationToken _) => [.. _datasets.Where(d => d.DmpId == dmpId)]);
        var options = Options(cool, archive);
        var controls = new StorageAccountControls(options, new FixedTokenCredential(), _arm.Arm.ClientOptions());
        var dataPlane = new BlobStorageProvisioner(_blobs);
        var lifecycle = new LifecyclePolicySync(controls, registry.Object, dataPlane, options, _time);
        return (new AzureStorageProvisioner(dataPlane, controls, lifecycle, _time), lifecycle);
    }

    private ContainerSpec Spec(string? scope = null, int? immutability = null, bool locked = false) => new()
    {
        Name = _container,
        Metadata = new Dictionary<string, string> { ["gardien_dmp_id"] = "dmp1" },
        EncryptionScope = scope,
        ImmutabilityDays = immutability,
        LockImmutability = locked,
        OwnerInstanceId = "intake-1",
    };

    private IEnumerable<WireMock.Logging.ILogEntry> WritesTo(string suffix) =>
        _arm.Writes.Where(w => w.RequestMessage.Path.EndsWith(suffix, StringComparison.Ordinal));

    [Fact]
    public async Task Ensure_SensitiveRawDataset_CreatesScopeAndUnlockedImmutability_ReportsWhatAzureEnforces()
    {
        var (provisioner, _) = Create();
        _arm.Containers[_container] = new FakeStorageArm.ContainerRecord { DefaultEncryptionScope = "sensitive", DenyOverride = true };

        var result = await provisioner.EnsureContainerAsync(Spec(scope: "sensitive", immutability: 30));

        Assert.Equal(ProvisionOutcome.Created, result.Outcome);
        Assert.Contains(GovernanceFeatures.EncryptionScope, result.EnforcedFeatures);
        Assert.Contains(GovernanceFeatures.Immutability, result.EnforcedFeatures);
        Assert.Contains(GovernanceFeatures.ContainerMetadata, result.EnforcedFeatures);
        Assert.DoesNotContain(
            result.NotEnforcedLocally, f => f.Feature is GovernanceFeatures.EncryptionScope or GovernanceFeatures.Immutability);
        var scope = Assert.Single(WritesTo("/encryptionScopes/sensitive")).RequestMessage;
        Assert.Equal("PUT", scope.Method);
        Assert.Equal("2023-05-01", scope.Query!["api-version"].Single());
        Assert.Equal("Microsoft.Storage", JsonNode.Parse(scope.Body!)!["properties"]!["source"]!.GetValue<string>());
        var policy = Assert.Single(WritesTo("/immutabilityPolicies/default")).RequestMessage;
        Assert.Equal("PUT", policy.Method);
        Assert.Equal(30, JsonNode.Parse(policy.Body!)!["properties"]!["immutabilityPeriodSinceCreationInDays"]!.GetValue<int>());
        Assert.False(policy.Headers!.ContainsKey("If-Match"));
        Assert.Equal("Bearer test-token", policy.Headers!["Authorization"].Single());
        Assert.Equal("Unlocked", _arm.Containers[_container].ImmutabilityState);
        Assert.True((await _blobs.GetBlobContainerClient(_container).ExistsAsync()).Value);
    }

    [Fact]
    public async Task Ensure_SecondCall_ChangesNothingInAzure()
    {
        var (provisioner, _) = Create(cool: 30, archive: 180);
        _arm.Containers[_container] = new FakeStorageArm.ContainerRecord { DefaultEncryptionScope = "sensitive", DenyOverride = true };
        await provisioner.EnsureContainerAsync(Spec(scope: "sensitive", immutability: 30, locked: true));
        var writes = _arm.Writes.Count;

        var second = await provisioner.EnsureContainerAsync(Spec(scope: "sensitive", immutability: 30, locked: true));

        Assert.Equal(writes, _arm.Writes.Count);
        Assert.Equal(ProvisionOutcome.Created, second.Outcome);
        Assert.Contains(GovernanceFeatures.LifecyclePolicy, second.EnforcedFeatures);
    }

    [Fact]
    public async Task Ensure_LockRequested_LocksThePolicyWithItsETag()
    {
        var (provisioner, _) = Create();

        var result = await provisioner.EnsureContainerAsync(Spec(immutability: 30, locked: true));

        var put = Assert.Single(WritesTo("/immutabilityPolicies/default")).RequestMessage;
        var lockCall = Assert.Single(WritesTo("/immutabilityPolicies/default/lock")).RequestMessage;
        Assert.True(put.DateTime <= lockCall.DateTime);
        Assert.Equal("\"2\"", _arm.Containers[_container].ImmutabilityETag);
        Assert.Equal("\"1\"", lockCall.Headers!["If-Match"].Single());
        Assert.Equal("Locked", _arm.Containers[_container].ImmutabilityState);
        Assert.DoesNotContain(result.NotEnforcedLocally, f => f.Feature == GovernanceFeatures.Immutability);
    }

    [Fact]
    public async Task LockImmutability_LaterThanProvisioning_LocksTheExistingPolicyOnce_AndRefusesAContainerWithout()
    {
        var (provisioner, _) = Create();
        await provisioner.EnsureContainerAsync(Spec(immutability: 30));

        var first = await provisioner.LockImmutabilityAsync(_container);
        var second = await provisioner.LockImmutabilityAsync(_container);
        var controls = await provisioner.GetControlsAsync(_container);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Single(WritesTo("/immutabilityPolicies/default/lock"));
        Assert.True(controls.ImmutabilityLocked);
        Assert.Equal(30, controls.ImmutabilityDays);
        _arm.Containers["gardien-no-policy"] = new FakeStorageArm.ContainerRecord();
        await Assert.ThrowsAsync<PortRefusedException>(() => provisioner.LockImmutabilityAsync("gardien-no-policy"));
    }

    [Fact]
    public async Task Ensure_LongerPeriodOnALockedPolicy_ExtendsIt_AShorterOneChangesNothing()
    {
        var (provisioner, _) = Create();
        _arm.Containers[_container] = new FakeStorageArm.ContainerRecord
        {
            ImmutabilityDays = 10,
            ImmutabilityState = "Locked",
            ImmutabilityETag = "\"e7\"",
        };

        await provisioner.EnsureContainerAsync(Spec(immutability: 30));
        var writes = _arm.Writes.Count;
        var shorter = await provisioner.EnsureContainerAsync(Spec(immutability: 5));

        var extend = Assert.Single(WritesTo("/immutabilityPolicies/default/extend")).RequestMessage;
        Assert.Equal("\"e7\"", extend.Headers!["If-Match"].Single());
        Assert.Equal(30, _arm.Containers[_container].ImmutabilityDays);
        Assert.Equal(writes, _arm.Writes.Count);
        Assert.Contains(GovernanceFeatures.Immutability, shorter.EnforcedFeatures);
    }

    [Fact]
    public async Task Ensure_ContainerWithoutItsScope_ReportsEncryptionScopeNotEnforcedAndWhy()
    {
        var (provisioner, _) = Create();

        var result = await provisioner.EnsureContainerAsync(Spec(scope: "sensitive"));

        var feature = Assert.Single(result.NotEnforcedLocally, f => f.Feature == GovernanceFeatures.EncryptionScope);
        Assert.Contains("fixed when a container is created", feature.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(GovernanceFeatures.EncryptionScope, result.EnforcedFeatures);
    }

    [Fact]
    public async Task LegalHold_SetInAzureAndRecorded_ReadBack_BlocksDisposal_ThenClears()
    {
        var (provisioner, _) = Create();
        await provisioner.EnsureContainerAsync(Spec());

        var set = await provisioner.SetLegalHoldAsync(_container, "case42", hold: true);
        var again = await provisioner.SetLegalHoldAsync(_container, "case42", hold: true);
        var status = await provisioner.GetHoldStatusAsync(_container);
        var mark = provisioner.MarkForDeletionAsync(_container, _time.GetUtcNow(), "test");
        var purge = await provisioner.PurgeAsync(_container, _time.GetUtcNow());
        var cleared = await provisioner.SetLegalHoldAsync(_container, "case42", hold: false);
        var after = await provisioner.GetHoldStatusAsync(_container);

        Assert.True(set.Changed);
        Assert.Empty(set.NotEnforcedLocally);
        Assert.False(again.Changed);
        Assert.True(status is { LegalHold: true, PlatformEnforced: true, ImmutableUntil: null });
        Assert.Equal(["case42"], status.HoldTags);
        await Assert.ThrowsAsync<PortRefusedException>(() => mark);
        Assert.Equal(PurgeOutcome.UnderLegalHold, purge.Outcome);
        Assert.True(cleared.Changed);
        Assert.False(after.LegalHold);
        var holdCalls = _arm.Writes.Where(w => w.RequestMessage.Path.EndsWith("LegalHold", StringComparison.Ordinal))
            .Select(w => w.RequestMessage)
            .ToList();
        Assert.Equal(["setLegalHold", "clearLegalHold"], holdCalls.Select(c => c.Path.Split('/')[^1]));
        Assert.All(holdCalls, c => Assert.Equal("case42", JsonNode.Parse(c.Body!)!["tags"]![0]!.GetValue<string>()));
    }

    [Fact]
    public async Task HoldPlacedInThePortal_IsReadBackFromAzure_AndPurgeDeletesNothing()
    {
        var (provisioner, _) = Create();
        await provisioner.EnsureContainerAsync(Spec());
        await _blobs.GetBlobContainerClient(_container).UploadBlobAsync("a.csv", BinaryData.FromString("x"));
        await provisioner.MarkForDeletionAsync(_container, _time.GetUtcNow().AddDays(-1), "test");
        _arm.Containers[_container].HoldTags.Add("audit2026");

        var status = await provisioner.GetHoldStatusAsync(_container);
        var purge = await provisioner.PurgeAsync(_container, _time.GetUtcNow());

        Assert.True(status.LegalHold);
        Assert.Equal(["audit2026"], status.HoldTags);
        Assert.Equal(PurgeOutcome.UnderLegalHold, purge.Outcome);
        Assert.True((await _blobs.GetBlobContainerClient(_container).GetBlobClient("a.csv").ExistsAsync()).Value);
    }

    [Fact]
    public async Task Purge_BlobsStillUnderImmutability_DeletesNothingAndSaysUntilWhen()
    {
        var (provisioner, _) = Create();
        await provisioner.EnsureContainerAsync(Spec(immutability: 30));
        await _blobs.GetBlobContainerClient(_container).UploadBlobAsync("a.csv", BinaryData.FromString("x"));
        await provisioner.MarkForDeletionAsync(_container, DateTimeOffset.UtcNow.AddDays(-1), "test");

        var purge = await provisioner.PurgeAsync(_container, DateTimeOffset.UtcNow);

        Assert.Equal(PurgeOutcome.GracePeriodNotOver, purge.Outcome);
        Assert.Contains("30-day immutability", purge.Detail, StringComparison.Ordinal);
        Assert.True((await _blobs.GetBlobContainerClient(_container).GetBlobClient("a.csv").ExistsAsync()).Value);
    }

    [Fact]
    public async Task Ensure_WithTieringConfigured_AddsTheContainerToGardiensRule_KeepsForeignRules()
    {
        var (provisioner, _) = Create(cool: 30, archive: 180);
        var foreign = new JsonObject
        {
            ["enabled"] = true,
            ["name"] = "logsCleanup",
            ["type"] = "Lifecycle",
            ["definition"] = new JsonObject
            {
                ["filters"] = new JsonObject { ["blobTypes"] = new JsonArray("blockBlob"), ["prefixMatch"] = new JsonArray("logs/") },
                ["actions"] = new JsonObject
                {
                    ["baseBlob"] = new JsonObject { ["delete"] = new JsonObject { ["daysAfterModificationGreaterThan"] = 7 } },
                },
            },
        };
        _arm.LifecycleRules = [foreign.DeepClone()];

        var result = await provisioner.EnsureContainerAsync(Spec());

        Assert.Contains(GovernanceFeatures.LifecyclePolicy, result.EnforcedFeatures);
        var rules = _arm.LifecycleRules!.OfType<JsonObject>().ToList();
        Assert.Contains(rules, r => JsonNode.DeepEquals(r, foreign));
        var ours = Assert.Single(rules, r => r["name"]!.GetValue<string>().StartsWith("gardientier", StringComparison.Ordinal));
        Assert.Equal($"{_container}/", ours["definition"]!["filters"]!["prefixMatch"]![0]!.GetValue<string>());
        var baseBlob = ours["definition"]!["actions"]!["baseBlob"]!;
        Assert.Equal(30, baseBlob["tierToCool"]!["daysAfterModificationGreaterThan"]!.GetValue<int>());
        Assert.Equal(180, baseBlob["tierToArchive"]!["daysAfterModificationGreaterThan"]!.GetValue<int>());
        Assert.Null(baseBlob["delete"]);
    }

    [Fact]
    public async Task LifecycleSync_DeletesOnlyApprovedDueUnheldDatasets_ByTheirKeepUntilTag()
    {
        var (provisioner, lifecycle) = Create();
        var keepUntil = new DateOnly(2026, 3, 31);
        var names = new[] { "due", "held", "notmarked", "grace" }.Select(n => $"{_container[..20]}-{n}").ToArray();
        foreach (var name in names)
        {
            await provisioner.EnsureContainerAsync(Spec() with { Name = name });
        }

        await provisioner.MarkForDeletionAsync(names[0], _time.GetUtcNow().AddDays(-1), "retention");
        await provisioner.MarkForDeletionAsync(names[1], _time.GetUtcNow().AddDays(-1), "retention");
        await provisioner.MarkForDeletionAsync(names[3], _time.GetUtcNow().AddDays(10), "retention");
        _datasets.Add(
            new DatasetRecord
            {
                DmpId = "dmp1",
                DatasetId = "a",
                Container = names[0],
                State = DatasetState.MarkedForDeletion,
                KeepUntil = keepUntil,
            });
        _datasets.Add(
            new DatasetRecord
            {
                DmpId = "dmp1",
                DatasetId = "b",
                Container = names[1],
                State = DatasetState.MarkedForDeletion,
                KeepUntil = keepUntil,
                LegalHold = true,
            });
        _datasets.Add(
            new DatasetRecord
            {
                DmpId = "dmp2",
                DatasetId = "c",
                Container = names[2],
                State = DatasetState.Provisioned,
                KeepUntil = keepUntil,
            });
        _datasets.Add(
            new DatasetRecord
            {
                DmpId = "dmp2",
                DatasetId = "d",
                Container = names[3],
                State = DatasetState.MarkedForDeletion,
                KeepUntil = keepUntil,
            });

        var first = await lifecycle.SyncAsync();
        var second = await lifecycle.SyncAsync();

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        var rule = Assert.Single(_arm.LifecycleRules!.OfType<JsonObject>());
        Assert.StartsWith("gardiendelete20260331", rule["name"]!.GetValue<string>(), StringComparison.Ordinal);
        var filters = rule["definition"]!["filters"]!;
        Assert.Equal([$"{names[0]}/"], filters["prefixMatch"]!.AsArray().Select(p => p!.GetValue<string>()));
        var match = Assert.Single(filters["blobIndexMatch"]!.AsArray())!;
        Assert.Equal(
            ("gardien_keep_until", "==", "2026-03-31"),
            (match["name"]!.GetValue<string>(), match["op"]!.GetValue<string>(), match["value"]!.GetValue<string>()));
        Assert.NotNull(rule["definition"]!["actions"]!["baseBlob"]!["delete"]);
    }

    [Fact]
    public async Task LifecycleSync_NothingToDo_RemovesGardiensRulesOnly()
    {
        var (_, lifecycle) = Create();
        _arm.LifecycleRules = [new JsonObject
        {
            ["enabled"] = true,
            ["name"] = "gardientierold",
            ["type"] = "Lifecycle",
            ["definition"] = new JsonObject(),
        }];

        var result = await lifecycle.SyncAsync();

        Assert.True(result.Changed);
        Assert.Null(_arm.LifecycleRules);
        Assert.Single(WritesTo("/managementPolicies/default"), w => w.RequestMessage.Method == "DELETE");
    }

    [Fact]
    public async Task Controls_AreReadBackFromAzure()
    {
        var (provisioner, _) = Create(cool: 30);
        _arm.Containers[_container] = new FakeStorageArm.ContainerRecord { DefaultEncryptionScope = "sensitive", DenyOverride = true };
        await provisioner.EnsureContainerAsync(Spec(scope: "sensitive", immutability: 30, locked: true));
        await provisioner.SetLegalHoldAsync(_container, "case42", hold: true);

        var controls = await provisioner.GetControlsAsync(_container);

        Assert.Equal(30, controls.ImmutabilityDays);
        Assert.True(controls.ImmutabilityLocked);
        Assert.Equal("sensitive", controls.EncryptionScope);
        Assert.Single(controls.LifecycleRules);
        Assert.True(controls.Hold is { LegalHold: true, PlatformEnforced: true });
        foreach (var feature in new[]
        {
            GovernanceFeatures.Immutability,
            GovernanceFeatures.EncryptionScope,
            GovernanceFeatures.LegalHold,
            GovernanceFeatures.LifecyclePolicy,
            GovernanceFeatures.ContainerMetadata,
        })
        {
            Assert.Contains(feature, controls.Enforced);
        }

        Assert.DoesNotContain(
            controls.NotEnforced,
            f => f.Feature is GovernanceFeatures.Immutability or GovernanceFeatures.EncryptionScope or GovernanceFeatures.LegalHold);
    }

    [Fact]
    public async Task Ensure_IdentityLacksTheManagementRole_IsRefusedNamingTheRole()
    {
        var (provisioner, _) = Create();
        _arm.Arm.Reply("GET", $"{FakeArm.AccountId}/encryptionScopes/sensitive", 403, FakeArm.Error("AuthorizationFailed"));

        var ex = await Assert.ThrowsAsync<PortRefusedException>(() => provisioner.EnsureContainerAsync(Spec(scope: "sensitive")));

        Assert.Contains("Storage Account Contributor", ex.Message, StringComparison.Ordinal);
    }
}
