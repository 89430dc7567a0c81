using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Access;

/// <summary>One person's access to one dataset's container. The person is found by directory id, e-mail or ORCID (first match).</summary>
/// <param name="ApprovalIds">The approvals that justify the grant; empty only to change an active grant (its approvals are kept). A grant without approvals is refused.</param>
public sealed record GrantAccessInput
{
    public required string DmpId { get; init; }
    public required string DatasetId { get; init; }
    public required string Container { get; init; }
    public string? PrincipalId { get; init; }
    public string? Email { get; init; }
    public string? Orcid { get; init; }
    public string? DisplayName { get; init; }
    public required AccessLevel Level { get; init; }
    public DateOnly? EndsOn { get; init; }
    public required IReadOnlyList<string> ApprovalIds { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string Actor { get; init; }

    public static GrantAccessInput FromPlan(string dmpId, DatasetPlan dataset, AccessGrant grant, IReadOnlyList<string> approvalIds, DateTimeOffset at, string actor)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(grant);
        return new GrantAccessInput
        {
            DmpId = dmpId,
            DatasetId = dataset.Key,
            Container = dataset.Storage.ContainerName,
            Email = grant.Principal.Email,
            Orcid = grant.Principal.Orcid,
            DisplayName = grant.Principal.Name,
            Level = Enum.Parse<AccessLevel>(grant.Role.ToString()),
            EndsOn = grant.Until,
            ApprovalIds = approvalIds,
            At = at,
            Actor = actor,
        };
    }
}

public enum GrantStatus
{
    Granted,
    AlreadyGranted,

    /// <summary>The directory does not know the person: nothing was granted (reported to the PI).</summary>
    PrincipalNotFound,
}

/// <param name="PrincipalId">Directory id of the person, when found.</param>
public sealed record GrantAccessResult(GrantStatus Status, string DatasetId, string Container, string? PrincipalId, string? DisplayName, AccessLevel Level, string? GroupId, IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally);

/// <summary>
/// Grants access: the person joins the container's group for the level (created on first use, with its role
/// assignment on the container), leaves the group of any other level, and the grant is recorded with its approvals.
/// Idempotent; audited. Used by the intake and update workflows and by access reviews.
/// </summary>
public sealed class GrantAccessActivity(IDirectory directory, IGovernanceRegistry registry, IAuditLog audit) : Activity<GrantAccessInput, GrantAccessResult>
{
    public override async Task<GrantAccessResult> RunAsync(ActivityContext context, GrantAccessInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var user = await AccessGroups.ResolveUserAsync(directory, input.PrincipalId, input.Email, input.Orcid, ct).ConfigureAwait(false);
        var existing = user is null ? null : await registry.GetGrantAsync(input.DmpId, input.DatasetId, user.Id, ct).ConfigureAwait(false);

        // A grant always carries approvals: new ones, or (a change that needs none, e.g. a lowered role or a moved end
        // date) the ones of the active grant it changes. Anything else is refused before touching the directory.
        IReadOnlyList<string> approvalIds = input.ApprovalIds.Count > 0 ? input.ApprovalIds
            : existing is { State: GrantState.Active, ApprovalIds.Count: > 0 } ? existing.ApprovalIds
            : [];
        if (approvalIds.Count == 0)
        {
            throw new NonRetryableActivityException($"Refusing to grant {input.Level} access on '{input.Container}' without an approval: every grant must be justified by the approvals its plan requires.");
        }

        if (user is null)
        {
            await audit.AppendAsync(
                AuditEntries.Create(input.Actor, "grant.skipped", context.InstanceId, AuditEntries.DatasetSubject(input.DmpId, input.DatasetId), input.At.UtcDateTime,
                    after: new { reason = "principal not found in the directory", email = input.Email, orcid = input.Orcid, level = input.Level.ToString() },
                    discriminator: ":" + (input.Email ?? input.Orcid ?? input.PrincipalId)),
                ct).ConfigureAwait(false);
            return new GrantAccessResult(GrantStatus.PrincipalNotFound, input.DatasetId, input.Container, null, input.DisplayName, input.Level, null, []);
        }

        var group = await directory.EnsureGroupAsync(AccessGroups.GroupName(input.Container, input.Level), AccessGroups.Description(input.DmpId, input.DatasetId, input.Level), ct).ConfigureAwait(false);
        var assignment = await directory.AssignRoleAsync(new PrincipalRef(group.Id, PrincipalKind.Group), input.Container, input.Level, ct).ConfigureAwait(false);
        var added = await directory.AddMemberAsync(group.Id, user.Id, ct).ConfigureAwait(false);

        // Exactly the granted level: a changed role leaves the other levels' groups.
        foreach (var other in Enum.GetValues<AccessLevel>().Where(l => l != input.Level))
        {
            if (await directory.FindGroupAsync(AccessGroups.GroupName(input.Container, other), ct).ConfigureAwait(false) is { } otherGroup)
            {
                await directory.RemoveMemberAsync(otherGroup.Id, user.Id, ct).ConfigureAwait(false);
            }
        }

        var unchanged = existing is { State: GrantState.Active } && existing.Level == input.Level && !added;
        var record = (existing ?? new GrantRecord { DmpId = input.DmpId, DatasetId = input.DatasetId, PrincipalId = user.Id, Level = input.Level, State = GrantState.Active }) with
        {
            PrincipalKind = PrincipalKind.User,
            Level = input.Level,
            State = GrantState.Active,
            EndsOn = input.EndsOn,
            ApprovalIds = [.. approvalIds],
            GrantedByInstanceId = context.InstanceId,
            GrantedAt = existing is { State: GrantState.Active, GrantedAt: { } grantedAt } ? grantedAt : input.At,
            RevokedAt = null,
            RevokedReason = null,
        };
        await registry.UpsertGrantAsync(record, ct).ConfigureAwait(false);
        await audit.AppendAsync(
            AuditEntries.Create(input.Actor, "grant.created", context.InstanceId, AuditEntries.DatasetSubject(input.DmpId, input.DatasetId), input.At.UtcDateTime,
                before: existing is null ? null : new { level = existing.Level.ToString(), state = existing.State.ToString() },
                after: new { principalId = user.Id, principal = user.DisplayName, level = input.Level.ToString(), group = group.Name, container = input.Container, endsOn = input.EndsOn, approvals = approvalIds, notEnforcedLocally = assignment.NotEnforcedLocally },
                discriminator: ":" + user.Id),
            ct).ConfigureAwait(false);
        return new GrantAccessResult(unchanged ? GrantStatus.AlreadyGranted : GrantStatus.Granted, input.DatasetId, input.Container, user.Id, user.DisplayName, input.Level, group.Id, assignment.NotEnforcedLocally);
    }
}
