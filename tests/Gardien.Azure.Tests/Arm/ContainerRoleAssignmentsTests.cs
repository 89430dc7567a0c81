using System.Text.Json.Nodes;
using Gardien.Azure.Arm;
using Gardien.Azure.Tests.Fakes;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.Tests.Arm;

public sealed class ContainerRoleAssignmentsTests : IDisposable
{
    private const string Container = "gardien-dmp1-raw";
    private const string GroupId = "7b0d2a9e-1c2f-4a8b-9d3e-5f6a7b8c9d0e";
    private static readonly PrincipalRef Group = new(GroupId, PrincipalKind.Group);
    private static readonly string Scope = FakeArm.ContainerId(Container);
    private static readonly string ReaderDefinition =
        $"/subscriptions/{FakeArm.SubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/"
        + $"{ContainerRoleAssignments.StorageBlobDataReader}";

    private readonly FakeArm _arm = new();

    public void Dispose() => _arm.Dispose();

    private ContainerRoleAssignments Client(int maxRetries = 2, TimeSpan? timeout = null) =>
        new(_arm.Options, new FixedTokenCredential(), _arm.ClientOptions(maxRetries, timeout));

    private string AssignmentPath(AccessLevel role = AccessLevel.Reader) =>
        $"{Scope}/providers/Microsoft.Authorization/roleAssignments/{Client().AssignmentName(Group, Container, role)}";

    private static JsonObject Assignment(
        string name,
        string principalId,
        string roleDefinitionId,
        string scope,
        string principalType = "Group") => new()
        {
            ["id"] = $"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
            ["name"] = name,
            ["properties"] = new JsonObject
            {
                ["principalId"] = principalId,
                ["principalType"] = principalType,
                ["roleDefinitionId"] = roleDefinitionId,
                ["scope"] = scope,
            },
        };

    [Fact]
    public async Task Assign_NewGroup_PutsTheDeterministicAssignmentOnTheContainerScope()
    {
        var path = AssignmentPath();
        _arm.Reply("GET", path, 404, FakeArm.Error("RoleAssignmentNotFound"));
        _arm.Reply("PUT", path, 201, Assignment("x", GroupId, ReaderDefinition, Scope));

        var result = await Client().AssignAsync(Group, Container, AccessLevel.Reader);

        Assert.True(result.Changed);
        Assert.Empty(result.NotEnforcedLocally);
        var put = Assert.Single(_arm.RequestsOf("PUT")).RequestMessage;
        Assert.Equal(path, put.Path);
        Assert.Equal("2022-04-01", put.Query!["api-version"].Single());
        Assert.Equal("Bearer test-token", put.Headers!["Authorization"].Single());
        var body = JsonNode.Parse(put.Body!)!["properties"]!;
        Assert.Equal(ReaderDefinition, body["roleDefinitionId"]!.GetValue<string>());
        Assert.Equal(GroupId, body["principalId"]!.GetValue<string>());
        Assert.Equal("Group", body["principalType"]!.GetValue<string>());
        Assert.Equal(path.Split('/')[^1], result.AssignmentId);
    }

    [Fact]
    public async Task Assign_SecondCall_FindsItsOwnAssignmentAndChangesNothing()
    {
        var path = AssignmentPath();
        var name = path.Split('/')[^1];
        _arm.Reply("GET", path, 404, FakeArm.Error("RoleAssignmentNotFound"), state: null, nextState: null);
        _arm.Reply("PUT", path, 201, Assignment(name, GroupId, ReaderDefinition, Scope));
        var first = await Client().AssignAsync(Group, Container, AccessLevel.Reader);
        _arm.Server.Reset();
        _arm.Reply("GET", path, 200, Assignment(name, GroupId, ReaderDefinition, Scope));

        var second = await Client().AssignAsync(Group, Container, AccessLevel.Reader);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Equal(first.AssignmentId, second.AssignmentId);
        Assert.Empty(_arm.RequestsOf("PUT"));
    }

    [Fact]
    public async Task Assign_RoleAssignmentExistsUnderAnotherName_IsSuccessWithoutChange()
    {
        var path = AssignmentPath();
        _arm.Reply("GET", path, 404, FakeArm.Error("RoleAssignmentNotFound"));
        _arm.Reply("PUT", path, 409, FakeArm.Error("RoleAssignmentExists", "The role assignment already exists."));

        var result = await Client().AssignAsync(Group, Container, AccessLevel.Reader);

        Assert.False(result.Changed);
    }

