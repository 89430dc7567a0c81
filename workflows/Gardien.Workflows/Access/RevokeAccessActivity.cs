using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Access;

/// <summary>Ends one person's access to one dataset's container (found by directory id, e-mail or ORCID).</summary>
/// <param name="Level">The level to revoke; null: every level.</param>
/// <param name="RemoveEmptyGroupAssignment">Also remove the group's role assignment on the container when the group ends up empty
/// (compensation, decommissioning).</param>
public sealed record RevokeAccessInput
{
    public required string DmpId { get; init; }
    public required string DatasetId { get; init; }
    public required string Container { get; init; }
    public string? PrincipalId { get; init; }
    public string? Email { get; init; }
    public string? Orcid { get; init; }
    public AccessLevel? Level { get; init; }
    public required string Reason { get; init; }
    public bool RemoveEmptyGroupAssignment { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string Actor { get; init; }
}

/// <param name="Changed">True when a membership or a grant record changed.</param>
public sealed record RevokeAccessResult(bool Changed, string? PrincipalId);

/// <summary>
/// Revokes access: removes the person from the container's level groups, optionally drops the role assignment of a group
/// left empty, and marks the grant Revoked with the reason. Idempotent; audited. Used by compensation, updates and access reviews.
/// </summary>
public sealed class RevokeAccessActivity(
    IDirectory directory,
    IGovernanceRegistry registry,
    IAuditLog audit) : Activity<RevokeAccessInput, RevokeAccessResult>
{
    public override async Task<RevokeAccessResult> RunAsync(ActivityContext context, RevokeAccessInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var user = await AccessGroups.ResolveUserAsync(directory, input.PrincipalId, input.Email, input.Orcid, ct);
        var principalId = user?.Id ?? input.PrincipalId;
        if (principalId is null)
        {
            return new RevokeAccessResult(false, null);
        }

        var changed = false;
        var levels = input.Level is { } level ? [level] : Enum.GetValues<AccessLevel>();
        foreach (var each in levels)
        {
            if (await directory.FindGroupAsync(AccessGroups.GroupName(input.Container, each), ct) is not { } group)
            {
                continue;
            }

            changed |= await directory.RemoveMemberAsync(group.Id, principalId, ct);
            if (input.RemoveEmptyGroupAssignment && (await directory.ListMembersAsync(group.Id, ct)).Count == 0)
            {
                await directory.RemoveRoleAssignmentAsync(new PrincipalRef(group.Id, PrincipalKind.Group), input.Container, each, ct);
            }
        }

        var grant = await registry.GetGrantAsync(input.DmpId, input.DatasetId, principalId, ct);
        if (grant is { State: GrantState.Active } && (input.Level is null || grant.Level == input.Level))
        {
            await registry.UpsertGrantAsync(
                grant with { State = GrantState.Revoked, RevokedAt = input.At, RevokedReason = input.Reason }, ct);
            changed = true;
        }

        // This request's own revocation found done by a rerun (after a crash between the registry write and the entry)
        // is audited as well: the entry's idempotency key lets the log keep exactly one.
        var revokedByThisRequest = grant is { State: GrantState.Revoked }
            && grant.RevokedAt == input.At
            && grant.RevokedReason == input.Reason;
        if (changed || revokedByThisRequest)
        {
            await audit.AppendAsync(
                AuditEntries.Create(
                    input.Actor,
                    "grant.revoked",
                    context.InstanceId,
                    AuditEntries.DatasetSubject(input.DmpId, input.DatasetId),
                    input.At.UtcDateTime,
                    before: grant is null ? null : new { level = grant.Level.ToString(), state = grant.State.ToString() },
                    after: new
                    {
                        principalId,
                        container = input.Container,
                        level = input.Level?.ToString() ?? "all",
                        reason = input.Reason,
                    },
                    discriminator: ":" + principalId),
                ct);
        }

        return new RevokeAccessResult(changed, principalId);
    }
}
