using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Tests.Workflows;
using Moq;

namespace Gardien.Workflows.Tests.Provisioning;

/// <summary>
/// Provisioning records the controls the store reports in force (read back after the change, never copied from the
/// plan), and immutability is locked on its lock day: at provisioning when it has come, else by the daily lock round.
/// </summary>
public sealed class ContainerControlsTests
{
    private static readonly DateTimeOffset Monday = new(2030, 3, 4, 9, 0, 0, TimeSpan.Zero);

    private readonly Dictionary<(string, string), DatasetRecord> _datasets = [];
    private readonly List<ContainerSpec> _specs = [];
    private readonly List<string> _lockCalls = [];
    private readonly List<AuditEntry> _audit = [];
    private readonly HashSet<string> _lockedContainers = [];
    private readonly Mock<IGovernanceRegistry> _registry = new();
    private readonly Mock<IStorageProvisioner> _storage = new();
    private readonly Mock<IAuditLog> _auditLog = new();

    public ContainerControlsTests()
    {
        _registry.Setup(r => r.GetDatasetAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, string s, CancellationToken _) => _datasets.GetValueOrDefault((d, s)));
        _registry.Setup(r => r.UpsertDatasetAsync(It.IsAny<DatasetRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DatasetRecord r, CancellationToken _) => _datasets[(r.DmpId, r.DatasetId)] = r);
        _registry.Setup(r => r.ListDmpsAsync(DmpState.Active, It.IsAny<CancellationToken>()))
            .ReturnsAsync(
                () => [.. _datasets.Values.Select(d => d.DmpId).Distinct()
                    .Select(id => new DmpRecord { DmpId = id, State = DmpState.Active })]);
        _registry.Setup(r => r.ListDatasetsAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string d, CancellationToken _) => [.. _datasets.Values.Where(r => r.DmpId == d)]);
        _storage.Setup(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((ContainerSpec spec, CancellationToken _) =>
            {
                _specs.Add(spec);
                if (spec.LockImmutability)
                {
                    _lockedContainers.Add(spec.Name);
                }

                return new ProvisionResult(
                    spec.Name,
                    ProvisionOutcome.Created,
                    new Uri("https://store.test/" + spec.Name),
                    [GovernanceFeatures.ContainerMetadata],
                    []);
            });
        _storage.Setup(s => s.LockImmutabilityAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) =>
            {
                _lockCalls.Add(c);
                return new OperationResult(_lockedContainers.Add(c), []);
            });
        _storage.Setup(s => s.GetControlsAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string c, CancellationToken _) => new ContainerControls(
                c, [GovernanceFeatures.ContainerMetadata, GovernanceFeatures.Immutability], [], new HoldStatus(false, [], null, true))
            {
                ImmutabilityDays = 3650,
                ImmutabilityLocked = _lockedContainers.Contains(c),
            });
        _auditLog.Setup(a => a.AppendAsync(It.IsAny<AuditEntry>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((AuditEntry e, CancellationToken _) =>
            {
                _audit.Add(e);
                return new AuditReceipt(_audit.Count, "h", "l", false);
            });
    }

    private static ProvisionContainerInput Input(
        string dataset,
        int? lockAfterDays,
        DateTimeOffset at,
        int? immutabilityDays = 3650) => new()
        {
            DmpId = "dmp-1",
            DatasetId = dataset,
            Container = "gdn-" + dataset,
            ImmutabilityDays = immutabilityDays,
            LockImmutabilityAfterDays = lockAfterDays,
            Classification = "Restricted",
            At = at,
            Actor = "system:test",
        };

    private Task<ProvisionedContainer> ProvisionAsync(ProvisionContainerInput input) =>
        new ProvisionContainerActivity(_storage.Object, _registry.Object, _auditLog.Object).RunAsync(
            new TestActivityContext("intake-1"), input);

    private Task<LockDueImmutabilityResult> LockRoundAsync(DateTimeOffset at) =>
        new LockDueImmutabilityActivity(_registry.Object, _storage.Object, _auditLog.Object)
            .RunAsync(
                new TestActivityContext("retention-sweep"),
                new LockDueImmutabilityInput(DateOnly.FromDateTime(at.UtcDateTime), at, "system:sweep"));

    [Fact]
    public async Task Provision_RecordsTheControlsTheStoreReportsAfterwards_OnTheDatasetAndInTheOutput()
    {
        var provisioned = await ProvisionAsync(Input("raw", lockAfterDays: null, Monday));

        var record = _datasets[("dmp-1", "raw")];
        Assert.Equal([GovernanceFeatures.ContainerMetadata, GovernanceFeatures.Immutability], record.Controls!.Enforced);
        Assert.Equal(3650, record.Controls.ImmutabilityDays);
        Assert.Equal(Monday, record.ControlsReadAt);
        Assert.Same(provisioned.Controls, record.Controls);
        Assert.False(Assert.Single(_specs).LockImmutability);
        Assert.Null(record.ImmutabilityLockDue);
        Assert.Contains(_audit, e => e.Action == "container.provisioned");
    }

    [Fact]
    public async Task Provision_LockAfterZeroDays_LocksAtProvisioning()
    {
        await ProvisionAsync(Input("raw", lockAfterDays: 0, Monday));

        Assert.True(Assert.Single(_specs).LockImmutability);
        Assert.True(_datasets[("dmp-1", "raw")].Controls!.ImmutabilityLocked);
        Assert.Equal(new DateOnly(2030, 3, 4), _datasets[("dmp-1", "raw")].ImmutabilityLockDue);
    }

    [Fact]
    public async Task Provision_LockAfterThirtyDays_StaysUnlocked_ThenTheLockRoundLocksOnTheDayAndOnlyOnce()
    {
        await ProvisionAsync(Input("raw", lockAfterDays: 30, Monday));
        var early = await LockRoundAsync(Monday.AddDays(29));
        var onTheDay = await LockRoundAsync(Monday.AddDays(30));
        var later = await LockRoundAsync(Monday.AddDays(31));

        Assert.False(Assert.Single(_specs).LockImmutability);
        Assert.Equal(new DateOnly(2030, 4, 3), _datasets[("dmp-1", "raw")].ImmutabilityLockDue);
        Assert.Empty(early.Locked);
        Assert.Equal(["gdn-raw"], onTheDay.Locked);
        Assert.Empty(later.Locked);
        Assert.Equal(["gdn-raw"], _lockCalls);
        Assert.True(_datasets[("dmp-1", "raw")].Controls!.ImmutabilityLocked);
        Assert.Single(_audit, e => e.Action == "container.immutability_locked");
    }

    [Fact]
    public async Task Reprovisioning_KeepsTheFirstLockDay_AndLocksOnceItHasCome()
    {
        await ProvisionAsync(Input("raw", lockAfterDays: 30, Monday));
        await ProvisionAsync(Input("raw", lockAfterDays: 30, Monday.AddDays(10)));
        await ProvisionAsync(Input("raw", lockAfterDays: 30, Monday.AddDays(45)));

        Assert.Equal([false, false, true], _specs.Select(s => s.LockImmutability));
        Assert.Equal(new DateOnly(2030, 4, 3), _datasets[("dmp-1", "raw")].ImmutabilityLockDue);
    }

    [Fact]
    public async Task LockRound_StoreThatCannotLock_IsRecordedOnce_AndAFailureDoesNotStopTheOthers()
    {
        await ProvisionAsync(Input("a-local", lockAfterDays: 1, Monday));
        await ProvisionAsync(Input("b-failing", lockAfterDays: 1, Monday));
        await ProvisionAsync(Input("c-azure", lockAfterDays: 1, Monday));
        _storage.Setup(s => s.LockImmutabilityAsync("gdn-a-local", It.IsAny<CancellationToken>()))
            .Callback(() => _lockCalls.Add("gdn-a-local"))
            .ReturnsAsync(new OperationResult(false, [new NotEnforcedFeature(GovernanceFeatures.Immutability, "no immutability here")]));
        _storage.Setup(s => s.GetControlsAsync("gdn-a-local", It.IsAny<CancellationToken>()))
            .ReturnsAsync(
                new ContainerControls(
                    "gdn-a-local",
                    [GovernanceFeatures.ContainerMetadata],
                    [new NotEnforcedFeature(GovernanceFeatures.Immutability, "no immutability here")],
                    new HoldStatus(false, [], null, false)));
        _storage.Setup(s => s.LockImmutabilityAsync("gdn-b-failing", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new PortException("ARM answered 503", isTransient: true));

        var first = await LockRoundAsync(Monday.AddDays(1));
        var second = await LockRoundAsync(Monday.AddDays(2));

        Assert.Equal(["gdn-c-azure"], first.Locked);
        Assert.Equal(["gdn-a-local"], first.NotEnforced);
        Assert.StartsWith("gdn-b-failing: ARM answered 503", Assert.Single(first.Failed), StringComparison.Ordinal);
        Assert.Empty(second.NotEnforced);
        Assert.Single(second.Failed);
        Assert.Single(_lockCalls, c => c == "gdn-a-local");
        Assert.Single(_audit, e => e.Action == "container.immutability_lock_not_enforced");
    }

    [Fact]
    public async Task Provision_WithoutImmutability_HasNoLockDay_EvenWhenThePolicyLocks()
    {
        await ProvisionAsync(Input("derived", lockAfterDays: 0, Monday, immutabilityDays: null));

        Assert.False(Assert.Single(_specs).LockImmutability);
        Assert.Null(_datasets[("dmp-1", "derived")].ImmutabilityLockDue);
        Assert.Empty((await LockRoundAsync(Monday.AddDays(400))).Locked);
    }
}
