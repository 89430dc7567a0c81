using System.Globalization;
using Gardien.BlobStorage;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Azure.Storage;

/// <summary>
/// <see cref="IStorageProvisioner"/> for a real Azure account: the Blob data plane (<see cref="BlobStorageProvisioner"/>,
/// composed, not copied) plus the management-plane controls through ARM (<see cref="StorageAccountControls"/>):
/// encryption scope (created once per account, the container's default at creation), time-based immutability
/// (unlocked, locked when the spec says), legal hold, and the account's lifecycle rules kept in step with the registry
/// (<see cref="LifecyclePolicySync"/>). What is reported as enforced is read back from Azure after the changes, never
/// taken from the spec; the intents are still recorded in container metadata as the data plane does.
/// </summary>
public sealed class AzureStorageProvisioner(
    IStorageProvisioner dataPlane,
    StorageAccountControls controls,
    LifecyclePolicySync? lifecycle = null,
    TimeProvider? time = null,
    ILogger<AzureStorageProvisioner>? logger = null) : IStorageProvisioner
{
    private static readonly string[] ManagementFeatures =
        [
            GovernanceFeatures.EncryptionScope,
            GovernanceFeatures.Immutability,
            GovernanceFeatures.LegalHold,
            GovernanceFeatures.LifecyclePolicy,
        ];

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    public async Task<ProvisionResult> EnsureContainerAsync(ContainerSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.EncryptionScope is { } scope && await controls.EnsureEncryptionScopeAsync(scope, cancellationToken).ConfigureAwait(false))
        {
            _logger.LogInformation("Created encryption scope {Scope} in account {Account}", scope, controls.AccountName);
        }

        var created = await dataPlane.EnsureContainerAsync(spec, cancellationToken).ConfigureAwait(false);
        if (spec.ImmutabilityDays is { } days
            && await controls.EnsureImmutabilityAsync(spec.Name, days, spec.LockImmutability, cancellationToken).ConfigureAwait(false))
        {
            _logger.LogInformation(
                "Immutability of container {Container}: {Days} days{Locked}",
                spec.Name,
                days,
                spec.LockImmutability ? ", locked" : string.Empty);
        }

        if (spec.LegalHold)
        {
            await controls.SetLegalHoldAsync(spec.Name, PlanHoldTag, hold: true, cancellationToken).ConfigureAwait(false);
        }

        IReadOnlyList<string> rules = [];
        if (lifecycle is { TieringConfigured: true })
        {
            var covering = await lifecycle.RulesCoveringAsync(spec.Name, cancellationToken).ConfigureAwait(false);
            rules = covering.Count > 0
                ? covering
                : (await lifecycle.SyncAsync([spec.Name], cancellationToken).ConfigureAwait(false)).RulesCovering(spec.Name);
        }

        var state = await controls.GetContainerAsync(spec.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new PortException(
                $"Container '{spec.Name}' was created but Azure Resource Manager does not list it yet; it will be checked again.",
                isTransient: true);
        var (enforced, notEnforced) = Compare(spec, state, rules, created.NotEnforcedLocally);
        return created with
        {
            EnforcedFeatures = [.. created.EnforcedFeatures.Concat(enforced).Distinct(StringComparer.Ordinal)],
            NotEnforcedLocally = notEnforced,
        };
    }

    /// <summary>The hold tag a spec's <see cref="ContainerSpec.LegalHold"/> sets (the data plane records the same one).</summary>
    public const string PlanHoldTag = "plan";

    public Task<ContainerInfo?> GetContainerAsync(string container, CancellationToken cancellationToken = default) =>
        dataPlane.GetContainerAsync(container, cancellationToken);

    public Task<OperationResult> SetContainerMetadataAsync(
        string container,
        IReadOnlyDictionary<string, string?> metadata,
        CancellationToken cancellationToken = default) =>
        dataPlane.SetContainerMetadataAsync(container, metadata, cancellationToken);

    public IAsyncEnumerable<StoredBlob> ListBlobsAsync(
        string container,
        string? prefix = null,
        CancellationToken cancellationToken = default) =>
        dataPlane.ListBlobsAsync(container, prefix, cancellationToken);

    public Task<ContainerManifest> ComputeManifestAsync(string container, CancellationToken cancellationToken = default) =>
        dataPlane.ComputeManifestAsync(container, cancellationToken);

    public Task<OperationResult> SetBlobTagsAsync(
        string container,
        string blobName,
        IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken = default) =>
        dataPlane.SetBlobTagsAsync(container, blobName, tags, cancellationToken);

    public IAsyncEnumerable<TaggedBlob> FindBlobsByTagsAsync(
        IReadOnlyList<TagCondition> conditions,
        CancellationToken cancellationToken = default) =>
        dataPlane.FindBlobsByTagsAsync(conditions, cancellationToken);

    public Task<OperationResult> SetTierAsync(string container, StorageTier tier, CancellationToken cancellationToken = default) =>
        dataPlane.SetTierAsync(container, tier, cancellationToken);

    public Task<ContainerDeletionOutcome> DeleteContainerIfEmptyAsync(
        string container,
        string? ownerInstanceId,
        CancellationToken cancellationToken = default) =>
        dataPlane.DeleteContainerIfEmptyAsync(container, ownerInstanceId, cancellationToken);

    public async Task<OperationResult> MarkForDeletionAsync(
        string container,
        DateTimeOffset purgeNotBefore,
        string reason,
        CancellationToken cancellationToken = default)
    {
        if (await controls.GetContainerAsync(container, cancellationToken).ConfigureAwait(false) is { LegalHoldTags.Count: > 0 } held)
        {
            throw new PortRefusedException(
                $"Container '{container}' is under a legal hold in Azure ({string.Join(", ", held.LegalHoldTags)}); "
                + "it cannot be marked for deletion.");
        }

        return await dataPlane.MarkForDeletionAsync(container, purgeNotBefore, reason, cancellationToken).ConfigureAwait(false);
    }

    public Task<OperationResult> UnmarkForDeletionAsync(string container, CancellationToken cancellationToken = default) =>
        dataPlane.UnmarkForDeletionAsync(container, cancellationToken);

    public async Task<PurgeResult> PurgeAsync(string container, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var state = await controls.GetContainerAsync(container, cancellationToken).ConfigureAwait(false);
        if (state is { LegalHoldTags.Count: > 0 })
        {
            return new PurgeResult(
                PurgeOutcome.UnderLegalHold,
                null,
                $"Container '{container}' is under a legal hold in Azure ({string.Join(", ", state.LegalHoldTags)}); nothing was deleted.");
        }

        if (state is { ImmutabilityDays: { } days })
        {
            // Azure refuses to delete a blob younger than the policy's period: find that out before deleting anything,
            // so a purge never stops half-way.
            DateTimeOffset? until = null;
            await foreach (var blob in dataPlane.ListBlobsAsync(container, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (blob.CreatedOn is { } createdOn && createdOn.AddDays(days) > now && (until is null || createdOn.AddDays(days) > until))
                {
                    until = createdOn.AddDays(days);
                }
            }

            if (until is { } immutableUntil)
            {
                return new PurgeResult(
                    PurgeOutcome.GracePeriodNotOver,
                    null,
                    $"Container '{container}' holds blobs under its {days}-day immutability policy until {immutableUntil:O}; "
                    + "nothing was deleted.");
            }
        }

        return await dataPlane.PurgeAsync(container, now, cancellationToken).ConfigureAwait(false);
    }

    public async Task<HoldStatus> GetHoldStatusAsync(string container, CancellationToken cancellationToken = default)
    {
        var state = await controls.GetContainerAsync(container, cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException($"Container '{container}' does not exist in account {controls.AccountName}.");
        var recorded = await dataPlane.GetHoldStatusAsync(container, cancellationToken).ConfigureAwait(false);

        // A tag recorded by Gardien but missing in Azure (a failed call) still counts as a hold: holding too much is safe.
        var tags = state.LegalHoldTags.Union(recorded.HoldTags.Where(t => t != "unspecified"), StringComparer.OrdinalIgnoreCase).ToList();
        var platform = recorded.HoldTags.All(t => t == "unspecified" || state.LegalHoldTags.Contains(t, StringComparer.OrdinalIgnoreCase));
        return new HoldStatus(tags.Count > 0, tags, null, PlatformEnforced: platform);
    }

    public async Task<ContainerControls> GetControlsAsync(string container, CancellationToken cancellationToken = default)
    {
        var recorded = await dataPlane.GetControlsAsync(container, cancellationToken).ConfigureAwait(false);
        var info = await dataPlane.GetContainerAsync(container, cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException($"Container '{container}' does not exist in account {controls.AccountName}.");
        var state = await controls.GetContainerAsync(container, cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException($"Container '{container}' does not exist in account {controls.AccountName}.");
        var rules = lifecycle is null ? [] : await lifecycle.RulesCoveringAsync(container, cancellationToken).ConfigureAwait(false);
        var hold = await GetHoldStatusAsync(container, cancellationToken).ConfigureAwait(false);

        // What was asked is what the data plane recorded at provisioning; what is in force is what ARM reports.
        var intent = new ContainerSpec
        {
            Name = container,
            ImmutabilityDays = info.Metadata.TryGetValue(ContainerMetadataKeys.ImmutabilityDays, out var days)
                && int.TryParse(days, CultureInfo.InvariantCulture, out var d) ? d : null,
            EncryptionScope = info.Metadata.TryGetValue(ContainerMetadataKeys.EncryptionScope, out var scope)
                ? Uri.UnescapeDataString(scope)
                : null,
            LegalHold = hold.LegalHold,
        };
        var (enforced, notEnforced) = Compare(intent, state, rules, recorded.NotEnforced);
        if (state.ImmutabilityDays is not null && !enforced.Contains(GovernanceFeatures.Immutability))
        {
            enforced.Add(GovernanceFeatures.Immutability);
        }

        return new ContainerControls(container, [.. recorded.Enforced.Concat(enforced).Distinct(StringComparer.Ordinal)], notEnforced, hold)
        {
            ImmutabilityDays = state.ImmutabilityDays,
            ImmutabilityLocked = state.ImmutabilityLocked,
            EncryptionScope = IsAccountDefault(state.DefaultEncryptionScope) ? null : state.DefaultEncryptionScope,
            LifecycleRules = rules,
        };
    }

    public async Task<OperationResult> LockImmutabilityAsync(string container, CancellationToken cancellationToken = default)
    {
        var state = await controls.GetContainerAsync(container, cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException($"Container '{container}' does not exist in account {controls.AccountName}.");
        if (state.ImmutabilityDays is not { } days)
        {
            throw new PortRefusedException(
                $"Container '{container}' has no immutability policy to lock; provision it with the plan's immutability first.");
        }

        var changed = await controls.EnsureImmutabilityAsync(container, days, locked: true, cancellationToken).ConfigureAwait(false);
        if (changed)
        {
            _logger.LogInformation("Immutability of container {Container} locked at {Days} days", container, days);
        }

        return new OperationResult(changed, []);
    }

    public async Task<OperationResult> SetLegalHoldAsync(
        string container,
        string holdTag,
        bool hold,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(holdTag);

        // Azure first: when setting, a failure after it leaves the data held; when clearing, the recorded tag still
        // blocks disposal until it is cleared too. Either way a half-done call errs on the side of keeping the data.
        var changed = await controls.SetLegalHoldAsync(container, holdTag, hold, cancellationToken).ConfigureAwait(false);
        var recorded = await dataPlane.SetLegalHoldAsync(container, holdTag, hold, cancellationToken).ConfigureAwait(false);
        return new OperationResult(
            changed || recorded.Changed, [.. recorded.NotEnforcedLocally.Where(f => f.Feature != GovernanceFeatures.LegalHold)]);
    }

    private static (List<string> Enforced, List<NotEnforcedFeature> NotEnforced) Compare(
        ContainerSpec spec, ArmContainerState state, IReadOnlyList<string> rules, IReadOnlyList<NotEnforcedFeature> fromDataPlane)
    {
        var enforced = new List<string>();
        var notEnforced = fromDataPlane.Where(f => !ManagementFeatures.Contains(f.Feature, StringComparer.Ordinal)).ToList();
        if (spec.EncryptionScope is { } scope)
        {
            var inForce = !IsAccountDefault(state.DefaultEncryptionScope) && state.DenyEncryptionScopeOverride &&
                string.Equals(state.DefaultEncryptionScope, scope, StringComparison.OrdinalIgnoreCase);
            if (inForce)
            {
                enforced.Add(GovernanceFeatures.EncryptionScope);
            }
            else
            {
                notEnforced.Add(
                    new(
                        GovernanceFeatures.EncryptionScope,
                        $"The container's default encryption scope is '{state.DefaultEncryptionScope ?? "(account key)"}', "
                        + $"not '{scope}' with overrides denied: a scope is fixed when a container is created, "
                        + "so move the data to a new container to change it."));
            }
        }

        if (spec.ImmutabilityDays is { } days)
        {
            if (state.ImmutabilityDays is { } inForce && inForce >= days)
            {
                enforced.Add(GovernanceFeatures.Immutability);
            }
            else
            {
                notEnforced.Add(
                    new(
                        GovernanceFeatures.Immutability,
                        $"Azure reports {(state.ImmutabilityDays is { } d ? $"{d} days" : "no policy")}"
                        + $" of time-based immutability where {days} were asked."));
            }

            if (spec.LockImmutability && !state.ImmutabilityLocked)
            {
                notEnforced.Add(
                    new(GovernanceFeatures.Immutability, "The immutability policy is not locked although the plan asks for it."));
            }
        }

        if (spec.LegalHold)
        {
            if (state.LegalHoldTags.Count > 0)
            {
                enforced.Add(GovernanceFeatures.LegalHold);
            }
            else
            {
                notEnforced.Add(new(GovernanceFeatures.LegalHold, "Azure reports no legal hold on the container."));
            }
        }

        if (rules.Count > 0)
        {
            enforced.Add(GovernanceFeatures.LifecyclePolicy);
        }
        else if (spec.LifecycleRules.Count > 0)
        {
            notEnforced.Add(
                new(
                    GovernanceFeatures.LifecyclePolicy,
                    "Lifecycle tiering follows the account settings ResearchData__tierToCoolAfterDays / tierToArchiveAfterDays, "
                    + "which are not set; per-container rules are not applied."));
        }

        return (enforced, notEnforced);
    }

    private static bool IsAccountDefault(string? scope) => scope is null || scope.StartsWith('$');
}