    [Fact]
    public async Task Assign_Owner_GetsStorageBlobDataContributor_TheMostTheDelegationConditionAllows()
    {
        var path = AssignmentPath(AccessLevel.Owner);
        _arm.Reply("GET", path, 404, FakeArm.Error("RoleAssignmentNotFound"));
        _arm.Reply("PUT", path, 201, Assignment(path.Split('/')[^1], GroupId, "contributor", Scope));

        var result = await Client().AssignAsync(Group, Container, AccessLevel.Owner);

        Assert.True(result.Changed);
        var body = JsonNode.Parse(Assert.Single(_arm.RequestsOf("PUT")).RequestMessage.Body!)!["properties"]!;
        Assert.EndsWith(
            ContainerRoleAssignments.StorageBlobDataContributor, body["roleDefinitionId"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotEqual(
            Client().AssignmentName(Group, Container, AccessLevel.Owner), Client().AssignmentName(Group, Container, AccessLevel.Reader));
    }

    [Fact]
    public async Task Assign_ForbiddenByTheCondition_IsRefusedNamingTheGrantToFix()
    {
        var path = AssignmentPath();
        _arm.Reply("GET", path, 404, FakeArm.Error("RoleAssignmentNotFound"));
        _arm.Reply(
            "PUT",
            path,
            403,
            FakeArm.Error(
                "AuthorizationFailed",
                "The client does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write'."));

        var ex = await Assert.ThrowsAsync<PortRefusedException>(() => Client().AssignAsync(Group, Container, AccessLevel.Reader));

        Assert.False(ex.IsTransient);
        Assert.Contains("Role Based Access Control Administrator", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AuthorizationFailed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assign_TokenRejected_IsRefusedNamingTheIdentitySetting()
    {
        _arm.Reply("GET", AssignmentPath(), 401, FakeArm.Error("InvalidAuthenticationToken"));

        var ex = await Assert.ThrowsAsync<PortRefusedException>(() => Client().AssignAsync(Group, Container, AccessLevel.Reader));

        Assert.Contains("AZURE_CLIENT_ID", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assign_GroupNotReplicatedYet_IsTransientSoTheActivityRetries()
    {
        var path = AssignmentPath();
        _arm.Reply("GET", path, 404, FakeArm.Error("RoleAssignmentNotFound"));
        _arm.Reply("PUT", path, 400, FakeArm.Error("PrincipalNotFound", "Principal 7b0d... does not exist in the directory."));

        var ex = await Assert.ThrowsAsync<PortException>(() => Client().AssignAsync(Group, Container, AccessLevel.Reader));

        Assert.True(ex.IsTransient);
        Assert.IsNotType<PortRefusedException>(ex);
    }

    [Fact]
    public async Task Assign_ThrottledWithRetryAfter_IsRetriedByThePipeline()
    {
        var path = AssignmentPath();
        _arm.Reply(
            "GET",
            path,
            429,
            FakeArm.Error("TooManyRequests"),
            state: null,
            nextState: "throttled",
            headers: new Dictionary<string, string> { ["Retry-After"] = "1" });
        _arm.Reply("GET", path, 404, FakeArm.Error("RoleAssignmentNotFound"), state: "throttled", nextState: "throttled");
        _arm.Reply("PUT", path, 201, Assignment("x", GroupId, ReaderDefinition, Scope));

        var result = await Client().AssignAsync(Group, Container, AccessLevel.Reader);

        Assert.True(result.Changed);
        Assert.Equal(2, _arm.RequestsOf("GET").Count);
    }

    [Fact]
    public async Task Assign_ServerErrorsPersisting_SurfaceAsTransientPortException()
    {
        _arm.Reply("GET", AssignmentPath(), 503, FakeArm.Error("ServiceUnavailable"));

        var ex = await Assert.ThrowsAsync<PortException>(() => Client(maxRetries: 1).AssignAsync(Group, Container, AccessLevel.Reader));

        Assert.True(ex.IsTransient);
        Assert.Equal(2, _arm.RequestsOf("GET").Count);
    }

    [Fact]
    public async Task Assign_NoAnswerInTime_IsTransient()
    {
        _arm.Reply("GET", AssignmentPath(), 404, FakeArm.Error("RoleAssignmentNotFound"), delay: TimeSpan.FromSeconds(5));

        var ex = await Assert.ThrowsAsync<PortException>(
            () => Client(maxRetries: 0, timeout: TimeSpan.FromMilliseconds(300)).AssignAsync(Group, Container, AccessLevel.Reader));

        Assert.True(ex.IsTransient);
        Assert.Contains("in time", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assign_MalformedAnswer_IsTransientAndSaysSo()
    {
        _arm.ReplyText("GET", AssignmentPath(), 200, "{ not json");

        var ex = await Assert.ThrowsAsync<PortException>(() => Client().AssignAsync(Group, Container, AccessLevel.Reader));

        Assert.True(ex.IsTransient);
        Assert.Contains("not JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remove_ExistingAssignment_DeletesItOnce_ThenIsANoOp()
    {
        var path = AssignmentPath(AccessLevel.Contributor);
        _arm.Reply("DELETE", path, 200, new JsonObject(), state: null, nextState: "gone", scenario: "remove");
        _arm.Reply("DELETE", path, 204, state: "gone", scenario: "remove");
        _arm.Reply(
            "GET", $"{Scope}/providers/Microsoft.Authorization/roleAssignments", 200, new JsonObject { ["value"] = new JsonArray() });

        var first = await Client().RemoveAsync(Group, Container, AccessLevel.Contributor);
        var second = await Client().RemoveAsync(Group, Container, AccessLevel.Contributor);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        var list = Assert.Single(_arm.RequestsOf("GET")).RequestMessage;
        Assert.Equal($"principalId eq '{GroupId}'", list.Query!["$filter"].Single());
    }

    [Fact]
    public async Task Remove_EquivalentAssignmentUnderAnotherName_IsRemovedToo()
    {
        var contributor = ReaderDefinition.Replace(
            ContainerRoleAssignments.StorageBlobDataReader, ContainerRoleAssignments.StorageBlobDataContributor, StringComparison.Ordinal);
        var foreign = Assignment("11111111-2222-3333-4444-555555555555", GroupId, contributor, Scope);
        _arm.Reply("DELETE", AssignmentPath(AccessLevel.Contributor), 204);
        _arm.Reply(
            "GET",
            $"{Scope}/providers/Microsoft.Authorization/roleAssignments",
            200,
            new JsonObject { ["value"] = new JsonArray(foreign) });
        _arm.Reply("DELETE", foreign["id"]!.GetValue<string>(), 200, new JsonObject());

        var result = await Client().RemoveAsync(Group, Container, AccessLevel.Contributor);

        Assert.True(result.Changed);
        Assert.Equal(2, _arm.RequestsOf("DELETE").Count);
    }

    [Fact]
    public async Task List_ReturnsManagedRolesOnTheContainerOnly_AcrossPages()
    {
        var listPath = $"{Scope}/providers/Microsoft.Authorization/roleAssignments";
        var owner = ReaderDefinition.Replace(
            ContainerRoleAssignments.StorageBlobDataReader, "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", StringComparison.Ordinal);
        var page2 = $"{_arm.Fake.Uri}page2";
        _arm.Reply("GET", listPath, 200, new JsonObject
        {
            ["value"] = new JsonArray(
                Assignment("a1", GroupId, ReaderDefinition, Scope),
                Assignment("a2", GroupId, ReaderDefinition, FakeArm.AccountId),
                Assignment("a3", GroupId, owner, Scope)),
            ["nextLink"] = page2,
        });
        _arm.Reply(
            "GET",
            "/page2",
            200,
            new JsonObject
            {
                ["value"] = new JsonArray(
                    Assignment(
                        "a4",
                        "9a9a9a9a-1c2f-4a8b-9d3e-5f6a7b8c9d0e",
                        ReaderDefinition.Replace(
                            ContainerRoleAssignments.StorageBlobDataReader,
                            ContainerRoleAssignments.StorageBlobDataContributor,
                            StringComparison.Ordinal),
                        Scope,
                        "User")),
            });

        var assignments = await Client().ListAsync(Container);

        Assert.Equal(["a1:Reader:Group", "a4:Contributor:User"], assignments.Select(a => $"{a.AssignmentId}:{a.Role}:{a.Principal.Kind}"));
        Assert.All(assignments, a => Assert.Equal(Container, a.Scope));
        Assert.Equal("atScope()", _arm.RequestsOf("GET")[0].RequestMessage.Query!["$filter"].Single());
    }

    [Fact]
    public void AssignmentNames_AreStablePerPrincipalContainerAndRole()
    {
        var client = Client();

        Assert.Equal(
            client.AssignmentName(Group, Container, AccessLevel.Reader), client.AssignmentName(Group, Container, AccessLevel.Reader));
        Assert.NotEqual(
            client.AssignmentName(Group, Container, AccessLevel.Reader), client.AssignmentName(Group, Container, AccessLevel.Contributor));
        Assert.NotEqual(
            client.AssignmentName(Group, Container, AccessLevel.Reader),
            client.AssignmentName(Group, "gardien-dmp1-other", AccessLevel.Reader));
        Assert.True(Guid.TryParse(client.AssignmentName(Group, Container, AccessLevel.Reader), out _));
    }
}
