using Gardien.Workflows.Ports;

namespace Gardien.Azure.Arm;

/// <summary>
/// Data-plane role assignments (Storage Blob Data Reader / Contributor) on one research container, made through Azure
/// Resource Manager. The Graph directory adapter delegates <see cref="IDirectory.AssignRoleAsync"/> and its siblings here,
/// because Entra ID holds the groups but ARM holds the role assignments.
/// </summary>
public interface IContainerRoleAssignments
{
    /// <summary>
    /// Assigns the role on the container's scope. Idempotent: an existing assignment is success (<c>Changed = false</c>).
    /// </summary>
    Task<RoleAssignmentResult> AssignAsync(
        PrincipalRef principal,
        string container,
        AccessLevel role,
        CancellationToken cancellationToken = default);

    /// <summary>Removes that assignment. Idempotent: a missing assignment returns <c>Changed = false</c>.</summary>
    Task<RoleAssignmentResult> RemoveAsync(
        PrincipalRef principal,
        string container,
        AccessLevel role,
        CancellationToken cancellationToken = default);

    /// <summary>The Gardien-managed assignments on the container's scope.</summary>
    Task<IReadOnlyList<RoleAssignment>> ListAsync(string container, CancellationToken cancellationToken = default);
}
