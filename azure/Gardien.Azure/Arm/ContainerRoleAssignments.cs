using System.Text.Json.Nodes;
using Azure.Core;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Azure.Arm;

/// <summary>
/// <see cref="IContainerRoleAssignments"/> over the ARM REST API (<c>Microsoft.Authorization/roleAssignments</c>,
/// api-version 2022-04-01) on one container's scope of the research account. Assignment names are name-based GUIDs of
/// (principal, scope, role definition), so a repeated call finds its own assignment. Only Storage Blob Data Reader and
/// Contributor are ever assigned: the app identity's Role Based Access Control Administrator grant carries a condition
/// that allows nothing else (docs/ops.md). <see cref="AccessLevel.Owner"/> (the PI's level) gets Contributor, the most
/// that condition allows: ownership is Gardien's (who approves, who reviews access), not a storage right.
/// </summary>
public sealed class ContainerRoleAssignments : IContainerRoleAssignments
{
    internal const string ApiVersion = "2022-04-01";

    /// <summary>Built-in role definition ids, identical in every Azure cloud.</summary>
    public const string StorageBlobDataReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";

    public const string StorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";

    private const string GrantHint =
        "The app identity needs Role Based Access Control Administrator on the research account, "
        + "with the condition that allows Storage Blob Data Reader and Contributor (infra-bicep/modules/role-assignments.bicep).";

    private readonly ArmRestClient _arm;
    private readonly StorageAccountId _account;
    private readonly ILogger _logger;

