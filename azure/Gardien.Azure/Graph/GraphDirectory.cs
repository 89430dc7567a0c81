using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gardien.Azure.Arm;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Group = Microsoft.Graph.Models.Group;
using RoleAssignment = Gardien.Workflows.Ports.RoleAssignment;

namespace Gardien.Azure.Graph;

/// <summary>
/// <see cref="IDirectory"/> over Entra ID through Microsoft Graph.
/// <list type="bullet">
/// <item>People are found by e-mail (<c>mail</c>, then <c>userPrincipalName</c>, then <c>otherMails</c>) or by ORCID
/// (the directory extension attribute <see cref="GraphOptions.OrcidAttribute"/>). Nobody, or more than one person,
/// matching gives null: the plan reports the person as unresolved and nothing is granted to a guess.</item>
/// <item>Groups are security groups (security-enabled, not mail-enabled) found by a deterministic <c>mailNickname</c>
/// (<see cref="GraphNames.MailNickname"/>) and created with the same value as <c>uniqueName</c>, so that two
/// concurrent or repeated creations cannot make two groups: the loser finds the winner's group.</item>
/// <item>Members are added in batches of at most 20 (<c>members@odata.bind</c>), removed one by one; an existing
/// membership is success. A group's "not found" within <see cref="GraphOptions.ReplicationWindow"/> of its creation is
/// Entra ID's replication delay and is retried; throttling is retried honouring Retry-After.</item>
/// <item>Role assignments live in Azure Resource Manager, not Entra ID: they go to <see cref="IContainerRoleAssignments"/>.</item>
/// </list>
/// </summary>
public sealed partial class GraphDirectory : IDirectory
{
    /// <summary>Graph's limit of references in one <c>members@odata.bind</c> request.</summary>
    public const int MembersPerRequest = 20;

    private static readonly string[] GroupFields =
    [
        "id",
        "displayName",
        "description",
        "createdDateTime",
        "securityEnabled",
        "mailEnabled",
    ];

    private readonly GraphServiceClient _client;
    private readonly GraphOptions _options;
    private readonly IContainerRoleAssignments _roles;
    private readonly GraphCaller _caller;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string[] _userFields;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _groupCreated = new(StringComparer.OrdinalIgnoreCase);

    public GraphDirectory(
        GraphServiceClient client,
        GraphOptions options,
        IContainerRoleAssignments roleAssignments,
        TimeProvider? timeProvider = null,
        ILogger<GraphDirectory>? logger = null)
        : this(client, options, roleAssignments, timeProvider, logger, delay: null)
    {
    }

