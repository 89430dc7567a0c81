using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Access;

/// <summary>One active grant of a reviewed member.</summary>
public sealed record ReviewedGrant(string DatasetId, string Container, AccessLevel Level, DateOnly? EndsOn);

/// <summary>A person with active access to the DMP's data, and their grants.</summary>
public sealed record ReviewMember(string PrincipalId, string DisplayName, string? Email, IReadOnlyList<ReviewedGrant> Grants);

/// <param name="DmpState">Null when the registry does not know the DMP.</param>
/// <param name="AccessEndsOn">Last day of access (project end + grace), from the plan in force, else the latest grant end.</param>
public sealed record AccessReviewSnapshot(
    DmpState? DmpState,
    string? Title,
    string? PiEmail,
    DateOnly? AccessEndsOn,
    IReadOnlyList<ReviewMember> Members);

/// <summary>
/// Reads what an access review needs: the DMP (state, PI, the plan's access end) and the active grants grouped by
/// person, with names and e-mails from the directory. Read-only.
/// </summary>
public sealed class LoadAccessReviewActivity(IGovernanceRegistry registry, IDirectory directory) : Activity<string, AccessReviewSnapshot>
{
    public override async Task<AccessReviewSnapshot> RunAsync(ActivityContext context, string input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        var ct = context.CancellationToken;
        var dmp = await registry.GetDmpAsync(input, ct);
        if (dmp is null)
        {
            return new AccessReviewSnapshot(null, null, null, null, []);
        }

        var grants = (await registry.ListGrantsAsync(input, null, ct)).Where(g => g.State == GrantState.Active).ToList();
        var datasets = (await registry.ListDatasetsAsync(input, ct)).ToDictionary(d => d.DatasetId, StringComparer.Ordinal);
        var members = new List<ReviewMember>();
        foreach (var byPrincipal in grants.GroupBy(g => g.PrincipalId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var user = await directory.GetUserAsync(byPrincipal.Key, ct);
            var reviewed = byPrincipal
                .Where(g => datasets.ContainsKey(g.DatasetId))
                .OrderBy(g => g.DatasetId, StringComparer.Ordinal)
                .Select(g => new ReviewedGrant(g.DatasetId, datasets[g.DatasetId].Container, g.Level, g.EndsOn))
                .ToList();
            if (reviewed.Count > 0)
            {
                members.Add(new ReviewMember(byPrincipal.Key, user?.DisplayName ?? byPrincipal.Key, user?.Email, reviewed));
            }
        }

        var accessEndsOn = PlanAccessEnd(dmp.ActivePlanJson) ?? grants.Where(g => g.EndsOn is not null).Select(g => g.EndsOn).Max();
        return new AccessReviewSnapshot(dmp.State, dmp.Title, dmp.ContactEmail, accessEndsOn, members);
    }

    private static DateOnly? PlanAccessEnd(string? planJson)
    {
        if (string.IsNullOrWhiteSpace(planJson))
        {
            return null;
        }

        try
        {
            return GovernanceJson.DeserializePlan(planJson)?.AccessEndsOn;
        }
        catch (JsonException)
        {
            // An unreadable plan is not a reason to stop reviewing: fall back to the grants' own end dates.
            return null;
        }
    }
}

public sealed record ConfirmGrantsInput(string DmpId, IReadOnlyList<string> PrincipalIds, DateTimeOffset At, string Actor);

/// <summary>Records the PI's confirmation (ConfirmedAt) on the members' active grants; audited. Idempotent.</summary>
public sealed class ConfirmGrantsActivity(IGovernanceRegistry registry, IAuditLog audit) : Activity<ConfirmGrantsInput, int>
{
    public override async Task<int> RunAsync(ActivityContext context, ConfirmGrantsInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var wanted = input.PrincipalIds.ToHashSet(StringComparer.Ordinal);
        var grants = await registry.ListGrantsAsync(input.DmpId, null, ct);
        var confirmed = 0;
        foreach (var grant in grants.Where(
            g => g.State == GrantState.Active && wanted.Contains(g.PrincipalId) && g.ConfirmedAt != input.At))
        {
            await registry.UpsertGrantAsync(grant with { ConfirmedAt = input.At, ETag = null }, ct);
            confirmed++;
        }

        if (wanted.Count > 0)
        {
            await audit.AppendAsync(
                AuditEntries.Create(
                    input.Actor, "access_review.confirmed", context.InstanceId, AuditEntries.DmpSubject(input.DmpId), input.At.UtcDateTime,
                    after: new { principals = input.PrincipalIds, grantsConfirmed = confirmed }),
                ct);
        }

        return confirmed;
    }
}
