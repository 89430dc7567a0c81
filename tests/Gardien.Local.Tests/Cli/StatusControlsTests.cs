using Gardien.Cli;
using Gardien.Workflows.Ports;

namespace Gardien.Local.Tests.Cli;

public sealed class StatusControlsTests
{
    private static DatasetRecord Dataset(ContainerControls? controls, DateOnly? lockDue = null) => new()
    {
        DmpId = "dmp-1",
        DatasetId = "raw",
        Container = "gdn-raw",
        State = DatasetState.Provisioned,
        Controls = controls,
        ImmutabilityLockDue = lockDue,
    };

    [Fact]
    public void Status_ShowsWhatTheStoreEnforces_TheLockDay_AndWhatIsNotEnforced()
    {
        var controls = new ContainerControls(
            "gdn-raw",
            [GovernanceFeatures.ContainerMetadata, GovernanceFeatures.Immutability],
            [new NotEnforcedFeature(GovernanceFeatures.LegalHold, "recorded only")],
            new HoldStatus(false, [], null, true))
        { ImmutabilityDays = 3650 };

        var text = LocalHostViews.DescribeControls(Dataset(controls, new DateOnly(2030, 4, 3)));

        Assert.Equal("container-metadata, immutability (immutable 3650 d, unlocked); lock due 2030-04-03; not enforced: legal-hold", text);
    }

    [Fact]
    public void Status_LockedPolicy_NoLongerShowsALockDay_AndUnreadControlsSaySo()
    {
        var locked = new ContainerControls("gdn-raw", [GovernanceFeatures.Immutability], [], new HoldStatus(false, [], null, true))
        {
            ImmutabilityDays = 30,
            ImmutabilityLocked = true,
        };

        Assert.Equal("immutability (immutable 30 d, locked)", LocalHostViews.DescribeControls(Dataset(locked, new DateOnly(2030, 4, 3))));
        Assert.Equal("not read yet", LocalHostViews.DescribeControls(Dataset(null)));
    }
}
