namespace Gardien.Workflows.Ports;

/// <summary>
/// Users, groups, membership and data-plane role assignments. Mutating calls are idempotent and return whether
/// they changed anything. Role assignments the backing store cannot enforce (the local JSON directory) are
/// recorded and reported as <see cref="NotEnforcedFeature"/> with <see cref="GovernanceFeatures.RoleAssignment"/>.
/// </summary>
public interface IDirectory
{
    /// <summary>
    /// Finds a user by e-mail (case-insensitive, contains '@') or ORCID (bare <c>0000-0002-1825-0097</c> or
    /// <c>https://orcid.org/…</c>). Null when nobody matches.
    /// </summary>
    Task<DirectoryUser?> FindUserAsync(string emailOrOrcid, CancellationToken cancellationToken = default);

    /// <summary>The user with this directory id, or null.</summary>
    Task<DirectoryUser?> GetUserAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Creates the group if no group has this name; returns it either way. Idempotent by name.</summary>
    Task<DirectoryGroup> EnsureGroupAsync(string groupName, string description, CancellationToken cancellationToken = default);

    /// <summary>The group with this name, or null.</summary>
    Task<DirectoryGroup?> FindGroupAsync(string groupName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds the user to the group. Returns false when already a member. Throws <see cref="PortNotFoundException"/> for an unknown group or
    /// user.
    /// </summary>
    Task<bool> AddMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds several users to the group in as few calls as the backing store allows (Entra ID: 20 per request). Returns
    /// the ids that were not members before; users already in the group are success. Throws
    /// <see cref="PortNotFoundException"/> for an unknown group or user. The default adds them one by one.
    /// </summary>
    async Task<IReadOnlyList<string>> AddMembersAsync(
        string groupId,
        IReadOnlyList<string> userIds,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        var added = new List<string>();
        foreach (var userId in userIds.Distinct(StringComparer.Ordinal))
        {
            if (await AddMemberAsync(groupId, userId, cancellationToken))
            {
                added.Add(userId);
            }
        }

        return added;
    }

    /// <summary>
    /// Removes the user from the group. Returns false when not a member. Throws <see cref="PortNotFoundException"/> for an unknown group.
    /// </summary>
    Task<bool> RemoveMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default);

    /// <summary>The members of the group. Throws <see cref="PortNotFoundException"/> for an unknown group.</summary>
    Task<IReadOnlyList<DirectoryUser>> ListMembersAsync(string groupId, CancellationToken cancellationToken = default);

    /// <summary>Assigns a data-plane role on a container to a user or group. Idempotent per (principal, scope, role).</summary>
    Task<RoleAssignmentResult> AssignRoleAsync(
        PrincipalRef principal,
        string scope,
        AccessLevel role,
        CancellationToken cancellationToken = default);

    /// <summary>Removes that assignment. Idempotent: removing a missing assignment returns <c>Changed = false</c>.</summary>
    Task<RoleAssignmentResult> RemoveRoleAssignmentAsync(
        PrincipalRef principal,
        string scope,
        AccessLevel role,
        CancellationToken cancellationToken = default);

    /// <summary>Assignments recorded on the scope (a container name).</summary>
    Task<IReadOnlyList<RoleAssignment>> ListRoleAssignmentsAsync(string scope, CancellationToken cancellationToken = default);
}

/// <param name="Id">Stable directory id (object id in Entra ID).</param>
public sealed record DirectoryUser(string Id, string DisplayName, string? Email, string? Orcid);

/// <summary>A directory group.</summary>
/// <param name="Id">Stable directory id (object id in Entra ID).</param>
/// <param name="Name">Its unique name.</param>
/// <param name="Description">What it is for.</param>
public sealed record DirectoryGroup(string Id, string Name, string? Description);

/// <summary>What a principal is.</summary>
public enum PrincipalKind
{
    /// <summary>A person.</summary>
    User,
    /// <summary>A group of people.</summary>
    Group,
}

/// <summary>A user or group a role is assigned to.</summary>
/// <param name="Id">Its directory id.</param>
/// <param name="Kind">User or group.</param>
public sealed record PrincipalRef(string Id, PrincipalKind Kind);

/// <summary>Access levels, mapped by Azure adapters to Storage Blob Data Reader / Contributor / Owner.</summary>
public enum AccessLevel
{
    /// <summary>Reads blobs.</summary>
    Reader,
    /// <summary>Reads and writes blobs.</summary>
    Contributor,
    /// <summary>Reads and writes blobs and manages their access.</summary>
    Owner,
}

/// <summary>A role assignment recorded on a scope.</summary>
/// <param name="AssignmentId">Deterministic id of the assignment.</param>
/// <param name="Principal">The user or group.</param>
/// <param name="Scope">The container the role is on.</param>
/// <param name="Role">The access level.</param>
public sealed record RoleAssignment(string AssignmentId, PrincipalRef Principal, string Scope, AccessLevel Role);

/// <param name="AssignmentId">Deterministic id of the assignment (same inputs, same id).</param>
public sealed record RoleAssignmentResult(string AssignmentId, bool Changed, IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally);
