using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Access;

/// <summary>One person's access to one dataset's container. The person is found by directory id, e-mail or ORCID (first match).</summary>
/// <param name="ApprovalIds">The approvals that justify the grant; empty only to change an active grant (its approvals are kept). A grant
/// without approvals is refused.</param>
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

    public static GrantAccessInput FromPlan(
        string dmpId,
        DatasetPlan dataset,
        AccessGrant grant,
        IReadOnlyList<string> approvalIds,
        DateTimeOffset at,
        string actor)
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
public sealed record GrantAccessResult(
    GrantStatus Status,
    string DatasetId,
    string Container,
    string? PrincipalId,
    string? DisplayName,
    AccessLevel Level,
    string? GroupId,
    IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally);

/// <summary>Several grants in one activity (an intake's datasets, a batch at a time).</summary>
public sealed record GrantAccessBatchInput(IReadOnlyList<GrantAccessInput> Grants);

/// <param name="Results">One result per grant, in input order.</param>
public sealed record GrantAccessBatchResult(IReadOnlyList<GrantAccessResult> Results);

/// <summary>
/// Grants access: the person joins the container's group for the level (created on first use, with its role
/// assignment on the container), leaves the group of any other level, and the grant is recorded with its approvals.
/// Idempotent; audited. The workflows grant in batches (<see cref="GrantAccessBatchActivity"/>); this one stays registered
/// for instances whose history calls it.
/// </summary>
public sealed class GrantAccessActivity(
    IDirectory directory,
    IGovernanceRegistry registry,
    IAuditLog audit) : Activity<GrantAccessInput, GrantAccessResult>
{
    public override async Task<GrantAccessResult> RunAsync(ActivityContext context, GrantAccessInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var results = await GrantAccessBatchActivity.GrantAsync(
            directory, registry, audit, context.InstanceId, [input], context.CancellationToken);
        return results[0];
    }
}