    /// <param name="delay">Tests only: how to wait between attempts (records the waits instead of sleeping).</param>
    internal GraphDirectory(
        GraphServiceClient client,
        GraphOptions options,
        IContainerRoleAssignments roleAssignments,
        TimeProvider? timeProvider,
        ILogger<GraphDirectory>? logger,
        Func<TimeSpan, CancellationToken, Task>? delay)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(roleAssignments);
        _client = client;
        _options = options;
        _roles = roleAssignments;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _caller = new GraphCaller(options, delay ?? GraphCaller.RealDelay(_time));
        _userFields = string.IsNullOrWhiteSpace(options.OrcidAttribute)
            ? ["id", "displayName", "mail", "otherMails", "userPrincipalName"]
            : ["id", "displayName", "mail", "otherMails", "userPrincipalName", options.OrcidAttribute];
    }

    public async Task<DirectoryUser?> FindUserAsync(string emailOrOrcid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(emailOrOrcid);
        var needle = emailOrOrcid.Trim();
        if (needle.Contains('@', StringComparison.Ordinal))
        {
            var email = needle.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? needle[7..] : needle;
            if (!EmailShape().IsMatch(email))
            {
                return null;
            }

            var literal = GraphNames.Literal(email);
            var users = await QueryUsersAsync(
                $"mail eq {literal} or userPrincipalName eq {literal} or otherMails/any(m:m eq {literal})",
                cancellationToken).ConfigureAwait(false);
            return PickByEmail(users, email);
        }

        if (NormaliseOrcid(needle) is not { } orcid)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(_options.OrcidAttribute))
        {
            _logger.LogInformation("A person given by ORCID only cannot be resolved: Graph__OrcidAttribute is not set.");
            return null;
        }

        var attribute = _options.OrcidAttribute;
        var matches = await QueryUsersAsync($"{attribute} eq '{orcid}' or {attribute} eq 'https://orcid.org/{orcid}'", cancellationToken)
            .ConfigureAwait(false);
        return Single(matches, "ORCID");
    }

    public async Task<DirectoryUser?> GetUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        try
        {
            var user = await _caller.RunAsync(
                "read a user",
                ct => _client.Users[userId].GetAsync(r => r.QueryParameters.Select = _userFields, ct),
                null,
                cancellationToken).ConfigureAwait(false);
            return user is null ? null : ToPort(user);
        }
        catch (PortNotFoundException)
        {
            return null;
        }
        catch (PortRefusedException ex) when (ex.InnerException is ApiException { ResponseStatusCode: 400 })
        {
            // Not an object id nor a user principal name: nobody has it.
            return null;
        }
    }

    public async Task<DirectoryGroup> EnsureGroupAsync(string groupName, string description, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(groupName);
        if (await FindGraphGroupAsync(groupName, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return ToPort(existing, groupName);
        }

        var nickname = GraphNames.MailNickname(groupName);

        // A new body per attempt: the SDK's backing store sends only properties changed since the last serialisation.
        Group NewGroup()
        {
            var group = new Group
            {
                DisplayName = groupName,
                Description = description is { Length: > 1024 } ? description[..1024] : description,
                MailEnabled = false,
                MailNickname = nickname,
                SecurityEnabled = true,
                UniqueName = nickname,
            };
            if (!string.IsNullOrWhiteSpace(_options.GroupOwnerId))
            {
                group.AdditionalData["owners@odata.bind"] = new List<string>
                {
                    GraphNames.DirectoryObjectReference(_options.BaseUrl, _options.GroupOwnerId),
                };
            }

            return group;
        }

        try
        {
            var created = await _caller.RunAsync(
                $"create the security group '{groupName}'",
                ct => _client.Groups.PostAsync(NewGroup(), cancellationToken: ct),
                null,
                cancellationToken).ConfigureAwait(false);
            if (created?.Id is null)
            {
                throw new PortException(
                    $"Microsoft Graph created the group '{groupName}' but returned no id; the call can be retried.", isTransient: true);
            }

            _groupCreated[created.Id] = created.CreatedDateTime ?? _time.GetUtcNow();
            _logger.LogInformation("Created the security group {GroupName} ({GroupId}).", groupName, created.Id);
            return ToPort(created, groupName);
        }
        catch (PortException ex) when (ex.InnerException is ApiException api
            && (api.ResponseStatusCode == 409 || GraphCaller.IsAlreadyExists(api)))
        {
            // uniqueName is taken: a concurrent creator, or an earlier attempt whose answer was lost, made the group.
            // It may not be visible yet, hence the replication-aware read.
            if (await GetByUniqueNameAsync(nickname, cancellationToken).ConfigureAwait(false) is not { } winner)
            {
                throw;
            }

            return ToPort(winner, groupName);
        }
    }

    public async Task<DirectoryGroup?> FindGroupAsync(string groupName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(groupName);
        return await FindGraphGroupAsync(groupName, cancellationToken).ConfigureAwait(false) is { } group ? ToPort(group, groupName) : null;
    }

    public async Task<bool> AddMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(groupId);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        try
        {
            await _caller.RunAsync(
                $"add a member to group {groupId}",
                ct => _client.Groups[groupId].Members.Ref.PostAsync(
                    new ReferenceCreate { OdataId = GraphNames.DirectoryObjectReference(_options.BaseUrl, userId) }, cancellationToken: ct),
                MayBeReplicating(groupId),
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PortException ex) when (ex.InnerException is ApiException api && GraphCaller.IsAlreadyExists(api))
        {
            return false;
        }
        catch (PortNotFoundException ex)
        {
            throw new PortNotFoundException($"Group {groupId} or user {userId} does not exist in Entra ID.", ex);
        }
    }

    public async Task<IReadOnlyList<string>> AddMembersAsync(
        string groupId,
        IReadOnlyList<string> userIds,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(groupId);
        ArgumentNullException.ThrowIfNull(userIds);
        var wanted = userIds.Where(id => !string.IsNullOrWhiteSpace(id)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (wanted.Count == 0)
        {
            return [];
        }

        // Graph refuses a whole batch when one reference already exists, so the current members are left out first.
        var current = await MemberIdsAsync(groupId, cancellationToken).ConfigureAwait(false);
        var added = new List<string>();
        foreach (var batch in wanted.Where(id => !current.Contains(id)).Chunk(MembersPerRequest))
        {
            Group NewPatch()
            {
                var patch = new Group();
                patch.AdditionalData["members@odata.bind"] = batch.Select(id => GraphNames.DirectoryObjectReference(_options.BaseUrl, id))
                    .ToList();
                return patch;
            }

            try
            {
                await _caller.RunAsync(
                    $"add {batch.Length} members to group {groupId}",
                    ct => _client.Groups[groupId].PatchAsync(NewPatch(), cancellationToken: ct),
                    MayBeReplicating(groupId),
                    cancellationToken).ConfigureAwait(false);
                added.AddRange(batch);
            }
            catch (PortException ex) when (ex.InnerException is ApiException api
                && (GraphCaller.IsAlreadyExists(api) || GraphCaller.IsNotFound(api)))
            {
                // Someone joined meanwhile, or one of the users does not exist: one by one tells which.
                foreach (var id in batch)
                {
                    if (await AddMemberAsync(groupId, id, cancellationToken).ConfigureAwait(false))
                    {
                        added.Add(id);
                    }
                }
            }
        }

        return added;
    }

    public async Task<bool> RemoveMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(groupId);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        try
        {
            await _caller.RunAsync(
                $"remove a member from group {groupId}",
                ct => _client.Groups[groupId].Members[userId].Ref.DeleteAsync(cancellationToken: ct),
                null,
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PortNotFoundException)
        {
            // Graph answers 404 both for "not a member" and for "no such group": only the latter is an error.
            await RequireGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
            return false;
        }
    }

    public async Task<IReadOnlyList<DirectoryUser>> ListMembersAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(groupId);
        var members = new List<DirectoryUser>();
        try
        {
            var page = await _caller.RunAsync(
                $"list the members of group {groupId}",
                ct => _client.Groups[groupId].Members.GraphUser.GetAsync(r =>
                {
                    r.QueryParameters.Select = _userFields;
                    r.QueryParameters.Top = 999;
                }, ct),
                MayBeReplicating(groupId),
                cancellationToken).ConfigureAwait(false);
            while (page is not null)
            {
                members.AddRange((page.Value ?? []).Where(u => u.Id is not null).Select(ToPort));
                if (page.OdataNextLink is not { } next)
                {
                    break;
                }

                page = await _caller.RunAsync(
                    $"list the members of group {groupId}",
                    ct => _client.Groups[groupId].Members.GraphUser.WithUrl(next).GetAsync(cancellationToken: ct),
                    null,
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PortNotFoundException ex)
        {
            throw new PortNotFoundException($"Group {groupId} does not exist in Entra ID.", ex);
        }

        return members;
    }

    public Task<RoleAssignmentResult> AssignRoleAsync(
        PrincipalRef principal,
        string scope,
        AccessLevel role,
        CancellationToken cancellationToken = default) =>
        _roles.AssignAsync(principal, scope, role, cancellationToken);

    public Task<RoleAssignmentResult> RemoveRoleAssignmentAsync(
        PrincipalRef principal,
        string scope,
        AccessLevel role,
        CancellationToken cancellationToken = default) =>
        _roles.RemoveAsync(principal, scope, role, cancellationToken);

    public Task<IReadOnlyList<RoleAssignment>> ListRoleAssignmentsAsync(string scope, CancellationToken cancellationToken = default) =>
        _roles.ListAsync(scope, cancellationToken);

    /// <summary>ORCID iD in its bare form (<c>0000-0002-1825-0097</c>), from the bare or URL form; null when it is not one.</summary>
    internal static string? NormaliseOrcid(string value)
    {
        var trimmed = value.Trim();
        foreach (var prefix in new[] { "https://orcid.org/", "http://orcid.org/", "orcid.org/" })
        {
            if (trimmed.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                trimmed = trimmed[prefix.Length..];
                break;
            }
        }

        trimmed = trimmed.ToUpperInvariant();
        return OrcidShape().IsMatch(trimmed) ? trimmed : null;
    }

    private async Task<IReadOnlyList<User>> QueryUsersAsync(string filter, CancellationToken cancellationToken)
    {
        var page = await _caller.RunAsync("find a user", ct => _client.Users.GetAsync(r =>
        {
            r.QueryParameters.Filter = filter;
            r.QueryParameters.Select = _userFields;
            r.QueryParameters.Top = 5;

            // otherMails/any(...) is an advanced query: it needs $count and eventual consistency.
            r.QueryParameters.Count = true;
            r.Headers.Add("ConsistencyLevel", "eventual");
        }, ct), null, cancellationToken).ConfigureAwait(false);
        return [.. (page?.Value ?? []).Where(u => u.Id is not null)];
    }

    private DirectoryUser? PickByEmail(IReadOnlyList<User> users, string email)
    {
        // The primary address wins over the sign-in name, which wins over secondary addresses: one person's alias
        // can be another's old address.
        IEnumerable<Func<User, bool>> tiers =
        [
            u => string.Equals(u.Mail, email, StringComparison.OrdinalIgnoreCase),
            u => string.Equals(u.UserPrincipalName, email, StringComparison.OrdinalIgnoreCase),
            u => u.OtherMails?.Contains(email, StringComparer.OrdinalIgnoreCase) == true,
        ];
        foreach (var tier in tiers)
        {
            var matches = users.Where(tier).ToList();
            if (matches.Count > 0)
            {
                return Single(matches, "e-mail");
            }
        }

        return null;
    }

    private DirectoryUser? Single(IReadOnlyList<User> matches, string by)
    {
        if (matches.Count > 1)
        {
            _logger.LogWarning(
                "{Count} Entra ID users match the same {Key}: the person stays unresolved rather than granted to a guess.",
                matches.Count,
                by);
            return null;
        }

        return matches.Count == 1 ? ToPort(matches[0]) : null;
    }

    private DirectoryUser ToPort(User user) => new(
        user.Id!,
        user.DisplayName ?? user.Mail ?? user.UserPrincipalName ?? user.Id!,
        user.Mail ?? user.OtherMails?.FirstOrDefault() ?? user.UserPrincipalName,
        OrcidOf(user));

    private string? OrcidOf(User user)
    {
        if (string.IsNullOrWhiteSpace(_options.OrcidAttribute)
            || user.AdditionalData is null
            || !user.AdditionalData.TryGetValue(_options.OrcidAttribute, out var raw))
        {
            return null;
        }

        var text = raw switch
        {
            string s => s,
            UntypedString u => u.GetValue(),
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            _ => null,
        };
        return text is null ? null : NormaliseOrcid(text);
    }

    private DirectoryGroup ToPort(Group group, string groupName)
    {
        if (group.CreatedDateTime is { } created)
        {
            _groupCreated.TryAdd(group.Id!, created);
        }

        return new DirectoryGroup(group.Id!, groupName, group.Description);
    }

    private async Task<Group?> FindGraphGroupAsync(string groupName, CancellationToken cancellationToken)
    {
        var nickname = GraphNames.MailNickname(groupName);
        var page = await _caller.RunAsync($"find the group '{groupName}'", ct => _client.Groups.GetAsync(r =>
        {
            r.QueryParameters.Filter = $"mailNickname eq {GraphNames.Literal(nickname)}";
            r.QueryParameters.Select = GroupFields;
            r.QueryParameters.Top = 2;
        }, ct), null, cancellationToken).ConfigureAwait(false);
        var groups = (page?.Value ?? []).Where(g => g.Id is not null).ToList();
        if (groups.Count > 1)
        {
            throw new PortRefusedException(
                $"{groups.Count} Entra ID groups have the mailNickname '{nickname}': Gardien cannot tell which one grants access. "
                + "Delete the one not created by Gardien.");
        }

        if (groups is [{ SecurityEnabled: false } or { MailEnabled: true }])
        {
            throw new PortRefusedException(
                $"The Entra ID group with mailNickname '{nickname}' is not a plain security group (security-enabled, not mail-enabled); "
                + "access cannot be granted through it. Rename or delete it.");
        }

        return groups.Count == 1 ? groups[0] : null;
    }

    private async Task<Group?> GetByUniqueNameAsync(string uniqueName, CancellationToken cancellationToken)
    {
        try
        {
            return await _caller.RunAsync(
                $"read the group '{uniqueName}'",
                ct => _client.GroupsWithUniqueName(uniqueName).GetAsync(r => r.QueryParameters.Select = GroupFields, ct),
                GraphCaller.IsNotFound,
                cancellationToken).ConfigureAwait(false);
        }
        catch (PortNotFoundException)
        {
            return null;
        }
    }

    private async Task<HashSet<string>> MemberIdsAsync(string groupId, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        try
        {
            var page = await _caller.RunAsync($"list the members of group {groupId}", ct => _client.Groups[groupId].Members.GetAsync(r =>
            {
                r.QueryParameters.Select = ["id"];
                r.QueryParameters.Top = 999;
            }, ct), MayBeReplicating(groupId), cancellationToken).ConfigureAwait(false);
            while (page is not null)
            {
                ids.UnionWith((page.Value ?? []).Select(m => m.Id).OfType<string>());
                if (page.OdataNextLink is not { } next)
                {
                    break;
                }

                page = await _caller.RunAsync(
                    $"list the members of group {groupId}",
                    ct => _client.Groups[groupId].Members.WithUrl(next).GetAsync(cancellationToken: ct),
                    null,
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PortNotFoundException ex)
        {
            throw new PortNotFoundException($"Group {groupId} does not exist in Entra ID.", ex);
        }

        return ids;
    }

    private async Task RequireGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        try
        {
            await _caller.RunAsync(
                $"read group {groupId}",
                ct => _client.Groups[groupId].GetAsync(r => r.QueryParameters.Select = ["id"], ct),
                MayBeReplicating(groupId),
                cancellationToken).ConfigureAwait(false);
        }
        catch (PortNotFoundException ex)
        {
            throw new PortNotFoundException($"Group {groupId} does not exist in Entra ID.", ex);
        }
    }

    /// <summary>
    /// Whether a "not found" about this group may be replication delay: it was created less than the replication window
    /// ago, or this process has not seen it (a retry in another instance right after the creation).
    /// </summary>
    private Func<ApiException, bool> MayBeReplicating(string groupId) => ex =>
        GraphCaller.IsNotFound(ex)
        && (!_groupCreated.TryGetValue(groupId, out var created) || _time.GetUtcNow() - created < _options.ReplicationWindow);

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$")]
    private static partial Regex EmailShape();

    [GeneratedRegex(@"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")]
    private static partial Regex OrcidShape();
}
