using Gardien.Azure.Arm;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.Tests.Fakes;

/// <summary>Records what the directory delegates to the ARM role-assignment adapter.</summary>
public sealed class RecordingRoleAssignments : IContainerRoleAssignments
{
    public List<string> Calls { get; } = [];

    public Task<RoleAssignmentResult> AssignAsync(
        PrincipalRef principal,
        string container,
        AccessLevel role,
        CancellationToken cancellationToken = default)
    {
        Calls.Add($"assign {principal.Kind} {principal.Id} {container} {role}");
        return Task.FromResult(new RoleAssignmentResult("ra-1", true, []));
    }

    public Task<RoleAssignmentResult> RemoveAsync(
        PrincipalRef principal,
        string container,
        AccessLevel role,
        CancellationToken cancellationToken = default)
    {
        Calls.Add($"remove {principal.Kind} {principal.Id} {container} {role}");
        return Task.FromResult(new RoleAssignmentResult("ra-1", true, []));
    }

    public Task<IReadOnlyList<RoleAssignment>> ListAsync(string container, CancellationToken cancellationToken = default)
    {
        Calls.Add($"list {container}");
        return Task.FromResult<IReadOnlyList<RoleAssignment>>([]);
    }
}
