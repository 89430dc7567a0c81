using System.Text.Json.Serialization;

namespace Gardien.Workflows.Governance;

[JsonConverter(typeof(JsonStringEnumConverter<ChangeDirection>))]
public enum ChangeDirection
{
    /// <summary>Retention: keep-until later. Classification: a stricter class.</summary>
    Increased,

    /// <summary>Retention: keep-until earlier. Classification: a more open class.</summary>
    Decreased,
}

/// <summary>A dataset present in one plan and not in the other (matched by <see cref="DatasetPlan.Key"/>).</summary>
public sealed record DatasetChange(string DatasetKey, string Title, string ContainerName, DataClassification Classification);

/// <summary>
/// A grant added, removed or changed on one dataset. <see cref="OldRole"/> is null when added, <see cref="NewRole"/> when removed.
/// </summary>
public sealed record GrantChange(string DatasetKey, string ContainerName, Principal Principal, AccessRole? OldRole, AccessRole? NewRole);

public sealed record RetentionChange(
    string DatasetKey,
    DateOnly OldKeepUntil,
    DateOnly NewKeepUntil,
    ChangeDirection Direction,
    DisposalAction OldDisposal,
    DisposalAction NewDisposal);

/// <summary>
/// A classification change. <see cref="ChangeDirection.Increased"/> means tightened; <see cref="RequiresReprovisioning"/>
/// is set when the storage settings derived from the class differ (encryption scope, tier, immutability), which in Azure
/// means a new container (an encryption scope cannot be changed on an existing container) and a copy.
/// </summary>
public sealed record ClassificationChange(
    string DatasetKey,
    DataClassification Old,
    DataClassification New,
    ChangeDirection Direction,
    bool RequiresReprovisioning);

/// <summary>
/// What changed between two plans of the same DMP and which approvals the change needs. Rules (docs/policy.md):
/// a new dataset needs the approvals its plan requires; a new or elevated grant needs the PI; a shortened retention needs
/// the DPO and the PI, an extended one the data steward; a loosened classification needs the data steward and the DPO;
/// any approval role a dataset's new plan requires that its old plan did not (e.g. personal data newly declared → DPO);
/// a changed PI needs the data steward; a removed dataset needs the data steward (its data stays under retention).
/// Revocations and tightenings need no approval: they only reduce exposure.
/// </summary>
public sealed record PlanDiff
{
    public IReadOnlyList<DatasetChange> DatasetsAdded { get; init; } = [];

    public IReadOnlyList<DatasetChange> DatasetsRemoved { get; init; } = [];

    public IReadOnlyList<GrantChange> GrantsAdded { get; init; } = [];

    public IReadOnlyList<GrantChange> GrantsRemoved { get; init; } = [];

    /// <summary>Same principal, different role on the same dataset.</summary>
    public IReadOnlyList<GrantChange> GrantsChanged { get; init; } = [];

    /// <summary>Grants whose end date moved (project end or grace changed), for the apply step.</summary>
    public IReadOnlyList<string> AccessEndChangedFor { get; init; } = [];

    public IReadOnlyList<RetentionChange> RetentionChanges { get; init; } = [];

    public IReadOnlyList<ClassificationChange> ClassificationChanges { get; init; } = [];

    public Principal? PrincipalInvestigatorChangedTo { get; init; }

    public IReadOnlyList<ApprovalRequirement> RequiredApprovals { get; init; } = [];

    [JsonIgnore]
    public bool IsEmpty =>
        DatasetsAdded.Count == 0 && DatasetsRemoved.Count == 0 && GrantsAdded.Count == 0 && GrantsRemoved.Count == 0
        && GrantsChanged.Count == 0 && AccessEndChangedFor.Count == 0 && RetentionChanges.Count == 0
        && ClassificationChanges.Count == 0 && PrincipalInvestigatorChangedTo is null;

    public static PlanDiff Compare(GovernancePlan old, GovernancePlan @new)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(@new);

        var approvals = new ApprovalCollector();
        var oldByKey = ByKey(old.Datasets);
        var newByKey = ByKey(@new.Datasets);

        var added = new List<DatasetChange>();
        var removed = new List<DatasetChange>();
        var grantsAdded = new List<GrantChange>();
        var grantsRemoved = new List<GrantChange>();
        var grantsChanged = new List<GrantChange>();
        var accessEnd = new List<string>();
        var retention = new List<RetentionChange>();
        var classification = new List<ClassificationChange>();

