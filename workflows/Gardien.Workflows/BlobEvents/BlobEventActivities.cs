using System.Text;
using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;

namespace Gardien.Workflows.BlobEvents;

/// <summary>Containers whose blob events are not governance events (Gardien's own audit and engine storage, platform logs).</summary>
public sealed record BlobEventOptions
{
    public IReadOnlyList<string> IgnoredContainers { get; init; } = ["audit"];

    public IReadOnlyList<string> IgnoredContainerPrefixes { get; init; }
        = ["$", "azure-webjobs-", "gardien-runtime", "durabletask-", "testhubname"];

    public bool IsIgnored(string container) =>
        IgnoredContainers.Contains(container, StringComparer.OrdinalIgnoreCase)
        || IgnoredContainerPrefixes.Any(p => container.StartsWith(p, StringComparison.OrdinalIgnoreCase));
}

/// <param name="Duplicate">The event id was already processed (Event Grid delivers at least once).</param>
/// <param name="Ignored">A system container (audit, engine storage): not a governance event.</param>
/// <param name="Dataset">The dataset governing the container; null when no plan knows it.</param>
/// <param name="UsedBytes">Bytes in the container now (BlobCreated in a governed container only).</param>
/// <param name="OpenBeforeEmbargo">The dataset is distributed openly while its embargo has not ended.</param>
public sealed record BlobEventAnalysis(
    bool Duplicate,
    bool Ignored,
    DatasetRecord? Dataset,
    string? PiEmail,
    long? UsedBytes,
    bool QuotaExceeded,
    bool OpenBeforeEmbargo);

/// <param name="Today">Workflow date (embargo comparison).</param>
public sealed record AnalyzeBlobEventInput(BlobEventInput Event, DateOnly Today);

/// <summary>
/// Reads what a blob event means for governance: duplicate?, which dataset, quota use, embargo state. Read-only: the
/// event is marked processed only at the end of the workflow (<see cref="MarkBlobEventProcessedActivity"/>), so a crash
/// in between reprocesses it (every step is idempotent) rather than losing it.
/// </summary>
public sealed class AnalyzeBlobEventActivity(
    IGovernanceRegistry registry,
    IStorageProvisioner storage,
    BlobEventOptions? options = null) : Activity<AnalyzeBlobEventInput, BlobEventAnalysis>
{
    private readonly BlobEventOptions _options = options ?? new BlobEventOptions();

    public override async Task<BlobEventAnalysis> RunAsync(ActivityContext context, AnalyzeBlobEventInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var evt = input.Event;
        if (await registry.IsEventProcessedAsync(evt.EventId, ct))
        {
            return new BlobEventAnalysis(true, false, null, null, null, false, false);
        }

        if (_options.IsIgnored(evt.Container))
        {
            return new BlobEventAnalysis(false, true, null, null, null, false, false);
        }

        var dataset = await registry.FindDatasetByContainerAsync(evt.Container, ct);
        if (dataset is null)
        {
            return new BlobEventAnalysis(false, false, null, null, null, false, false);
        }

        var dmp = await registry.GetDmpAsync(dataset.DmpId, ct);
        if (evt.Kind != BlobEventKind.Created)
        {
            return new BlobEventAnalysis(false, false, dataset, dmp?.ContactEmail, null, false, false);
        }

        long? used = null;
        var quotaExceeded = false;
        if (dataset.QuotaBytes is { } quota && dataset.State is DatasetState.Provisioned)
        {
            used = (await storage.ComputeManifestAsync(evt.Container, ct)).TotalBytes;
            quotaExceeded = used > quota;
        }

        var openBeforeEmbargo = dataset.EmbargoUntil is { } embargo
            && input.Today < embargo
            && IsOpen(dmp?.ActivePlanJson, dataset.DatasetId);
        return new BlobEventAnalysis(false, false, dataset, dmp?.ContactEmail, used, quotaExceeded, openBeforeEmbargo);
    }

    private static bool IsOpen(string? planJson, string datasetId)
    {
        if (string.IsNullOrWhiteSpace(planJson))
        {
            return false;
        }

        try
        {
            var plan = GovernanceJson.DeserializePlan(planJson);
            return plan?.Datasets.FirstOrDefault(d => d.Key == datasetId)?.Classification.EffectiveAccess == Madmp.DataAccess.Open;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

public sealed record TagBlobInput(string Container, string BlobName, string DmpId, string DatasetId, DateOnly? KeepUntil);

public enum TagBlobOutcome
{
    Tagged,

    /// <summary>The blob was deleted before the (late or duplicate) event was handled: nothing to tag.</summary>
    BlobGone,
}

public sealed record TagBlobResult(TagBlobOutcome Outcome, IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally);

/// <summary>Writes the governance index tags (dmp id, dataset id, keep-until) on a new blob. Idempotent (tags merge).</summary>
public sealed class TagBlobActivity(IStorageProvisioner storage) : Activity<TagBlobInput, TagBlobResult>
{
    public override async Task<TagBlobResult> RunAsync(ActivityContext context, TagBlobInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var tags = new Dictionary<string, string>
        {
            [GovernanceMetadata.DmpId] = TagValue(input.DmpId),
            [GovernanceMetadata.DatasetId] = TagValue(input.DatasetId),
        };
        if (input.KeepUntil is { } keepUntil)
        {
            tags[GovernanceMetadata.KeepUntil] = GovernanceMetadata.Date(keepUntil);
        }

        try
        {
            var result = await storage.SetBlobTagsAsync(input.Container, input.BlobName, tags, context.CancellationToken);
            return new TagBlobResult(TagBlobOutcome.Tagged, result.NotEnforcedLocally);
        }
        catch (PortNotFoundException)
        {
            // The blob (or its container) was deleted meanwhile; adapters translate the SDK's not-found into this.
            return new TagBlobResult(TagBlobOutcome.BlobGone, []);
        }
    }

    /// <summary>Index tag values allow letters, digits, space and + - . / : = _ (max 256): anything else becomes '_'.</summary>
    public static string TagValue(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(Math.Min(text.Length, 256));
        foreach (var c in text.Take(256))
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || " +-./:=_".Contains(c, StringComparison.Ordinal) ? c : '_');
        }

        return builder.ToString();
    }
}

public sealed record MarkBlobEventProcessedInput(string EventId, DateTimeOffset At);

/// <summary>Records the event id as processed (insert-once in the registry). False when it already was (a concurrent duplicate).</summary>
public sealed class MarkBlobEventProcessedActivity(IGovernanceRegistry registry) : Activity<MarkBlobEventProcessedInput, bool>
{
    public override Task<bool> RunAsync(ActivityContext context, MarkBlobEventProcessedInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return registry.TryMarkEventProcessedAsync(input.EventId, input.At, context.CancellationToken);
    }
}
