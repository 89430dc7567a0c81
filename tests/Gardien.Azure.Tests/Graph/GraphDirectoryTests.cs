using System.Text.Json.Nodes;
using Gardien.Azure.Graph;
using Gardien.Azure.Tests.Fakes;
using Gardien.Workflows.Access;
using Gardien.Workflows.Ports;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests.Graph;

public sealed class GraphDirectoryTests : IDisposable
{
    private const string OwnerId = "11111111-2222-3333-4444-555555555555";
    private readonly FakeGraph _graph = new();
    private readonly RecordedDelays _delays = new();
    private readonly RecordingRoleAssignments _roles = new();

    public void Dispose() => _graph.Dispose();

    [Fact]
    public async Task FindUser_ByEmail_SendsOneAdvancedQueryWithTheBearerToken()
    {
        var ada = _graph.AddUser("Ada Lovelace", "ada@inst.example", "alovelace@inst.example");

        var user = await Directory().FindUserAsync("mailto:Ada@Inst.example");

        Assert.Equal(new DirectoryUser(ada.Id, "Ada Lovelace", "ada@inst.example", null), user);
        var request = Assert.Single(_graph.Requests);
        Assert.Equal("GET", request.Method);
        Assert.Equal("/v1.0/users", request.Path);
        var query = Loopback.Query(request);
        Assert.Equal(
            "mail eq 'Ada@Inst.example' or userPrincipalName eq 'Ada@Inst.example' or otherMails/any(m:m eq 'Ada@Inst.example')",
            query["$filter"]);
        Assert.Equal($"id,displayName,mail,otherMails,userPrincipalName,{FakeGraph.OrcidAttribute}", query["$select"]);
        Assert.Equal("true", query["$count"]);
        Assert.Equal("5", query["$top"]);
        Assert.Equal("eventual", Loopback.Header(request, "ConsistencyLevel"));
        Assert.Equal("Bearer test-token", Loopback.Header(request, "Authorization"));
    }

    [Fact]
    public async Task FindUser_SecondaryAddress_FindsThePersonWhenNoPrimaryMatches()
    {
        var bob = _graph.AddUser("Bob", "bob@inst.example", "bob@inst.example", ["b.old@lab.example"]);

        Assert.Equal(bob.Id, (await Directory().FindUserAsync("b.old@lab.example"))?.Id);
    }

    [Fact]
    public async Task FindUser_PrimaryAddressWinsOverAnotherPersonsAlias()
    {
        var owner = _graph.AddUser("Carol", "carol@inst.example", "carol@inst.example");
        _graph.AddUser("Dan", "dan@inst.example", "dan@inst.example", ["carol@inst.example"]);

        Assert.Equal(owner.Id, (await Directory().FindUserAsync("carol@inst.example"))?.Id);
    }

    [Fact]
    public async Task FindUser_TwoPeopleWithTheSameAddress_StaysUnresolved()
    {
        _graph.AddUser("Eve One", "eve@inst.example", "eve1@inst.example");
        _graph.AddUser("Eve Two", "eve@inst.example", "eve2@inst.example");

        Assert.Null(await Directory().FindUserAsync("eve@inst.example"));
    }

    [Fact]
    public async Task FindUser_UnknownPerson_IsNull()
    {
        _graph.AddUser("Ada", "ada@inst.example", "ada@inst.example");

        Assert.Null(await Directory().FindUserAsync("nobody@inst.example"));
    }