        foreach (var dataset in @new.Datasets)
        {
            if (!oldByKey.TryGetValue(dataset.Key, out var before))
            {
                added.Add(Change(dataset));
                foreach (var requirement in dataset.RequiredApprovals)
                {
                    foreach (var reason in requirement.Reasons)
                    {
                        approvals.Add(requirement.Role, $"new dataset {dataset.Key}: {reason}");
                    }
                }

                foreach (var grant in dataset.Access)
                {
                    grantsAdded.Add(new GrantChange(dataset.Key, dataset.Storage.ContainerName, grant.Principal, null, grant.Role));
                }

                continue;
            }

            CompareGrants(before, dataset, grantsAdded, grantsRemoved, grantsChanged, accessEnd, approvals);
            CompareRetention(before, dataset, retention, approvals);
            CompareClassification(before, dataset, classification, approvals);

            foreach (var requirement in dataset.RequiredApprovals)
            {
                if (!before.RequiredApprovals.Any(r => r.Role == requirement.Role))
                {
                    approvals.Add(requirement.Role, $"{dataset.Key} now requires it: {string.Join("; ", requirement.Reasons)}");
                }
            }
        }

        foreach (var dataset in old.Datasets)
        {
            if (!newByKey.ContainsKey(dataset.Key))
            {
                removed.Add(Change(dataset));
                approvals.Add(
                    ApprovalRole.DataSteward,
                    $"dataset {dataset.Key} removed from the DMP: its container is decommissioned (data stays under retention until "
                    + $"{dataset.Retention.KeepUntil:yyyy-MM-dd})");
                foreach (var grant in dataset.Access)
                {
                    grantsRemoved.Add(new GrantChange(dataset.Key, dataset.Storage.ContainerName, grant.Principal, grant.Role, null));
                }
            }
        }

        Principal? piChanged = null;
        if (!string.Equals(old.PrincipalInvestigator.Key, @new.PrincipalInvestigator.Key, StringComparison.Ordinal))
        {
            piChanged = @new.PrincipalInvestigator;
            approvals.Add(
                ApprovalRole.DataSteward, $"the PI changes from {old.PrincipalInvestigator.Name} to {@new.PrincipalInvestigator.Name}");
            approvals.Add(ApprovalRole.PrincipalInvestigator, "the new PI takes ownership of the data");
        }

