using System.Text.Json;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Madmp;
using static Gardien.Workflows.Tests.Governance.TestDmps;

namespace Gardien.Workflows.Tests.Governance;

public class PlanDiffTests
{
    private static readonly Dataset OpenAtlas = Dataset(
        "atlas", distributions: Distribution(DataAccess.Open, availableUntil: new DateOnly(2040, 1, 1)));
    private static readonly Dataset Features = Dataset(
        "features", distributions: Distribution(DataAccess.Shared, availableUntil: new DateOnly(2040, 1, 1)));

    private static Dmp Base => Dmp(OpenAtlas, Features) with
    {
        Contributors = [Contributor("Mehdi", "mehdi@x.example", "0000-0001-5109-3700", "DataManager")],
    };

    private static PlanDiff Diff(Dmp before, Dmp after) => PlanDiff.Compare(Evaluate(before), Evaluate(after));

    private static IEnumerable<ApprovalRole> Roles(PlanDiff diff) => diff.RequiredApprovals.Select(a => a.Role);

    [Fact]
    public void Compare_SamePlan_IsEmptyAndNeedsNoApproval()
    {
        var diff = Diff(Base, Base);
        Assert.True(diff.IsEmpty);
        Assert.Empty(diff.RequiredApprovals);
    }

    [Fact]
    public void Compare_OnlyModifiedChanged_IsEmpty() =>
        Assert.True(Diff(Base, Base with { Modified = DateTimeOffset.UnixEpoch, Title = "renamed" }).IsEmpty);

    [Fact]
    public void Compare_ContributorAdded_GrantsOnEveryDatasetAndNeedsThePi()
    {
        var after = Base with { Contributors = [.. Base.Contributors, Contributor("Anna", "anna@x.example", null, "Researcher")] };
        var diff = Diff(Base, after);
        Assert.Equal(2, diff.GrantsAdded.Count);
        Assert.All(
            diff.GrantsAdded,
            g => Assert.Equal(
                ("mailto:anna@x.example", (AccessRole?)null, (AccessRole?)AccessRole.Contributor),
                (g.Principal.Key, g.OldRole, g.NewRole)));
        Assert.Equal(["atlas", "features"], diff.GrantsAdded.Select(g => g.DatasetKey));
        Assert.Equal([ApprovalRole.PrincipalInvestigator], Roles(diff));
        Assert.False(diff.IsEmpty);
    }

    [Fact]
    public void Compare_ContributorRemoved_RevokesWithoutApproval()
    {
        var diff = Diff(Base, Base with { Contributors = [] });
        Assert.Equal(2, diff.GrantsRemoved.Count);
        Assert.All(diff.GrantsRemoved, g => Assert.Equal(AccessRole.Contributor, g.OldRole));
        Assert.Empty(diff.RequiredApprovals);
    }

    [Fact]
    public void Compare_RoleRaised_NeedsThePiButLoweredDoesNot()
    {
        var raised = Base with { Contributors = [Contributor("Mehdi", "mehdi@x.example", "0000-0001-5109-3700", "ProjectLeader")] };
        var up = Diff(Base, raised);
        Assert.Equal(2, up.GrantsChanged.Count);
        Assert.All(up.GrantsChanged, g => Assert.Equal((AccessRole?)AccessRole.Owner, g.NewRole));
        Assert.Equal([ApprovalRole.PrincipalInvestigator], Roles(up));

        var down = PlanDiff.Compare(Evaluate(raised), Evaluate(Base));
        Assert.Equal(2, down.GrantsChanged.Count);
        Assert.Empty(down.RequiredApprovals);
    }

    [Fact]
    public void Compare_EmailChangeOfAnOrcidContributor_IsNotARevocation()
    {
        var after = Base with { Contributors = [Contributor("Mehdi", "mehdi.new@x.example", "0000-0001-5109-3700", "DataManager")] };
        var diff = Diff(Base, after);
        Assert.Empty(diff.GrantsAdded);
        Assert.Empty(diff.GrantsRemoved);
    }

    [Fact]
    public void Compare_DatasetAdded_NeedsWhatItsPlanRequires()
    {
        var health = Dataset("mri", YesNoUnknown.Yes, YesNoUnknown.Yes, distributions: Distribution(DataAccess.Closed));
        var diff = Diff(Base, Base with { Datasets = [.. Base.Datasets, health] });
        var added = Assert.Single(diff.DatasetsAdded);
        Assert.Equal(("mri", DataClassification.Restricted), (added.DatasetKey, added.Classification));
        Assert.Equal([ApprovalRole.PrincipalInvestigator, ApprovalRole.DataSteward, ApprovalRole.DataProtectionOfficer], Roles(diff));
        Assert.Equal(2, diff.GrantsAdded.Count);
        Assert.All(diff.GrantsAdded, g => Assert.Equal("mri", g.DatasetKey));
    }

    [Fact]
    public void Compare_DatasetRemoved_NeedsTheStewardAndRevokesItsGrants()
    {
        var diff = Diff(Base, Base with { Datasets = [OpenAtlas] });
        Assert.Equal("features", Assert.Single(diff.DatasetsRemoved).DatasetKey);
        Assert.Equal([ApprovalRole.DataSteward], Roles(diff));
        Assert.Equal(2, diff.GrantsRemoved.Count);
    }

