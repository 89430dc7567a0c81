using Gardien.Local.Directory;
using Gardien.Testing;
using Gardien.Workflows.Ports;

namespace Gardien.Local.Tests.Adapters;

public sealed class JsonFileDirectoryTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly string _seed = Path.Combine(RepoPaths.Root, "samples", "directory.sample.json");

    private JsonFileDirectory NewDirectory() => new(_temp.Combine("directory.json"), _seed);

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("claire.dubois@neuro-institute.example")]
    [InlineData("Claire.Dubois@Neuro-Institute.example")]
    [InlineData("mailto:claire.dubois@neuro-institute.example")]
    [InlineData("0000-0002-1825-0097")]
    [InlineData("https://orcid.org/0000-0002-1825-0097")]
    public async Task FindUser_ByEmailOrOrcid_FindsThePi(string key)
    {
        var user = await NewDirectory().FindUserAsync(key);

        Assert.Equal("u-claire-dubois", user?.Id);
    }

    [Fact]
    public async Task FindUser_Unknown_ReturnsNull()
    {
        Assert.Null(await NewDirectory().FindUserAsync("nobody@nowhere.example"));
    }

    [Fact]
    public async Task Membership_AddedTwice_OneMemberPersistedAndSeedUntouched()
    {
        var seedBefore = await File.ReadAllTextAsync(_seed);
        var directory = NewDirectory();
        var group = await directory.EnsureGroupAsync("dmp-health-readers", "Readers");
        var again = await directory.EnsureGroupAsync("dmp-health-readers", "Readers");

        var added = await directory.AddMemberAsync(group.Id, "u-anna-kowalska");
        var addedAgain = await directory.AddMemberAsync(group.Id, "u-anna-kowalska");

        Assert.Equal(group, again);
        Assert.True(added);
        Assert.False(addedAgain);
        var reloaded = NewDirectory();
        Assert.Equal(["u-anna-kowalska"], (await reloaded.ListMembersAsync(group.Id)).Select(u => u.Id));
        Assert.Equal(seedBefore, await File.ReadAllTextAsync(_seed));
        Assert.True(await reloaded.RemoveMemberAsync(group.Id, "u-anna-kowalska"));
        Assert.False(await reloaded.RemoveMemberAsync(group.Id, "u-anna-kowalska"));
    }

    [Fact]
    public async Task AddMember_UnknownUserOrGroup_ThrowsNotFound()
    {
        var directory = NewDirectory();
        var group = await directory.EnsureGroupAsync("g", "d");

        await Assert.ThrowsAsync<PortNotFoundException>(() => directory.AddMemberAsync(group.Id, "u-ghost"));
        await Assert.ThrowsAsync<PortNotFoundException>(() => directory.AddMemberAsync("grp-ghost", "u-anna-kowalska"));
    }

    [Fact]
    public async Task AddMember_InParallel_KeepsEveryMember()
    {
        var directory = NewDirectory();
        var group = await directory.EnsureGroupAsync("parallel", "d");
        string[] users = ["u-claire-dubois", "u-mehdi-benali", "u-anna-kowalska", "u-paul-lefevre", "u-sofia-rossi", "u-jonas-berg"];

        await Task.WhenAll(users.Concat(users).Select(u => directory.AddMemberAsync(group.Id, u)));

        Assert.Equal(users.Order(), (await NewDirectory().ListMembersAsync(group.Id)).Select(u => u.Id).Order());
    }

    [Fact]
    public async Task AssignRole_IsRecordedIdempotentlyAndReportedNotEnforced()
    {
        var directory = NewDirectory();
        var principal = new PrincipalRef("u-anna-kowalska", PrincipalKind.User);

        var first = await directory.AssignRoleAsync(principal, "ds-container", AccessLevel.Reader);
        var second = await directory.AssignRoleAsync(principal, "ds-container", AccessLevel.Reader);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Equal(first.AssignmentId, second.AssignmentId);
        Assert.Equal(GovernanceFeatures.RoleAssignment, Assert.Single(first.NotEnforcedLocally).Feature);
        Assert.Single(await NewDirectory().ListRoleAssignmentsAsync("ds-container"));

        var removed = await directory.RemoveRoleAssignmentAsync(principal, "ds-container", AccessLevel.Reader);
        var removedAgain = await directory.RemoveRoleAssignmentAsync(principal, "ds-container", AccessLevel.Reader);
        Assert.True(removed.Changed);
        Assert.False(removedAgain.Changed);
        Assert.Empty(await directory.ListRoleAssignmentsAsync("ds-container"));
    }

    [Fact]
    public async Task Load_BrokenFile_ThrowsWithTheLocation()
    {
        await File.WriteAllTextAsync(_temp.Combine("directory.json"), "{ \"users\": [ { \"id\": 1 } ] ");

        var ex = await Assert.ThrowsAsync<PortRefusedException>(() => NewDirectory().FindUserAsync("a@b.c"));

        Assert.Contains("directory.json", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public async Task AddMembers_SeveralUsers_JoinInOneChangeAndReportOnlyTheNewOnes()
    {
        var directory = NewDirectory();
        var group = await directory.EnsureGroupAsync("gdn-ds-contributors", "Contributors");
        await directory.AddMemberAsync(group.Id, "u-mehdi-benali");
        var before = File.GetLastWriteTimeUtc(directory.FilePath);

        var added = await directory.AddMembersAsync(group.Id, ["u-mehdi-benali", "u-anna-kowalska", "u-sofia-rossi", "u-anna-kowalska"]);

        Assert.Equal(["u-anna-kowalska", "u-sofia-rossi"], added);
        Assert.Equal(
            ["u-mehdi-benali", "u-anna-kowalska", "u-sofia-rossi"],
            (await new JsonFileDirectory(directory.FilePath).ListMembersAsync(group.Id)).Select(u => u.Id));
        Assert.Empty(await directory.AddMembersAsync(group.Id, ["u-sofia-rossi"]));
        Assert.True(File.GetLastWriteTimeUtc(directory.FilePath) >= before);
    }

    [Fact]
    public async Task AddMembers_OneUnknownUser_ChangesNothing()
    {
        var directory = NewDirectory();
        var group = await directory.EnsureGroupAsync("gdn-ds-readers", "Readers");

        await Assert.ThrowsAsync<PortNotFoundException>(() => directory.AddMembersAsync(group.Id, ["u-anna-kowalska", "u-nobody"]));

        Assert.Empty(await directory.ListMembersAsync(group.Id));
        Assert.Empty(await new JsonFileDirectory(directory.FilePath).ListMembersAsync(group.Id));
    }

    [Fact]
    public async Task Reads_SeeChangesAnotherProcessWroteToTheFile()
    {
        var directory = NewDirectory();
        var group = await directory.EnsureGroupAsync("gdn-shared-owners", "Owners");
        Assert.Empty(await directory.ListMembersAsync(group.Id));

        // Another process (the CLI beside the host) changes the file: the cached copy must not hide it.
        await new JsonFileDirectory(directory.FilePath).AddMemberAsync(group.Id, "u-claire-dubois");

        Assert.Equal("u-claire-dubois", Assert.Single(await directory.ListMembersAsync(group.Id)).Id);
    }
}
