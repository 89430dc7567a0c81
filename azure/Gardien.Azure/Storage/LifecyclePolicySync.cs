using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gardien.Azure.Arm;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;

namespace Gardien.Azure.Storage;

/// <summary>What a lifecycle synchronisation did.</summary>
/// <param name="Rules">Gardien's rules now in force, by name, with the containers each covers.</param>
public sealed record LifecycleSyncResult(bool Changed, IReadOnlyDictionary<string, IReadOnlyList<string>> Rules)
{
    public IReadOnlyList<string> RulesCovering(string container) =>
        [.. Rules.Where(r => r.Value.Contains(container, StringComparer.Ordinal)).Select(r => r.Key).Order(StringComparer.Ordinal)];
}

/// <summary>
/// Keeps the research account's lifecycle management policy in step with the governance registry. Gardien owns the
/// rules whose names start with <c>gardien</c> and leaves every other rule alone. Two kinds of rules:
/// <list type="bullet">
/// <item>tiering: the governed containers' block blobs move to cool / archive after the configured days without
/// modification (<see cref="ResearchStorageOptions.TierToCoolAfterDays"/>,
/// <see cref="ResearchStorageOptions.TierToArchiveAfterDays"/>);</item>
/// <item>disposal: delete (or archive) blobs whose <c>gardien_keep_until</c> index tag equals the registry's keep-until,
/// only for datasets whose disposal was approved and marked, whose keep-until has passed, whose grace period is over,
/// and that hold no legal hold or open case in the registry or on the container. A blob re-tagged with a later
/// keep-until no longer matches, and Azure refuses to delete blobs under a hold or immutability policy anyway.</item>
/// </list>
/// Rules carry at most 10 container prefixes (Azure's limit) and a policy at most 100 rules.
/// </summary>
public sealed class LifecyclePolicySync(
    StorageAccountControls controls,
    IGovernanceRegistry registry,
    IStorageProvisioner dataPlane,
    ResearchStorageOptions options,
    TimeProvider? time = null)
{
    public const string RulePrefix = "gardien";
    private const int PrefixesPerRule = 10;
    private const int MaxRules = 100;
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>True when tiering rules are configured at all.</summary>
    public bool TieringConfigured => options.TierToCoolAfterDays is not null || options.TierToArchiveAfterDays is not null;

    /// <summary>
    /// Recomputes Gardien's rules from the registry (plus <paramref name="alsoGoverned"/>: containers being provisioned
    /// that the registry does not list yet) and writes the policy when it differs. Idempotent.
    /// </summary>
    public async Task<LifecycleSyncResult> SyncAsync(
        IReadOnlyCollection<string>? alsoGoverned = null,
        CancellationToken cancellationToken = default)
    {
        // The policy is one document without an ETag: serialise this process's writers; a concurrent writer elsewhere is
        // corrected by the next synchronisation, which recomputes everything.
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (desired, coverage) = await DesiredRulesAsync(alsoGoverned ?? [], cancellationToken).ConfigureAwait(false);
            var current = await controls.GetLifecycleRulesAsync(cancellationToken).ConfigureAwait(false);
            var foreign = current.Where(r => !IsOurs(r)).ToList();
            var ours = current.Where(IsOurs).ToList();
            if (foreign.Count + desired.Count > MaxRules)
            {
                throw new PortRefusedException(
                    $"The lifecycle policy of account {controls.AccountName} would need {foreign.Count + desired.Count} rules; "
                    + $"Azure allows {MaxRules}. Remove rules not managed by Gardien, "
                    + "or lower the number of distinct keep-until dates being disposed of at once.");
            }

            var changed = !SameRules(ours, desired);
            if (changed)
            {
                await controls.SetLifecycleRulesAsync([.. foreign, .. desired], cancellationToken).ConfigureAwait(false);
            }

            return new LifecycleSyncResult(changed, coverage);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Gardien's rules currently in the policy that cover the container (read-only).</summary>
    public async Task<IReadOnlyList<string>> RulesCoveringAsync(string container, CancellationToken cancellationToken = default)
    {
        var prefix = container + "/";
        var rules = await controls.GetLifecycleRulesAsync(cancellationToken).ConfigureAwait(false);
        return [.. rules.Where(IsOurs)
            .Where(
                r => (r["definition"]?["filters"]?["prefixMatch"] as JsonArray ?? []).Any(
                    p => p is JsonValue v && v.TryGetValue<string>(out var s) && s == prefix))
            .Select(r => r["name"]!.GetValue<string>())];
    }

    private async Task<(List<JsonObject> Rules, Dictionary<string, IReadOnlyList<string>> Coverage)> DesiredRulesAsync(
        IReadOnlyCollection<string> alsoGoverned,
        CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
        var governed = new SortedSet<string>(alsoGoverned, StringComparer.Ordinal);
        var disposals = new SortedDictionary<(DisposalAction Action, DateOnly KeepUntil), SortedSet<string>>();
        foreach (var dmp in await registry.ListDmpsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            foreach (var dataset in await registry.ListDatasetsAsync(dmp.DmpId, cancellationToken).ConfigureAwait(false))
            {
                if (dataset.State is DatasetState.Planned or DatasetState.Provisioned or DatasetState.MarkedForDeletion)
                {
                    governed.Add(dataset.Container);
                }

                if (await DisposalDueAsync(dataset, today, cancellationToken).ConfigureAwait(false))
                {
                    var key = (dataset.Disposal, dataset.KeepUntil!.Value);
                    if (!disposals.TryGetValue(key, out var set))
                    {
                        disposals[key] = set = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    set.Add(dataset.Container);
                }
            }
        }

        var rules = new List<JsonObject>();
        var coverage = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (TieringConfigured)
        {
            foreach (var chunk in governed.Chunk(PrefixesPerRule))
            {
                var actions = new JsonObject();
                if (options.TierToCoolAfterDays is { } cool)
                {
                    actions["tierToCool"] = new JsonObject { ["daysAfterModificationGreaterThan"] = cool };
                }

                if (options.TierToArchiveAfterDays is { } archive)
                {
                    actions["tierToArchive"] = new JsonObject { ["daysAfterModificationGreaterThan"] = archive };
                }

                rules.Add(Rule("tier", chunk, actions, null, coverage));
            }
        }

        foreach (var ((action, keepUntil), containers) in disposals)
        {
            foreach (var chunk in containers.Chunk(PrefixesPerRule))
            {
                var verb = action == DisposalAction.Delete ? "delete" : "tierToArchive";
                var actions = new JsonObject { [verb] = new JsonObject { ["daysAfterModificationGreaterThan"] = 0 } };
                var match = new JsonArray(
                    new JsonObject
                    {
                        ["name"] = GovernanceMetadata.KeepUntil,
                        ["op"] = "==",
                        ["value"] = GovernanceMetadata.Date(keepUntil),
                    });
                rules.Add(
                    Rule(
                        (action == DisposalAction.Delete ? "delete" : "archive")
                            + keepUntil.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
                        chunk,
                        actions,
                        match,
                        coverage));
            }
        }

        return (rules, coverage);
    }

    private async Task<bool> DisposalDueAsync(DatasetRecord dataset, DateOnly today, CancellationToken cancellationToken)
    {
        if (dataset is not { State: DatasetState.MarkedForDeletion, LegalHold: false, OpenCaseId: null, KeepUntil: { } keepUntil } ||
            dataset.Disposal is not (DisposalAction.Delete or DisposalAction.Archive) || keepUntil >= today)
        {
            return false;
        }

        var container = await dataPlane.GetContainerAsync(dataset.Container, cancellationToken).ConfigureAwait(false);
        if (container is not { DeletionMark: { } mark, LegalHold: false } || mark.PurgeNotBefore > _time.GetUtcNow())
        {
            return false;
        }

        var platform = await controls.GetContainerAsync(dataset.Container, cancellationToken).ConfigureAwait(false);
        return platform is { LegalHoldTags.Count: 0 };
    }

    private static JsonObject Rule(
        string kind,
        string[] containers,
        JsonObject actions,
        JsonArray? blobIndexMatch,
        Dictionary<string, IReadOnlyList<string>> coverage)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", containers))))[..12];
        var name = RulePrefix + kind + hash;
        coverage[name] = containers;
        var filters = new JsonObject
        {
            ["blobTypes"] = new JsonArray("blockBlob"),
            ["prefixMatch"] = new JsonArray([.. containers.Select(c => (JsonNode)JsonValue.Create(c + "/"))]),
        };
        if (blobIndexMatch is not null)
        {
            filters["blobIndexMatch"] = blobIndexMatch;
        }

        return new JsonObject
        {
            ["enabled"] = true,
            ["name"] = name,
            ["type"] = "Lifecycle",
            ["definition"] = new JsonObject { ["filters"] = filters, ["actions"] = new JsonObject { ["baseBlob"] = actions } },
        };
    }

    private static bool IsOurs(JsonObject rule) =>
        rule["name"] is JsonValue v && v.TryGetValue<string>(out var name) && name.StartsWith(RulePrefix, StringComparison.Ordinal);

    private static bool SameRules(List<JsonObject> current, List<JsonObject> desired) =>
        current.Count == desired.Count &&
        desired.All(d => current.Any(c => JsonNode.DeepEquals(c, d)));
}
