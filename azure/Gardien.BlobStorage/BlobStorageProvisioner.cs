using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.BlobStorage;

/// <summary>
/// <see cref="IStorageProvisioner"/> on the Blob Storage data plane (Azure.Storage.Blobs): works on Azurite and on a
/// real account. Enforces container metadata, blob index tags and access tiers. Immutability, legal hold, soft delete,
/// encryption scopes, lifecycle policies and quotas are management-plane features (or missing from Azurite): they are
/// recorded as container metadata and reported as <see cref="NotEnforcedFeature"/>, never pretended. Legal hold and the
/// deletion mark are honoured by <see cref="PurgeAsync"/> itself.
/// </summary>
/// <remarks>
/// The Azure adapter composes this class with the management plane; <see cref="BlobStorageProvisionerOptions"/> carries
/// the one thing it must do differently at creation (the container's default encryption scope).
/// </remarks>
public sealed partial class BlobStorageProvisioner(
    BlobServiceClient service,
    ILogger<BlobStorageProvisioner>? logger = null,
    BlobStorageProvisionerOptions? options = null) : IStorageProvisioner
{
    private const string Adapter = "the local blob adapter (Blob data plane; Azurite lacks it)";
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;
    private volatile bool _tagsUnsupported;

    public async Task<ProvisionResult> EnsureContainerAsync(ContainerSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ValidateContainerName(spec.Name);
        var container = service.GetBlobContainerClient(spec.Name);
        var (recorded, notEnforced) = RecordIntent(spec);
        var desired = new Dictionary<string, string>(spec.Metadata, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in recorded)
        {
            desired[key] = value;
        }

        ValidateMetadata(desired);
        var enforced = new List<string> { GovernanceFeatures.ContainerMetadata };

        var createMetadata = new Dictionary<string, string>(desired, StringComparer.OrdinalIgnoreCase);
        if (spec.OwnerInstanceId is not null)
        {
            createMetadata[ContainerMetadataKeys.OwnerInstance] = AsciiValue(spec.OwnerInstanceId);
        }

        try
        {
            var encryption = options?.CreateWithEncryptionScope == true && spec.EncryptionScope is { } scope
                ? new BlobContainerEncryptionScopeOptions { DefaultEncryptionScope = scope, PreventEncryptionScopeOverride = true }
                : null;
            await container.CreateAsync(PublicAccessType.None, createMetadata, encryption, cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("Created container {Container}", spec.Name);
            return new ProvisionResult(spec.Name, ProvisionOutcome.Created, container.Uri, enforced, notEnforced);
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerAlreadyExists || ex.Status == 409)
        {
            // Fall through: merge the spec into the existing container.
        }

        var properties = await container.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var existing = new Dictionary<string, string>(properties.Value.Metadata, StringComparer.OrdinalIgnoreCase);
        var merged = new Dictionary<string, string>(existing, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in desired)
        {
            merged[key] = value;
        }

        if (!SameMetadata(existing, merged))
        {
            await container.SetMetadataAsync(merged, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        existing.TryGetValue(ContainerMetadataKeys.OwnerInstance, out var owner);
        // A retry of the run that created the container sees the same outcome as the first call.
        var outcome = spec.OwnerInstanceId is not null && string.Equals(owner, AsciiValue(spec.OwnerInstanceId), StringComparison.Ordinal)
            ? ProvisionOutcome.Created
            : ProvisionOutcome.AlreadyExisted;
        return new ProvisionResult(spec.Name, outcome, container.Uri, enforced, notEnforced);
    }

    public async Task<ContainerInfo?> GetContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        var client = service.GetBlobContainerClient(container);
        BlobContainerProperties properties;
        try
        {
            properties = (await client.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }

        var metadata = new Dictionary<string, string>(properties.Metadata, StringComparer.OrdinalIgnoreCase);
        metadata.TryGetValue(ContainerMetadataKeys.OwnerInstance, out var owner);
        return new ContainerInfo(
            container,
            client.Uri,
            metadata,
            properties.ETag.ToString(),
            properties.LastModified,
            owner,
            ReadMark(metadata),
            HoldTags(metadata).Count > 0);
    }

    public async Task<OperationResult> SetContainerMetadataAsync(
        string container,
        IReadOnlyDictionary<string, string?> metadata,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var client = service.GetBlobContainerClient(container);
        var existing = await GetMetadataAsync(client, cancellationToken).ConfigureAwait(false);
        var merged = new Dictionary<string, string>(existing, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in metadata)
        {
            if (value is null)
            {
                merged.Remove(key);
            }
            else
            {
                merged[key] = value;
            }
        }

        ValidateMetadata(merged);
        if (SameMetadata(existing, merged))
        {
            return OperationResult.Unchanged;
        }

        await client.SetMetadataAsync(merged, cancellationToken: cancellationToken).ConfigureAwait(false);
        return OperationResult.Done;
    }

    public async IAsyncEnumerable<StoredBlob> ListBlobsAsync(
        string container,
        string? prefix = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var client = service.GetBlobContainerClient(container);
        var options = new GetBlobsOptions { Traits = BlobTraits.Tags | BlobTraits.Metadata, Prefix = prefix };
        await foreach (var item in client.GetBlobsAsync(options, cancellationToken).ConfigureAwait(false))
        {
            yield return new StoredBlob(
                item.Name,
                item.Properties.ETag?.ToString() ?? string.Empty,
                item.Properties.ContentLength ?? 0,
                TagsOf(item.Tags, item.Metadata),
                ToTier(item.Properties.AccessTier),
                item.Properties.CreatedOn);
        }
    }

    public async Task<ContainerManifest> ComputeManifestAsync(string container, CancellationToken cancellationToken = default)
    {
        var blobs = new List<StoredBlob>();
        await foreach (var blob in ListBlobsAsync(container, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            blobs.Add(blob);
        }

        return ContainerManifest.Compute(container, blobs);
    }

    public async Task<OperationResult> SetBlobTagsAsync(
        string container,
        string blobName,
        IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        foreach (var (key, value) in tags)
        {
            ValidateTag(key, value);
        }

        try
        {
            return await SetBlobTagsCoreAsync(container, blobName, tags, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The port's not-found: a blob deleted before its (late or repeated) creation event is handled is not an error.
            throw new PortNotFoundException($"Blob '{container}/{blobName}' does not exist ({ex.ErrorCode ?? "404"}).", ex);
        }
    }

    private async Task<OperationResult> SetBlobTagsCoreAsync(
        string container, string blobName, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        var blob = service.GetBlobContainerClient(container).GetBlobClient(blobName);
        if (!_tagsUnsupported)
        {
            try
            {
                var current = (await blob.GetTagsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.Tags;
                var merged = new Dictionary<string, string>(current, StringComparer.Ordinal);
                foreach (var (key, value) in tags)
                {
                    merged[key] = value;
                }

                if (merged.Count > 10)
                {
                    throw new PortRefusedException(
                        $"Blob '{container}/{blobName}' would carry {merged.Count} index tags; Blob Storage allows at most 10.");
                }

                if (SameMetadata(current, merged))
                {
                    return OperationResult.Unchanged;
                }

                await blob.SetTagsAsync(merged, cancellationToken: cancellationToken).ConfigureAwait(false);
                return OperationResult.Done;
            }
            catch (RequestFailedException ex) when (ex.Status is 501 || ex.ErrorCode is "FeatureNotSupported" or "NotImplemented")
            {
                _tagsUnsupported = true;
                _logger.LogWarning("The blob store rejects index tags ({Error}); tags are stored as blob metadata instead", ex.ErrorCode);
            }
        }

        var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var metadata = new Dictionary<string, string>(properties.Value.Metadata, StringComparer.OrdinalIgnoreCase);
        var before = new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in tags)
        {
            metadata[ContainerMetadataKeys.TagFallbackPrefix + MetadataSafeKey(key)] = value;
        }

        var notEnforced = new[]
        {
            new NotEnforcedFeature(
                GovernanceFeatures.BlobIndexTags,
                "The blob store rejects index tags.",
                "blob metadata " + ContainerMetadataKeys.TagFallbackPrefix + "*"),
        };
        if (SameMetadata(before, metadata))
        {
            return new OperationResult(false, notEnforced);
        }

        await blob.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = properties.Value.ETag }, cancellationToken)
            .ConfigureAwait(false);
        return new OperationResult(true, notEnforced);
    }

    public async IAsyncEnumerable<TaggedBlob> FindBlobsByTagsAsync(
        IReadOnlyList<TagCondition> conditions,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        if (conditions.Count == 0)
        {
            throw new ArgumentException("At least one tag condition is required.", nameof(conditions));
        }

        foreach (var condition in conditions)
        {
            ValidateTag(condition.Key, condition.Value);
        }

        var expression = string.Join(" AND ", conditions.Select(c => $"\"{c.Key}\" {OperatorText(c.Operator)} '{c.Value}'"));
        await foreach (var item in service.FindBlobsByTagsAsync(expression, cancellationToken).ConfigureAwait(false))
        {
            // The service returns only the tags named in the expression: fetch the full set so callers see dmp / dataset ids.
            var full = await service.GetBlobContainerClient(item.BlobContainerName)
                .GetBlobClient(item.BlobName)
                .GetTagsAsync(cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            var tags = new Dictionary<string, string>(full.Value.Tags, StringComparer.Ordinal);
            yield return new TaggedBlob(item.BlobContainerName, item.BlobName, tags);
        }
    }

    public async Task<OperationResult> SetTierAsync(string container, StorageTier tier, CancellationToken cancellationToken = default)
    {
        var client = service.GetBlobContainerClient(container);
        var changed = false;
        await foreach (var item in client.GetBlobsAsync(new GetBlobsOptions(), cancellationToken).ConfigureAwait(false))
        {
            if (ToTier(item.Properties.AccessTier) != tier)
            {
                await client.GetBlobClient(item.Name).SetAccessTierAsync(ToAccessTier(tier), cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                changed = true;
            }
        }

        var recorded = await SetContainerMetadataAsync(
            container,
            new Dictionary<string, string?> { [ContainerMetadataKeys.Tier] = tier.ToString() },
            cancellationToken).ConfigureAwait(false);
        return new OperationResult(changed || recorded.Changed, []);
    }

    public async Task<ContainerDeletionOutcome> DeleteContainerIfEmptyAsync(
        string container,
        string? ownerInstanceId,
        CancellationToken cancellationToken = default)
    {
        var client = service.GetBlobContainerClient(container);
        IDictionary<string, string> metadata;
        try
        {
            metadata = (await client.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.Metadata;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return ContainerDeletionOutcome.NotFound;
        }

        if (ownerInstanceId is not null &&
            (!metadata.TryGetValue(ContainerMetadataKeys.OwnerInstance, out var owner)
                || !string.Equals(owner, AsciiValue(ownerInstanceId), StringComparison.Ordinal)))
        {
            return ContainerDeletionOutcome.NotOwned;
        }

        await foreach (var _ in client.GetBlobsAsync(new GetBlobsOptions(), cancellationToken).ConfigureAwait(false))
        {
            return ContainerDeletionOutcome.NotEmpty;
        }

        try
        {
            await client.DeleteAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return ContainerDeletionOutcome.NotFound;
        }

        _logger.LogInformation("Deleted empty container {Container} (compensation)", container);
        return ContainerDeletionOutcome.Deleted;
    }

    public async Task<OperationResult> MarkForDeletionAsync(
        string container,
        DateTimeOffset purgeNotBefore,
        string reason,
        CancellationToken cancellationToken = default)
    {
        var client = service.GetBlobContainerClient(container);
        var metadata = await GetMetadataAsync(client, cancellationToken).ConfigureAwait(false);
        var softDelete = new[]
        {
            new NotEnforcedFeature(
                GovernanceFeatures.SoftDelete,
                $"Platform soft delete is not available through {Adapter}: after the grace period the purge is irreversible.",
                "container metadata " + ContainerMetadataKeys.PurgeNotBefore),
        };
        if (HoldTags(metadata).Count > 0)
        {
            throw new PortRefusedException(
                $"Container '{container}' is under a legal hold ({string.Join(", ", HoldTags(metadata))}); "
                + "it cannot be marked for deletion.");
        }

        if (ReadMark(metadata) is not null)
        {
            return new OperationResult(false, softDelete);
        }

        metadata[ContainerMetadataKeys.PurgeNotBefore] = purgeNotBefore.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        metadata[ContainerMetadataKeys.DeletionReason] = Uri.EscapeDataString(reason ?? string.Empty);
        await client.SetMetadataAsync(metadata, cancellationToken: cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Marked container {Container} for deletion not before {PurgeNotBefore}", container, purgeNotBefore);
        return new OperationResult(true, softDelete);
    }

    public async Task<OperationResult> UnmarkForDeletionAsync(string container, CancellationToken cancellationToken = default) =>
        await SetContainerMetadataAsync(container, new Dictionary<string, string?>
        {
            [ContainerMetadataKeys.PurgeNotBefore] = null,
            [ContainerMetadataKeys.DeletionReason] = null,
            [ContainerMetadataKeys.PurgeManifest] = null,
        }, cancellationToken).ConfigureAwait(false);

    public async Task<PurgeResult> PurgeAsync(string container, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var client = service.GetBlobContainerClient(container);
        Dictionary<string, string> metadata;
        try
        {
            metadata = await GetMetadataAsync(client, cancellationToken).ConfigureAwait(false);
        }
        catch (PortNotFoundException)
        {
            return new PurgeResult(PurgeOutcome.AlreadyGone, null, $"Container '{container}' no longer exists.");
        }

        if (HoldTags(metadata) is { Count: > 0 } holds)
        {
            return new PurgeResult(
                PurgeOutcome.UnderLegalHold,
                null,
                $"Container '{container}' is under a legal hold ({string.Join(", ", holds)}); nothing was deleted.");
        }

        if (ReadMark(metadata) is not { } mark)
        {
            return new PurgeResult(
                PurgeOutcome.NotMarked, null, $"Container '{container}' is not marked for deletion; nothing was deleted.");
        }

        if (now < mark.PurgeNotBefore)
        {
            return new PurgeResult(
                PurgeOutcome.GracePeriodNotOver,
                null,
                $"Container '{container}' may be purged from {mark.PurgeNotBefore:O}; nothing was deleted.");
        }

        // Record what is about to go before deleting anything, so a retry after a partial purge reports the original content.
        ContainerManifest manifest;
        if (metadata.TryGetValue(ContainerMetadataKeys.PurgeManifest, out var recordedManifest)
            && TryReadManifest(container, recordedManifest) is { } previous)
        {
            manifest = previous;
        }
        else
        {
            manifest = await ComputeManifestAsync(container, cancellationToken).ConfigureAwait(false);
            metadata[ContainerMetadataKeys.PurgeManifest] = $"{manifest.BlobCount};{manifest.TotalBytes};{manifest.ManifestSha256}";
            await client.SetMetadataAsync(metadata, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        await foreach (var item in client.GetBlobsAsync(new GetBlobsOptions(), cancellationToken).ConfigureAwait(false))
        {
            await client.GetBlobClient(item.Name)
                .DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }

        await client.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        _logger.LogInformation(
            "Purged container {Container}: {BlobCount} blobs, {Bytes} bytes", container, manifest.BlobCount, manifest.TotalBytes);
        return new PurgeResult(
            PurgeOutcome.Purged, manifest, $"Container '{container}' purged: {manifest.BlobCount} blobs, {manifest.TotalBytes} bytes.");
    }

    public async Task<HoldStatus> GetHoldStatusAsync(string container, CancellationToken cancellationToken = default)
    {
        var metadata = await GetMetadataAsync(service.GetBlobContainerClient(container), cancellationToken).ConfigureAwait(false);
        var tags = HoldTags(metadata);
        return new HoldStatus(tags.Count > 0, tags, null, PlatformEnforced: false);
    }

    public async Task<ContainerControls> GetControlsAsync(string container, CancellationToken cancellationToken = default)
    {
        var metadata = await GetMetadataAsync(service.GetBlobContainerClient(container), cancellationToken).ConfigureAwait(false);
        var enforced = new List<string> { GovernanceFeatures.ContainerMetadata };
        if (!_tagsUnsupported)
        {
            enforced.Add(GovernanceFeatures.BlobIndexTags);
        }

        var spec = new ContainerSpec
        {
            Name = container,
            Tier = metadata.TryGetValue(ContainerMetadataKeys.Tier, out var tier) && Enum.TryParse<StorageTier>(tier, out var parsedTier)
                ? parsedTier
                : StorageTier.Hot,
            ImmutabilityDays = metadata.TryGetValue(ContainerMetadataKeys.ImmutabilityDays, out var days)
                && int.TryParse(days, CultureInfo.InvariantCulture, out var parsedDays) ? parsedDays : null,
            EncryptionScope = metadata.TryGetValue(ContainerMetadataKeys.EncryptionScope, out var scope)
                ? Uri.UnescapeDataString(scope)
                : null,
            QuotaBytes = metadata.TryGetValue(ContainerMetadataKeys.QuotaBytes, out var quota)
                && long.TryParse(quota, CultureInfo.InvariantCulture, out var parsedQuota) ? parsedQuota : null,
            LifecycleRules = metadata.ContainsKey(ContainerMetadataKeys.LifecycleRules) ? [new LifecycleRule("recorded")] : [],
        };
        var (_, notEnforced) = RecordIntent(spec);
        var hold = HoldTags(metadata);
        if (hold.Count > 0)
        {
            notEnforced.Add(
                new(
                    GovernanceFeatures.LegalHold,
                    $"Legal hold is not enforced by {Adapter}; Gardien refuses to mark or purge a held container.",
                    "container metadata " + ContainerMetadataKeys.HoldTags));
        }

        return new ContainerControls(container, enforced, notEnforced, new HoldStatus(hold.Count > 0, hold, null, PlatformEnforced: false));
    }

    public async Task<OperationResult> SetLegalHoldAsync(
        string container,
        string holdTag,
        bool hold,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(holdTag);
        if (!HoldTagPattern().IsMatch(holdTag))
        {
            throw new PortRefusedException($"Legal hold tag '{holdTag}' is invalid: use 3–23 letters or digits.");
        }

        var client = service.GetBlobContainerClient(container);
        var metadata = await GetMetadataAsync(client, cancellationToken).ConfigureAwait(false);
        var tags = HoldTags(metadata).ToList();
        var changed = hold ? AddTag(tags, holdTag) : tags.RemoveAll(t => string.Equals(t, holdTag, StringComparison.OrdinalIgnoreCase)) > 0;
        var notEnforced = new[]
        {
            new NotEnforcedFeature(
                GovernanceFeatures.LegalHold,
                $"Legal hold is not enforced by {Adapter}; Gardien refuses to mark or purge a held container.",
                "container metadata " + ContainerMetadataKeys.HoldTags),
        };
        if (!changed)
        {
            return new OperationResult(false, notEnforced);
        }

        if (tags.Count > 0)
        {
            metadata[ContainerMetadataKeys.HoldTags] = string.Join(",", tags);
            metadata[ContainerMetadataKeys.LegalHold] = "true";
        }
        else
        {
            metadata.Remove(ContainerMetadataKeys.HoldTags);
            metadata.Remove(ContainerMetadataKeys.LegalHold);
        }

        await client.SetMetadataAsync(metadata, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new OperationResult(true, notEnforced);

        static bool AddTag(List<string> list, string tag)
        {
            if (list.Contains(tag, StringComparer.OrdinalIgnoreCase))
            {
                return false;
            }

            list.Add(tag);
            return true;
        }
    }

    private static (Dictionary<string, string> Recorded, List<NotEnforcedFeature> NotEnforced) RecordIntent(ContainerSpec spec)
    {
        var recorded = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            [ContainerMetadataKeys.Tier] = spec.Tier.ToString(),
        };
        var notEnforced = new List<NotEnforcedFeature>();
        if (spec.Tier != StorageTier.Hot)
        {
            notEnforced.Add(
                new(
                    GovernanceFeatures.AccessTier,
                    "Blob Storage has no per-container default tier: new blobs get the account default until the tier is set per blob "
                    + "(SetTierAsync).",
                    "container metadata " + ContainerMetadataKeys.Tier));
        }

        if (spec.ImmutabilityDays is { } days)
        {
            recorded[ContainerMetadataKeys.ImmutabilityDays] = days.ToString(CultureInfo.InvariantCulture);
            notEnforced.Add(
                new(
                    GovernanceFeatures.Immutability,
                    $"Time-based immutability ({days} days) is not enforced by {Adapter}; the Azure adapter sets it through ARM.",
                    "container metadata " + ContainerMetadataKeys.ImmutabilityDays));
        }

        if (spec.LegalHold)
        {
            recorded[ContainerMetadataKeys.LegalHold] = "true";
            recorded[ContainerMetadataKeys.HoldTags] = "plan";
            notEnforced.Add(
                new(
                    GovernanceFeatures.LegalHold,
                    $"Legal hold is not enforced by {Adapter}; Gardien refuses to mark or purge a held container.",
                    "container metadata " + ContainerMetadataKeys.HoldTags));
        }

        if (spec.EncryptionScope is { } scope)
        {
            recorded[ContainerMetadataKeys.EncryptionScope] = AsciiValue(scope);
            notEnforced.Add(
                new(
                    GovernanceFeatures.EncryptionScope,
                    $"Encryption scope '{scope}' is not enforced by {Adapter}; data uses the account's default encryption.",
                    "container metadata " + ContainerMetadataKeys.EncryptionScope));
        }

        if (spec.QuotaBytes is { } quota)
        {
            recorded[ContainerMetadataKeys.QuotaBytes] = quota.ToString(CultureInfo.InvariantCulture);
            notEnforced.Add(
                new(
                    GovernanceFeatures.Quota,
                    "Blob Storage has no container quota: uploads are checked against it by the blob-event workflow, after the fact.",
                    "container metadata " + ContainerMetadataKeys.QuotaBytes));
        }

        if (spec.LifecycleRules.Count > 0)
        {
            recorded[ContainerMetadataKeys.LifecycleRules] = AsciiValue(
                JsonSerializer.Serialize(
                    spec.LifecycleRules.Select(r => new { r.Name, r.TierToCoolAfterDays, r.TierToArchiveAfterDays, r.DeleteAfterDays })));
            notEnforced.Add(
                new(
                    GovernanceFeatures.LifecyclePolicy,
                    $"Lifecycle management policies are not enforced by {Adapter}; the Azure adapter writes them through ARM.",
                    "container metadata " + ContainerMetadataKeys.LifecycleRules));
        }

        return (recorded, notEnforced);
    }

    private static async Task<Dictionary<string, string>> GetMetadataAsync(BlobContainerClient client, CancellationToken cancellationToken)
    {
        try
        {
            var properties = await client.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new Dictionary<string, string>(properties.Value.Metadata, StringComparer.OrdinalIgnoreCase);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new PortNotFoundException($"Container '{client.Name}' does not exist.", ex);
        }
    }

    private static DeletionMark? ReadMark(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(ContainerMetadataKeys.PurgeNotBefore, out var value) &&
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var purgeNotBefore)
            ? new DeletionMark(
                purgeNotBefore,
                metadata.TryGetValue(ContainerMetadataKeys.DeletionReason, out var reason) ? Uri.UnescapeDataString(reason) : string.Empty)
            : null;

    private static IReadOnlyList<string> HoldTags(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(ContainerMetadataKeys.HoldTags, out var tags) && !string.IsNullOrWhiteSpace(tags)
            ? tags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : metadata.TryGetValue(ContainerMetadataKeys.LegalHold, out var flag)
                && string.Equals(flag, "true", StringComparison.OrdinalIgnoreCase) ? ["unspecified"] : [];

    private static ContainerManifest? TryReadManifest(string container, string value)
    {
        var parts = value.Split(';');
        return parts.Length == 3
            && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var count)
            && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var bytes)
            ? new ContainerManifest(container, count, bytes, parts[2])
            : null;
    }

    private static IReadOnlyDictionary<string, string> TagsOf(IDictionary<string, string>? tags, IDictionary<string, string>? metadata)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (tags is not null)
        {
            foreach (var (key, value) in tags)
            {
                result[key] = value;
            }
        }

        if (metadata is not null)
        {
            foreach (var (key, value) in metadata.Where(
                m => m.Key.StartsWith(ContainerMetadataKeys.TagFallbackPrefix, StringComparison.OrdinalIgnoreCase)))
            {
                result.TryAdd(key[ContainerMetadataKeys.TagFallbackPrefix.Length..], value);
            }
        }

        return result;
    }

    private static bool SameMetadata(IDictionary<string, string> a, IDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var value) && string.Equals(value, kv.Value, StringComparison.Ordinal));

    private static void ValidateContainerName(string name)
    {
        if (!ContainerNamePattern().IsMatch(name) || name.Contains("--", StringComparison.Ordinal))
        {
            throw new PortRefusedException(
                $"Container name '{name}' is invalid: use 3–63 lower-case letters, digits and single hyphens, "
                + "starting and ending with a letter or digit.");
        }
    }

    private static void ValidateMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        foreach (var (key, value) in metadata)
        {
            if (!MetadataKeyPattern().IsMatch(key))
            {
                throw new PortRefusedException(
                    $"Metadata key '{key}' is invalid: use letters, digits and underscores, starting with a letter or underscore.");
            }

            if (value.Any(c => c > 126 || c < 32))
            {
                throw new PortRefusedException(
                    $"Metadata value of '{key}' contains non-ASCII or control characters; encode it (e.g. percent-encoding) first.");
            }
        }
    }

    private static void ValidateTag(string key, string value)
    {
        if (!TagPattern().IsMatch(key) || key.Length > 128 || value.Length > 256 || (value.Length > 0 && !TagPattern().IsMatch(value)))
        {
            throw new PortRefusedException(
                $"Blob index tag '{key}={value}' is invalid: keys 1–128 and values 0–256 characters from letters, digits, space and + - . "
                + "/ : = _.");
        }
    }

    private static string AsciiValue(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(c is >= ' ' and <= '~' ? c.ToString() : Uri.EscapeDataString(c.ToString()));
        }

        return builder.ToString();
    }

    private static string MetadataSafeKey(string key) => Regex.Replace(key, "[^A-Za-z0-9_]", "_");

    private static string OperatorText(TagOperator op) => op switch
    {
        TagOperator.Equal => "=",
        TagOperator.LessThan => "<",
        TagOperator.LessThanOrEqual => "<=",
        TagOperator.GreaterThan => ">",
        TagOperator.GreaterThanOrEqual => ">=",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static StorageTier? ToTier(AccessTier? tier)
    {
        if (tier is not { } value)
        {
            return null;
        }

        if (value == AccessTier.Hot)
        {
            return StorageTier.Hot;
        }

        if (value == AccessTier.Cool)
        {
            return StorageTier.Cool;
        }

        if (value == AccessTier.Cold)
        {
            return StorageTier.Cold;
        }

        return value == AccessTier.Archive ? StorageTier.Archive : null;
    }

    private static AccessTier ToAccessTier(StorageTier tier) => tier switch
    {
        StorageTier.Hot => AccessTier.Hot,
        StorageTier.Cool => AccessTier.Cool,
        StorageTier.Cold => AccessTier.Cold,
        StorageTier.Archive => AccessTier.Archive,
        _ => throw new ArgumentOutOfRangeException(nameof(tier)),
    };

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex ContainerNamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex MetadataKeyPattern();

    [GeneratedRegex("^[A-Za-z0-9 +\\-./:=_]+$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[A-Za-z0-9]{3,23}$")]
    private static partial Regex HoldTagPattern();
}