    [Fact]
    public async Task FindUser_QuoteInAddress_IsEscapedInTheFilter()
    {
        var o = _graph.AddUser("Orla O'Brien", "o'brien@inst.example", "obrien@inst.example");

        Assert.Equal(o.Id, (await Directory().FindUserAsync("o'brien@inst.example"))?.Id);
        Assert.StartsWith(
            "mail eq 'o''brien@inst.example'", Loopback.Query(Assert.Single(_graph.Requests))["$filter"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindUser_ByOrcidUrl_QueriesTheExtensionAttributeInBothForms()
    {
        var grace = _graph.AddUser("Grace", "grace@inst.example", "grace@inst.example", orcid: "https://orcid.org/0000-0002-1825-0097");

        var user = await Directory().FindUserAsync("https://orcid.org/0000-0002-1825-0097");

        Assert.Equal(grace.Id, user?.Id);
        Assert.Equal("0000-0002-1825-0097", user?.Orcid);
        Assert.Equal(
            $"{FakeGraph.OrcidAttribute} eq '0000-0002-1825-0097' or {FakeGraph.OrcidAttribute} eq 'https://orcid.org/0000-0002-1825-0097'",
            Loopback.Query(Assert.Single(_graph.Requests))["$filter"]);
    }

    [Fact]
    public async Task FindUser_MalformedOrcidOrNoAttribute_AsksNothing()
    {
        Assert.Null(await Directory().FindUserAsync("0000-0002-1825-009' or 1 eq 1"));
        Assert.Null(await Directory(o => o.OrcidAttribute = null).FindUserAsync("0000-0002-1825-0097"));
        Assert.Empty(_graph.Requests);
    }

    [Fact]
    public async Task GetUser_UnknownId_IsNull()
    {
        Assert.Null(await Directory().GetUserAsync(Guid.NewGuid().ToString()));
    }

    [Fact]
    public async Task EnsureGroup_CreatesAPlainSecurityGroupOwnedByTheApp_SecondCallOnlyLooksItUp()
    {
        var directory = Directory();
        var name = AccessGroups.GroupName("gardien-cohort-mri-abcdefghijklmnop", AccessLevel.Reader);
        var description = AccessGroups.Description("https://doi.org/10.1/dmp", "mri", AccessLevel.Reader);

        var first = await directory.EnsureGroupAsync(name, description);
        var second = await directory.EnsureGroupAsync(name, description);

        Assert.Equal(first, second);
        Assert.Equal(name, first.Name);
        Assert.Equal(["GET /v1.0/groups", "POST /v1.0/groups", "GET /v1.0/groups"], _graph.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal($"mailNickname eq '{name}'", Loopback.Query(_graph.Requests[0])["$filter"]);
        var body = JsonNode.Parse(_graph.Requests[1].Body!)!.AsObject();
        Assert.Equal(name, (string?)body["displayName"]);
        Assert.Equal(description, (string?)body["description"]);
        Assert.False((bool)body["mailEnabled"]!);
        Assert.True((bool)body["securityEnabled"]!);
        Assert.Equal(name, (string?)body["mailNickname"]);
        Assert.Equal(name, (string?)body["uniqueName"]);
        Assert.Equal([$"{_graph.BaseUrl}/directoryObjects/{OwnerId}"], body["owners@odata.bind"]!.AsArray().Select(n => (string?)n));
        Assert.Single(_graph.Groups);
    }

    [Fact]
    public void MailNickname_LongGroupName_IsShortenedDeterministicallyWithinEntraLimits()
    {
        var name = AccessGroups.GroupName(new string('a', 40) + "-" + new string('b', 22), AccessLevel.Contributor);

        var nickname = GraphNames.MailNickname(name);

        Assert.True(name.Length > 64);
        Assert.Equal(64, nickname.Length);
        Assert.Equal(nickname, GraphNames.MailNickname(name));
        Assert.NotEqual(
            nickname, GraphNames.MailNickname(name.Replace("contributors", "readers", StringComparison.Ordinal) + "xxxxxxxxxxxx"));
        Assert.Equal("a-b-c-d", GraphNames.MailNickname("a b(c)d"));
    }

    [Fact]
    public async Task EnsureGroup_AnotherCreatorWonTheRace_ReturnsTheirGroup()
    {
        var existing = _graph.AddGroup("g-readers", "g-readers") with { };
        _graph.Groups.Remove(existing.Id);
        var winner = existing with { UniqueName = "g-readers" };
        _graph.Groups[winner.Id] = winner;
        _graph.Fail("GET", "/v1.0/groups", 1, () => Loopback.Json(200, """{"value":[]}"""));

        var group = await Directory().EnsureGroupAsync("g-readers", "d");

        Assert.Equal(winner.Id, group.Id);
        Assert.Single(_graph.Groups);
        Assert.Equal(["GET /v1.0/groups", "POST /v1.0/groups", "GET /v1.0/groups(uniqueName='g-readers')"],
            _graph.Requests.Select(r => $"{r.Method} {Uri.UnescapeDataString(r.Path)}"));
    }

    [Fact]
    public async Task EnsureGroup_SameNicknameOnAMailEnabledGroup_IsRefused()
    {
        _graph.AddGroup("g-readers", "g-readers", securityEnabled: false, mailEnabled: true);

        await Assert.ThrowsAsync<PortRefusedException>(() => Directory().EnsureGroupAsync("g-readers", "d"));
    }

    [Fact]
    public async Task AddMembers_45Users_ThreeBatchesOfAtMost20_SecondCallChangesNothing()
    {
        var directory = Directory();
        var group = await directory.EnsureGroupAsync("g-readers", "d");
        var users = Enumerable.Range(0, 45).Select(i => _graph.AddUser($"U{i}", $"u{i}@inst.example", $"u{i}@inst.example").Id).ToList();
        var before = _graph.Requests.Count;

        var added = await directory.AddMembersAsync(group.Id, users);
        var again = await directory.AddMembersAsync(group.Id, users);

        Assert.Equal(users, added);
        Assert.Empty(again);
        Assert.Equal(users, _graph.Groups[group.Id].Members);
        var requests = _graph.Requests.Skip(before).ToList();
        Assert.Equal(
            [
                $"GET /v1.0/groups/{group.Id}/members",
                $"PATCH /v1.0/groups/{group.Id}",
                $"PATCH /v1.0/groups/{group.Id}",
                $"PATCH /v1.0/groups/{group.Id}",
                $"GET /v1.0/groups/{group.Id}/members",
            ],
            requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal("id", Loopback.Query(requests[0])["$select"]);
        var batches = requests.Where(r => r.Method == "PATCH").Select(r => JsonNode.Parse(r.Body!)!.AsObject()).ToList();
        Assert.Equal([20, 20, 5], batches.Select(b => b["members@odata.bind"]!.AsArray().Count));
        Assert.Equal(
            users.Select(id => $"{_graph.BaseUrl}/directoryObjects/{id}"),
            batches.SelectMany(b => b["members@odata.bind"]!.AsArray().Select(n => (string?)n)));
        Assert.All(batches, b => Assert.Empty(b.Select(p => p.Key).Except(["members@odata.bind", "@odata.type"])));
    }

    [Fact]
    public async Task AddMembers_SomeAlreadyMembers_OnlyTheOthersAreSent()
    {
        var directory = Directory();
        var group = await directory.EnsureGroupAsync("g-readers", "d");
        var a = _graph.AddUser("A", "a@x.example", "a@x.example").Id;
        var b = _graph.AddUser("B", "b@x.example", "b@x.example").Id;
        Assert.True(await directory.AddMemberAsync(group.Id, a));

        var added = await directory.AddMembersAsync(group.Id, [a, b, b]);

        Assert.Equal([b], added);
        var patch = _graph.Requests.Last(r => r.Method == "PATCH");
        Assert.Equal(
            [$"{_graph.BaseUrl}/directoryObjects/{b}"],
            JsonNode.Parse(patch.Body!)!["members@odata.bind"]!.AsArray().Select(n => (string?)n));
    }

    [Fact]
    public async Task AddMembers_AnUnknownUserInTheBatch_TellsWhichOne()
    {
        var directory = Directory();
        var group = await directory.EnsureGroupAsync("g-readers", "d");
        var a = _graph.AddUser("A", "a@x.example", "a@x.example").Id;
        var ghost = Guid.NewGuid().ToString();

        var ex = await Assert.ThrowsAsync<PortNotFoundException>(() => directory.AddMembersAsync(group.Id, [a, ghost]));

        Assert.Contains(ghost, ex.Message, StringComparison.Ordinal);
        Assert.Equal([a], _graph.Groups[group.Id].Members);
    }

    [Fact]
    public async Task AddMembers_GroupJustCreated_WaitsForReplicationThenAdds()
    {
        var directory = Directory();
        _graph.ReplicationLagRequests = 2;
        var group = await directory.EnsureGroupAsync("g-readers", "d");
        var a = _graph.AddUser("A", "a@x.example", "a@x.example").Id;

        Assert.Equal([a], await directory.AddMembersAsync(group.Id, [a]));
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], _delays.Waits);
    }

    [Fact]
    public async Task AddMember_OldGroupGone_FailsAtOnceWithoutWaiting()
    {
        var directory = Directory();
        var old = _graph.AddGroup("g-readers", "g-readers");
        var group = await directory.FindGroupAsync("g-readers");
        _graph.Groups.Remove(old.Id);
        var a = _graph.AddUser("A", "a@x.example", "a@x.example").Id;

        await Assert.ThrowsAsync<PortNotFoundException>(() => directory.AddMemberAsync(group!.Id, a));
        Assert.Empty(_delays.Waits);
    }

    [Fact]
    public async Task AddMember_ExactRequest_SecondCallIsSuccessWithoutChange()
    {
        var directory = Directory();
        var group = _graph.AddGroup("g", "g");
        var a = _graph.AddUser("A", "a@x.example", "a@x.example").Id;

        Assert.True(await directory.AddMemberAsync(group.Id, a));
        Assert.False(await directory.AddMemberAsync(group.Id, a));

        var post = _graph.Requests[0];
        Assert.Equal(("POST", $"/v1.0/groups/{group.Id}/members/$ref"), (post.Method, Uri.UnescapeDataString(post.Path)));
        Assert.Equal($"{_graph.BaseUrl}/directoryObjects/{a}", (string?)JsonNode.Parse(post.Body!)!["@odata.id"]);
        Assert.Equal([a], group.Members);
    }

    [Fact]
    public async Task AddMember_Throttled_WaitsWhatRetryAfterSaysThenSucceeds()
    {
        var group = _graph.AddGroup("g", "g");
        var a = _graph.AddUser("A", "a@x.example", "a@x.example").Id;
        _graph.Fail("POST", "/members/$ref", 2, () => FakeGraph.Error(429, "TooManyRequests", "Too many requests", ("Retry-After", "7")));

        Assert.True(await Directory().AddMemberAsync(group.Id, a));
        Assert.Equal([TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(7)], _delays.Waits);
        Assert.All(
            _graph.Requests, r => Assert.Equal($"{_graph.BaseUrl}/directoryObjects/{a}", (string?)JsonNode.Parse(r.Body!)!["@odata.id"]));
    }

    [Fact]
    public async Task ServiceUnavailable_BeyondTheAttempts_IsTransient()
    {
        _graph.Fail("GET", "/v1.0/users", 10, () => FakeGraph.Error(503, "ServiceUnavailable", "Try later"));

        var ex = await Assert.ThrowsAsync<PortException>(() => Directory(o => o.MaxAttempts = 3).FindUserAsync("a@x.example"));

        Assert.True(ex.IsTransient);
        Assert.Equal(3, _graph.Requests.Count);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], _delays.Waits);
    }

    [Fact]
    public async Task RetryAfterLongerThanTheCap_FailsTransientWithoutWaiting()
    {
        _graph.Fail("GET", "/v1.0/users", 1, () => FakeGraph.Error(429, "TooManyRequests", "Slow down", ("Retry-After", "3600")));

        var ex = await Assert.ThrowsAsync<PortException>(() => Directory().FindUserAsync("a@x.example"));

        Assert.True(ex.IsTransient);
        Assert.Empty(_delays.Waits);
    }

    [Fact]
    public async Task ServerError_IsTransient()
    {
        _graph.Fail("GET", "/v1.0/users", 1, () => FakeGraph.Error(500, "InternalServerError", "boom"));

        var ex = await Assert.ThrowsAsync<PortException>(() => Directory().FindUserAsync("a@x.example"));

        Assert.True(ex.IsTransient);
        Assert.IsNotType<PortRefusedException>(ex);
    }

    [Fact]
    public async Task WrongToken_IsRefusedNamingTheIdentity()
    {
        var ex = await Assert.ThrowsAsync<PortRefusedException>(
            () => Directory(credential: new FixedTokenCredential("expired")).FindUserAsync("a@x.example"));

        Assert.Contains("AZURE_CLIENT_ID", ex.Message, StringComparison.Ordinal);
        Assert.Equal("Bearer expired", Loopback.Header(Assert.Single(_graph.Requests), "Authorization"));
    }

    [Fact]
    public async Task MissingPermission_IsRefusedNamingThePermissions()
    {
        _graph.Fail(
            "POST",
            "/v1.0/groups",
            1,
            () => FakeGraph.Error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."));

        var ex = await Assert.ThrowsAsync<PortRefusedException>(() => Directory().EnsureGroupAsync("g-readers", "d"));

        Assert.Contains("Group.Create", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_graph.Groups);
    }

    [Fact]
    public async Task MalformedBody_IsTransient()
    {
        _graph.Fail("GET", "/v1.0/users", 1, () => Loopback.Json(200, "{\"value\": [ {\"id\": "));

        var ex = await Assert.ThrowsAsync<PortException>(() => Directory().FindUserAsync("a@x.example"));

        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task SlowGraph_TimesOutAsTransient()
    {
        _graph.Loopback.Server.Given(Request.Create().WithPath("/v1.0/users").UsingGet()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"value":[]}""").WithDelay(TimeSpan.FromSeconds(2)));

        var ex = await Assert.ThrowsAsync<PortException>(
            () => Directory(o => o.RequestTimeout = TimeSpan.FromMilliseconds(300)).FindUserAsync("a@x.example"));

        Assert.True(ex.IsTransient);
        Assert.Contains("RequestTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoveMember_OnlyAMemberIsRemoved_UnknownGroupIsNotFound()
    {
        var directory = Directory();
        var group = _graph.AddGroup("g", "g");
        var a = _graph.AddUser("A", "a@x.example", "a@x.example").Id;
        group.Members.Add(a);

        Assert.True(await directory.RemoveMemberAsync(group.Id, a));
        Assert.False(await directory.RemoveMemberAsync(group.Id, a));
        Assert.Equal(
            ("DELETE", $"/v1.0/groups/{group.Id}/members/{a}/$ref"),
            (_graph.Requests[0].Method, Uri.UnescapeDataString(_graph.Requests[0].Path)));
        Assert.Empty(group.Members);

        var gone = _graph.AddGroup("h", "h");
        await directory.FindGroupAsync("h");
        _graph.Groups.Remove(gone.Id);
        await Assert.ThrowsAsync<PortNotFoundException>(() => directory.RemoveMemberAsync(gone.Id, a));
    }

    [Fact]
    public async Task ListMembers_ReturnsUsersWithTheirOrcid()
    {
        var group = _graph.AddGroup("g", "g");
        var a = _graph.AddUser("A", "a@x.example", "a@x.example", orcid: "0000-0002-1825-0097");
        group.Members.Add(a.Id);

        var members = await Directory().ListMembersAsync(group.Id);

        Assert.Equal([new DirectoryUser(a.Id, "A", "a@x.example", "0000-0002-1825-0097")], members);
        Assert.Equal($"/v1.0/groups/{group.Id}/members/graph.user", Assert.Single(_graph.Requests).Path);
    }

    [Fact]
    public async Task RoleAssignments_GoToTheArmAdapter()
    {
        var directory = Directory();
        var principal = new PrincipalRef("gid", PrincipalKind.Group);

        await directory.AssignRoleAsync(principal, "c1", AccessLevel.Reader);
        await directory.RemoveRoleAssignmentAsync(principal, "c1", AccessLevel.Reader);
        await directory.ListRoleAssignmentsAsync("c1");

        Assert.Equal(["assign Group gid c1 Reader", "remove Group gid c1 Reader", "list c1"], _roles.Calls);
        Assert.Empty(_graph.Requests);
    }

    private GraphDirectory Directory(Action<GraphOptions>? configure = null, FixedTokenCredential? credential = null)
    {
        var options = new GraphOptions
        {
            BaseUrl = _graph.BaseUrl,
            OrcidAttribute = FakeGraph.OrcidAttribute,
            GroupOwnerId = OwnerId,
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        configure?.Invoke(options);
        var client = GardienGraphClient.Create(options, credential ?? new FixedTokenCredential());
        return new GraphDirectory(client, options, _roles, TimeProvider.System, null, _delays.Wait);
    }
}