/// <summary>
/// <see cref="GrantAccessActivity"/> for many grants at once, with the same effects and audit entries, but each group
/// is ensured once and gains all its new members in one directory call (<see cref="IDirectory.AddMembersAsync"/>):
/// a 1,000-dataset intake makes a few hundred directory writes instead of one per person and dataset. Every grant
/// of the batch is checked for its approvals before anything changes.
/// </summary>
public sealed class GrantAccessBatchActivity(
    IDirectory directory,
    IGovernanceRegistry registry,
    IAuditLog audit) : Activity<GrantAccessBatchInput, GrantAccessBatchResult>
{
    public override async Task<GrantAccessBatchResult> RunAsync(ActivityContext context, GrantAccessBatchInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return new GrantAccessBatchResult(
            await GrantAsync(directory, registry, audit, context.InstanceId, input.Grants, context.CancellationToken));
    }

    internal static async Task<IReadOnlyList<GrantAccessResult>> GrantAsync(
        IDirectory directory,
        IGovernanceRegistry registry,
        IAuditLog audit,
        string instanceId,
        IReadOnlyList<GrantAccessInput> inputs,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var users = new Dictionary<(string?, string?, string?), DirectoryUser?>();
        var plans = new List<(GrantAccessInput Input, DirectoryUser? User, GrantRecord? Existing, IReadOnlyList<string> ApprovalIds)>(
            inputs.Count);
        foreach (var input in inputs)
        {
            var who = (input.PrincipalId, input.Email, input.Orcid);
            if (!users.TryGetValue(who, out var user))
            {
                users[who] = user = await AccessGroups.ResolveUserAsync(directory, input.PrincipalId, input.Email, input.Orcid, ct);
            }

            var existing = user is null ? null : await registry.GetGrantAsync(input.DmpId, input.DatasetId, user.Id, ct);

            // A grant always carries approvals: new ones, or (a change that needs none, e.g. a lowered role or a moved end
            // date) the ones of the active grant it changes. Anything else is refused before touching the directory.
            IReadOnlyList<string> approvalIds = input.ApprovalIds.Count > 0 ? input.ApprovalIds
                : existing is { State: GrantState.Active, ApprovalIds.Count: > 0 } ? existing.ApprovalIds
                : [];
            if (approvalIds.Count == 0)
            {
                throw new NonRetryableActivityException(
                    $"Refusing to grant {input.Level} access on '{input.Container}' without an approval: "
                    + "every grant must be justified by the approvals its plan requires.");
            }

            plans.Add((input, user, existing, approvalIds));
        }

        // One person reached through two identities (e.g. e-mail and ORCID) gets one level on a container: the highest,
        // as the plan merges roles. Otherwise each grant would take the person out of the other's group.
        var levels = plans.Where(p => p.User is not null)
            .GroupBy(p => (p.Input.Container, p.User!.Id))
            .ToDictionary(g => g.Key, g => g.Max(p => p.Input.Level));
        for (var i = 0; i < plans.Count; i++)
        {
            if (plans[i].User is { } u && levels[(plans[i].Input.Container, u.Id)] is var level && level != plans[i].Input.Level)
            {
                plans[i] = plans[i] with { Input = plans[i].Input with { Level = level } };
            }
        }

        // The directory: each (container, level) group once, its new members together; then each person leaves the
        // groups of the other levels on that container, so exactly the granted level remains.
        var groups = new Dictionary<
            (string Container, AccessLevel Level),
            (DirectoryGroup Group, RoleAssignmentResult Assignment, HashSet<string> Added)>();
        foreach (var byGroup in plans.Where(p => p.User is not null).GroupBy(p => (p.Input.Container, p.Input.Level)))
        {
            var first = byGroup.First().Input;
            var group = await directory.EnsureGroupAsync(
                AccessGroups.GroupName(first.Container, first.Level),
                AccessGroups.Description(first.DmpId, first.DatasetId, first.Level),
                ct);
            var assignment = await directory.AssignRoleAsync(
                new PrincipalRef(group.Id, PrincipalKind.Group), first.Container, first.Level, ct);
            var added = await directory.AddMembersAsync(
                group.Id, [.. byGroup.Select(p => p.User!.Id).Distinct(StringComparer.Ordinal)], ct);
            groups[byGroup.Key] = (group, assignment, added.ToHashSet(StringComparer.Ordinal));
        }

        var otherGroups = new Dictionary<(string Container, AccessLevel Level), DirectoryGroup?>();
        foreach (var (input, user, _, _) in plans.Where(p => p.User is not null))
        {
            foreach (var other in Enum.GetValues<AccessLevel>().Where(l => l != input.Level))
            {
                var key = (input.Container, other);
                if (!otherGroups.TryGetValue(key, out var otherGroup))
                {
                    otherGroups[key] = otherGroup = groups.TryGetValue(key, out var known)
                        ? known.Group
                        : await directory.FindGroupAsync(AccessGroups.GroupName(input.Container, other), ct);
                }

                if (otherGroup is not null)
                {
                    await directory.RemoveMemberAsync(otherGroup.Id, user!.Id, ct);
                }
            }
        }

        var results = new List<GrantAccessResult>(plans.Count);
        foreach (var (input, user, existing, approvalIds) in plans)
        {
            if (user is null)
            {
                await audit.AppendAsync(
                    AuditEntries.Create(
                        input.Actor,
                        "grant.skipped",
                        instanceId,
                        AuditEntries.DatasetSubject(input.DmpId, input.DatasetId),
                        input.At.UtcDateTime,
                        after: new
                        {
                            reason = "principal not found in the directory",
                            email = input.Email,
                            orcid = input.Orcid,
                            level = input.Level.ToString(),
                        },
                        discriminator: ":" + (input.Email ?? input.Orcid ?? input.PrincipalId)),
                    ct);
                results.Add(
                    new GrantAccessResult(
                        GrantStatus.PrincipalNotFound, input.DatasetId, input.Container, null, input.DisplayName, input.Level, null, []));
                continue;
            }

            var (group, assignment, addedUsers) = groups[(input.Container, input.Level)];
            var unchanged = existing is { State: GrantState.Active } && existing.Level == input.Level && !addedUsers.Contains(user.Id);
            var record = (existing
                ?? new GrantRecord
                {
                    DmpId = input.DmpId,
                    DatasetId = input.DatasetId,
                    PrincipalId = user.Id,
                    Level = input.Level,
                    State = GrantState.Active,
                }) with
            {
                PrincipalKind = PrincipalKind.User,
                Level = input.Level,
                State = GrantState.Active,
                EndsOn = input.EndsOn,
                ApprovalIds = [.. approvalIds],
                GrantedByInstanceId = instanceId,
                GrantedAt = existing is { State: GrantState.Active, GrantedAt: { } grantedAt } ? grantedAt : input.At,
                RevokedAt = null,
                RevokedReason = null,
            };
            await registry.UpsertGrantAsync(record, ct);
            await audit.AppendAsync(
                AuditEntries.Create(
                    input.Actor,
                    "grant.created",
                    instanceId,
                    AuditEntries.DatasetSubject(input.DmpId, input.DatasetId),
                    input.At.UtcDateTime,
                    before: existing is null ? null : new { level = existing.Level.ToString(), state = existing.State.ToString() },
                    after: new
                    {
                        principalId = user.Id,
                        principal = user.DisplayName,
                        level = input.Level.ToString(),
                        group = group.Name,
                        container = input.Container,
                        endsOn = input.EndsOn,
                        approvals = approvalIds,
                        notEnforcedLocally = assignment.NotEnforcedLocally,
                    },
                    discriminator: ":" + user.Id),
                ct);
            results.Add(
                new GrantAccessResult(
                    unchanged ? GrantStatus.AlreadyGranted : GrantStatus.Granted,
                    input.DatasetId,
                    input.Container,
                    user.Id,
                    user.DisplayName,
                    input.Level,
                    group.Id,
                    assignment.NotEnforcedLocally));
        }

        return results;
    }
}