        return new PlanDiff
        {
            DatasetsAdded = added,
            DatasetsRemoved = removed,
            GrantsAdded = grantsAdded,
            GrantsRemoved = grantsRemoved,
            GrantsChanged = grantsChanged,
            AccessEndChangedFor = accessEnd,
            RetentionChanges = retention,
            ClassificationChanges = classification,
            PrincipalInvestigatorChangedTo = piChanged,
            RequiredApprovals = approvals.ToList(),
        };
    }

    private static void CompareGrants(
        DatasetPlan before,
        DatasetPlan after,
        List<GrantChange> added,
        List<GrantChange> removed,
        List<GrantChange> changed,
        List<string> accessEnd,
        ApprovalCollector approvals)
    {
        var oldGrants = new Dictionary<string, AccessGrant>(StringComparer.Ordinal);
        foreach (var grant in before.Access)
        {
            oldGrants.TryAdd(grant.Principal.Key, grant);
        }

        var newKeys = new HashSet<string>(StringComparer.Ordinal);
        var endMoved = false;
        foreach (var grant in after.Access)
        {
            newKeys.Add(grant.Principal.Key);
            if (!oldGrants.TryGetValue(grant.Principal.Key, out var previous))
            {
                added.Add(new GrantChange(after.Key, after.Storage.ContainerName, grant.Principal, null, grant.Role));
                approvals.Add(ApprovalRole.PrincipalInvestigator, $"{grant.Principal.Name} gains {Lower(grant.Role)} access");
            }
            else
            {
                if (previous.Role != grant.Role)
                {
                    changed.Add(new GrantChange(after.Key, after.Storage.ContainerName, grant.Principal, previous.Role, grant.Role));
                    if (grant.Role > previous.Role)
                    {
                        approvals.Add(
                            ApprovalRole.PrincipalInvestigator,
                            $"{grant.Principal.Name} is raised from {Lower(previous.Role)} to {Lower(grant.Role)}");
                    }
                }

                endMoved |= previous.Until != grant.Until;
            }
        }

        foreach (var grant in before.Access)
        {
            if (!newKeys.Contains(grant.Principal.Key))
            {
                removed.Add(new GrantChange(after.Key, after.Storage.ContainerName, grant.Principal, grant.Role, null));
            }
        }

        if (endMoved)
        {
            accessEnd.Add(after.Key);
        }
    }

    private static void CompareRetention(DatasetPlan before, DatasetPlan after, List<RetentionChange> changes, ApprovalCollector approvals)
    {
        var (oldDate, newDate) = (before.Retention.KeepUntil, after.Retention.KeepUntil);
        if (oldDate == newDate && before.Retention.Disposal == after.Retention.Disposal)
        {
            return;
        }

        var direction = newDate >= oldDate ? ChangeDirection.Increased : ChangeDirection.Decreased;
        changes.Add(new RetentionChange(after.Key, oldDate, newDate, direction, before.Retention.Disposal, after.Retention.Disposal));
        if (newDate < oldDate)
        {
            var reason =
                $"retention of {after.Key} shortened from {oldDate:yyyy-MM-dd} to {newDate:yyyy-MM-dd}: data would be disposed of earlier";
            approvals.Add(ApprovalRole.DataProtectionOfficer, reason);
            approvals.Add(ApprovalRole.PrincipalInvestigator, reason);
        }
        else if (newDate > oldDate)
        {
            approvals.Add(ApprovalRole.DataSteward, $"retention of {after.Key} extended from {oldDate:yyyy-MM-dd} to {newDate:yyyy-MM-dd}");
        }

        if (before.Retention.Disposal != after.Retention.Disposal && after.Retention.Disposal == DisposalAction.Delete)
        {
            approvals.Add(
                ApprovalRole.DataProtectionOfficer, $"disposal of {after.Key} changes from {Lower(before.Retention.Disposal)} to delete");
        }
    }

    private static void CompareClassification(
        DatasetPlan before,
        DatasetPlan after,
        List<ClassificationChange> changes,
        ApprovalCollector approvals)
    {
        var (oldClass, newClass) = (before.Classification.Classification, after.Classification.Classification);
        if (oldClass == newClass)
        {
            return;
        }

        var storageDiffers = before.Storage.EncryptionScope != after.Storage.EncryptionScope
            || before.Storage.Tier != after.Storage.Tier
            || before.Storage.ImmutabilityDays != after.Storage.ImmutabilityDays;
        if (newClass > oldClass)
        {
            changes.Add(new ClassificationChange(after.Key, oldClass, newClass, ChangeDirection.Increased, storageDiffers));
            return;
        }

        changes.Add(new ClassificationChange(after.Key, oldClass, newClass, ChangeDirection.Decreased, storageDiffers));
        var reason = $"{after.Key} loosened from {Lower(oldClass)} to {Lower(newClass)}: the data would be exposed more widely";
        approvals.Add(ApprovalRole.DataSteward, reason);
        approvals.Add(ApprovalRole.DataProtectionOfficer, reason);
    }

    private static Dictionary<string, DatasetPlan> ByKey(IReadOnlyList<DatasetPlan> datasets)
    {
        var byKey = new Dictionary<string, DatasetPlan>(datasets.Count, StringComparer.Ordinal);
        foreach (var dataset in datasets)
        {
            byKey.TryAdd(dataset.Key, dataset);
        }

        return byKey;
    }

    private static DatasetChange Change(DatasetPlan dataset) =>
        new(dataset.Key, dataset.Title, dataset.Storage.ContainerName, dataset.Classification.Classification);

    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>Collects reasons per role in a fixed role order, each reason once.</summary>
    private sealed class ApprovalCollector
    {
        private readonly Dictionary<ApprovalRole, List<string>> _reasons = [];
        private readonly HashSet<(ApprovalRole, string)> _seen = [];

        public void Add(ApprovalRole role, string reason)
        {
            if (!_reasons.TryGetValue(role, out var list))
            {
                _reasons[role] = list = [];
            }

            if (_seen.Add((role, reason)))
            {
                list.Add(reason);
            }
        }

        public List<ApprovalRequirement> ToList() =>
            [.. _reasons.OrderBy(pair => pair.Key).Select(pair => new ApprovalRequirement(pair.Key, pair.Value))];
    }
}