    [Fact]
    public void Compare_RetentionShortened_NeedsTheDpo()
    {
        var shorter = Dataset("atlas", distributions: Distribution(DataAccess.Open, availableUntil: new DateOnly(2030, 1, 1)));
        var diff = Diff(Base, Base with { Datasets = [shorter, Features] });
        var change = Assert.Single(diff.RetentionChanges);
        Assert.Equal(ChangeDirection.Decreased, change.Direction);
        Assert.Equal((new DateOnly(2040, 1, 1), new DateOnly(2030, 1, 1)), (change.OldKeepUntil, change.NewKeepUntil));
        Assert.Contains(ApprovalRole.DataProtectionOfficer, Roles(diff));
        Assert.DoesNotContain(ApprovalRole.DataSteward, Roles(diff));
    }

    [Fact]
    public void Compare_RetentionExtended_NeedsTheStewardNotTheDpo()
    {
        var longer = Dataset("atlas", distributions: Distribution(DataAccess.Open, availableUntil: new DateOnly(2050, 1, 1)));
        var diff = Diff(Base, Base with { Datasets = [longer, Features] });
        Assert.Equal(ChangeDirection.Increased, Assert.Single(diff.RetentionChanges).Direction);
        Assert.Equal([ApprovalRole.DataSteward], Roles(diff));
    }

    [Fact]
    public void Compare_ClassificationTightenedToHealthData_NeedsDpoAndReprovisioning()
    {
        var tightened = Dataset(
            "features",
            YesNoUnknown.Yes,
            YesNoUnknown.Yes,
            distributions: Distribution(DataAccess.Shared, availableUntil: new DateOnly(2040, 1, 1)));
        var diff = Diff(Base, Base with { Datasets = [OpenAtlas, tightened] });
        var change = Assert.Single(diff.ClassificationChanges);
        Assert.Equal(
            (DataClassification.Internal, DataClassification.Restricted, ChangeDirection.Increased),
            (change.Old, change.New, change.Direction));
        Assert.True(change.RequiresReprovisioning);
        Assert.Equal([ApprovalRole.DataProtectionOfficer], Roles(diff));
        Assert.Contains("features now requires it", diff.RequiredApprovals.Single().Reasons.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_ClassificationLoosened_NeedsStewardAndDpo()
    {
        var wasHealth = Dataset(
            "features",
            YesNoUnknown.Yes,
            YesNoUnknown.Yes,
            distributions: Distribution(DataAccess.Shared, availableUntil: new DateOnly(2040, 1, 1)));
        var diff = Diff(Base with { Datasets = [OpenAtlas, wasHealth] }, Base);
        var change = Assert.Single(diff.ClassificationChanges);
        Assert.Equal(ChangeDirection.Decreased, change.Direction);
        Assert.Equal([ApprovalRole.DataSteward, ApprovalRole.DataProtectionOfficer], Roles(diff));
    }

    [Fact]
    public void Compare_ProjectExtended_MovesAccessEndWithoutApproval()
    {
        var after = Base with { Projects = [new Project { Title = "P", End = new DateOnly(2029, 12, 31) }] };
        var diff = Diff(Base, after);
        Assert.Equal(["atlas", "features"], diff.AccessEndChangedFor);
        Assert.Empty(diff.RetentionChanges);
        Assert.Empty(diff.RequiredApprovals);
    }

    [Fact]
    public void Compare_PiChanged_NeedsStewardAndTheNewPi()
    {
        var after = Base with { Contact = new Contact { Name = "New PI", Mbox = "new.pi@x.example" } };
        var diff = Diff(Base, after);
        Assert.Equal("mailto:new.pi@x.example", diff.PrincipalInvestigatorChangedTo?.Key);
        Assert.Equal([ApprovalRole.PrincipalInvestigator, ApprovalRole.DataSteward], Roles(diff));
        Assert.Equal(2, diff.GrantsRemoved.Count);
    }

    [Fact]
    public void Compare_ManyDatasetsShortened_ListsOneReasonPerDataset()
    {
        var before = Dmp(
            [.. Enumerable.Range(0, 500)
                .Select(i => Dataset("d" + i, distributions: Distribution(DataAccess.Open, availableUntil: new DateOnly(2040, 1, 1))))]);
        var after = Dmp(
            [.. Enumerable.Range(0, 500)
                .Select(i => Dataset("d" + i, distributions: Distribution(DataAccess.Open, availableUntil: new DateOnly(2035, 1, 1))))]);
        var diff = Diff(before, after);
        Assert.Equal(500, diff.RetentionChanges.Count);
        Assert.Equal(500, diff.RequiredApprovals.Single(a => a.Role == ApprovalRole.DataProtectionOfficer).Reasons.Count);
    }

    [Fact]
    public void PlanDiff_RoundTripsThroughSystemTextJson()
    {
        var diff = Diff(Base, Base with { Contributors = [], Datasets = [OpenAtlas] });
        var json = JsonSerializer.Serialize(diff, GovernanceJson.Options);
        var back = JsonSerializer.Deserialize<PlanDiff>(json, GovernanceJson.Options)!;
        Assert.Equal(json, JsonSerializer.Serialize(back, GovernanceJson.Options));
        Assert.False(back.IsEmpty);
    }
}