    public ContainerRoleAssignments(
        ResearchStorageOptions options,
        TokenCredential credential,
        ArmClientOptions? clientOptions = null,
        ILogger<ContainerRoleAssignments>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _account = options.Account;
        _arm = new ArmRestClient(options.ResourceManagerEndpoint, credential, clientOptions);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public async Task<RoleAssignmentResult> AssignAsync(
        PrincipalRef principal,
        string container,
        AccessLevel role,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var (scope, roleDefinitionId, name) = Describe(principal, container, role);
        var path = $"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}";

        var existing = await _arm.SendAsync(RequestMethod.Get, path, ApiVersion, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (existing.IsSuccess)
        {
            var properties = existing.Object["properties"] as JsonObject;
            if (!string.Equals(Text(properties?["principalId"]), principal.Id, StringComparison.OrdinalIgnoreCase) ||
                !string.Equals(Text(properties?["roleDefinitionId"]), roleDefinitionId, StringComparison.OrdinalIgnoreCase))
            {
                throw new PortRefusedException(
                    $"Role assignment '{name}' on container '{container}' exists but is not {role} for {principal.Id}; "
                    + "remove it in the Azure portal and try again.");
            }

            return new RoleAssignmentResult(name, false, []);
        }

        if (existing.Status != 404)
        {
            throw existing.Fail(GrantHint);
        }

        var body = new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["roleDefinitionId"] = roleDefinitionId,
                ["principalId"] = principal.Id,
                ["principalType"] = principal.Kind == PrincipalKind.Group ? "Group" : "User",
                ["description"] = $"Gardien: {RoleName(role)} on container {container}",
            },
        };
        var created = await _arm.SendAsync(RequestMethod.Put, path, ApiVersion, body, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (created.IsSuccess)
        {
            _logger.LogInformation(
                "Assigned {Role} on container {Container} to {PrincipalKind} {PrincipalId}",
                RoleName(role),
                container,
                principal.Kind,
                principal.Id);
            return new RoleAssignmentResult(name, true, []);
        }

        if (created.Status == 409 && created.ErrorCode == "RoleAssignmentExists")
        {
            // The same (principal, role, scope) exists under another name, made by hand or by an older release: it grants the same access.
            return new RoleAssignmentResult(name, false, []);
        }

        if (created.Status == 400 && created.ErrorCode is "PrincipalNotFound")
        {
            // A group created seconds ago may not have replicated to ARM yet: worth trying again.
            throw new PortException(
                $"Azure does not know principal {principal.Id} yet ({created.ErrorMessage}); a new group takes a few minutes to replicate, "
                + "so the assignment will be tried again.",
                isTransient: true);
        }

        throw created.Fail(GrantHint);
    }

    public async Task<RoleAssignmentResult> RemoveAsync(
        PrincipalRef principal,
        string container,
        AccessLevel role,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var (scope, roleDefinitionId, name) = Describe(principal, container, role);
        var deleted = await _arm.SendAsync(
            RequestMethod.Delete,
            $"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
            ApiVersion,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (deleted.Status == 200)
        {
            _logger.LogInformation("Removed {Role} on container {Container} from {PrincipalId}", RoleName(role), container, principal.Id);
            return new RoleAssignmentResult(name, true, []);
        }

        if (deleted.Status is not (204 or 404))
        {
            throw deleted.Fail(GrantHint);
        }

        // Not under Gardien's name: an equivalent assignment made under another name (the 409 case of AssignAsync) still grants access.
        var changed = false;
        await foreach (var other in ListRawAsync(scope, $"principalId eq '{principal.Id}'", cancellationToken).ConfigureAwait(false))
        {
            if (other.Scope.Equals(scope, StringComparison.OrdinalIgnoreCase)
                && other.RoleDefinitionId.Equals(roleDefinitionId, StringComparison.OrdinalIgnoreCase))
            {
                var again = await _arm.SendAsync(RequestMethod.Delete, other.Id, ApiVersion, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                if (again.Status is not (200 or 204 or 404))
                {
                    throw again.Fail(GrantHint);
                }

                changed |= again.Status == 200;
            }
        }

        return new RoleAssignmentResult(name, changed, []);
    }

    public async Task<IReadOnlyList<RoleAssignment>> ListAsync(string container, CancellationToken cancellationToken = default)
    {
        var scope = Scope(container);
        var result = new List<RoleAssignment>();
        await foreach (var raw in ListRawAsync(scope, "atScope()", cancellationToken).ConfigureAwait(false))
        {
            if (!raw.Scope.Equals(scope, StringComparison.OrdinalIgnoreCase) || raw.PrincipalType is not ("User" or "Group"))
            {
                continue;
            }

            AccessLevel? level = raw.RoleDefinitionId.EndsWith(StorageBlobDataReader, StringComparison.OrdinalIgnoreCase)
                ? AccessLevel.Reader
                : raw.RoleDefinitionId.EndsWith(StorageBlobDataContributor, StringComparison.OrdinalIgnoreCase) ? AccessLevel.Contributor
                : null;
            if (level is { } role)
            {
                result.Add(
                    new RoleAssignment(
                        raw.Name,
                        new PrincipalRef(raw.PrincipalId, raw.PrincipalType == "Group" ? PrincipalKind.Group : PrincipalKind.User),
                        container,
                        role));
            }
        }

        return result;
    }

    /// <summary>The deterministic assignment name (a GUID) for the principal, container and role.</summary>
    public string AssignmentName(PrincipalRef principal, string container, AccessLevel role) => Describe(principal, container, role).Name;

    private (string Scope, string RoleDefinitionId, string Name) Describe(PrincipalRef principal, string container, AccessLevel role)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(principal.Id);
        if (!Guid.TryParse(principal.Id, out _))
        {
            throw new PortRefusedException(
                $"Principal id '{principal.Id}' is not an Entra ID object id (a GUID); "
                + "role assignments need the directory id of the user or group.");
        }

        var scope = Scope(container);
        var roleDefinitionId =
            $"/subscriptions/{_account.SubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/{RoleDefinition(role)}";
        return (scope, roleDefinitionId, DeterministicGuid.Create(principal.Id, scope, roleDefinitionId).ToString());
    }

    private string Scope(string container)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(container);
        if (container.Length is < 3 or > 63 || container.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            throw new PortRefusedException(
                $"Container name '{container}' is invalid: use 3–63 lower-case letters, digits and single hyphens.");
        }

        return _account.ContainerId(container);
    }

    private static string RoleDefinition(AccessLevel role) => role switch
    {
        AccessLevel.Reader => StorageBlobDataReader,
        AccessLevel.Contributor or AccessLevel.Owner => StorageBlobDataContributor,
        _ => throw new PortRefusedException(
            "Gardien assigns only Storage Blob Data Reader or Contributor on research containers; "
            + $"{role} is not allowed (the app identity's role-assignment condition refuses every other role)."),
    };

    private static string RoleName(AccessLevel role) =>
        role == AccessLevel.Reader ? "Storage Blob Data Reader" : "Storage Blob Data Contributor";

    private async IAsyncEnumerable<RawAssignment> ListRawAsync(
        string scope,
        string filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? next = $"{scope}/providers/Microsoft.Authorization/roleAssignments";
        var first = true;
        while (next is not null)
        {
            var page = await _arm.SendAsync(
                RequestMethod.Get,
                next,
                ApiVersion,
                query: first ? new Dictionary<string, string> { ["$filter"] = filter } : null,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            page.EnsureSuccess(GrantHint);
            first = false;
            foreach (var item in (page.Object["value"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var properties = item["properties"] as JsonObject;
                if (Text(item["id"]) is { } id && Text(item["name"]) is { } name && Text(properties?["principalId"]) is { } principalId &&
                    Text(properties?["roleDefinitionId"]) is { } roleDefinitionId && Text(properties?["scope"]) is { } assignmentScope)
                {
                    yield return new RawAssignment(
                        id, name, principalId, Text(properties?["principalType"]) ?? "Unknown", roleDefinitionId, assignmentScope);
                }
            }

            next = Text(page.Object["nextLink"]);
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private sealed record RawAssignment(
        string Id,
        string Name,
        string PrincipalId,
        string PrincipalType,
        string RoleDefinitionId,
        string Scope);
}
