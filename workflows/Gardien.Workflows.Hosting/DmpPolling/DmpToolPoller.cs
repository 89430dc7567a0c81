using System.Globalization;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Workflows.Hosting.DmpPolling;

public sealed record DmpToolPollerOptions
{
    /// <summary>How far before the checkpoint each poll asks again, for versions a tool lists late (clock skew, slow indexing).</summary>
    public TimeSpan Overlap { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Changes per publish call (Event Grid accepts up to 1 MB per call; references are small).</summary>
    public int BatchSize { get; init; } = 50;
}

/// <param name="Published">Versions published in this poll.</param>
/// <param name="Skipped">DMPs listed without a <c>modified</c> (no version to publish), with the reason.</param>
/// <param name="Error">Why the tool's poll stopped early; its checkpoint stays before the first unpublished version.</param>
public sealed record DmpToolPollResult(
    string Tool,
    IReadOnlyList<DmpChange> Published,
    IReadOnlyList<string> Skipped,
    DateTimeOffset? Watermark,
    string? Error);

/// <summary>
/// DMP tools send no webhooks: a timer in each host calls <see cref="PollAsync"/>, which asks every tool for plans
/// modified since its checkpoint and publishes one change per new version, oldest first. The checkpoint moves only
/// after a batch is published, so a failure (or a crash) loses nothing: the next poll publishes from the first
/// unpublished version again. Versions may then be published twice; downstream they carry the same event id and the
/// router joins the same instance.
/// </summary>
public sealed class DmpToolPoller(
    IReadOnlyList<DmpToolSource> tools,
    IDmpChangePublisher publisher,
    IDmpPollCheckpointStore checkpoints,
    IGovernanceRegistry registry,
    DmpToolPollerOptions? options = null,
    ILogger<DmpToolPoller>? logger = null)
{
    private readonly DmpToolPollerOptions _options = options ?? new DmpToolPollerOptions();
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    public async Task<IReadOnlyList<DmpToolPollResult>> PollAsync(CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var results = new List<DmpToolPollResult>();
        foreach (var tool in tools)
        {
            results.Add(await PollToolAsync(tool, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    private async Task<DmpToolPollResult> PollToolAsync(DmpToolSource tool, CancellationToken cancellationToken)
    {
        var checkpoint = await checkpoints.GetAsync(tool.Name, cancellationToken).ConfigureAwait(false)
            ?? new DmpPollCheckpoint(tool.Name, null, []);
        var published = new List<DmpChange>();
        var skipped = new List<string>();
        // A tool's failure (unreachable, a publisher refusing, a checkpoint conflict) stops that tool only; the others poll.
        try
        {
            var since = checkpoint.Watermark - _options.Overlap;
            var listed = await tool.Client.ListDmpsAsync(since, cancellationToken).ConfigureAwait(false);
            var recent = checkpoint.Recent.ToHashSet(StringComparer.Ordinal);
            var pending = new List<DmpSummary>();
            foreach (var summary in listed)
            {
                if (summary.Modified is not { } modified)
                {
                    skipped.Add(
                        $"{summary.DmpId}: the tool reports no modified date, so a new version cannot be told from an old one; "
                        + "set dmp.modified.");
                }
                else if (!recent.Contains(Key(summary.DmpId, modified)) && (since is null || modified > since))
                {
                    pending.Add(summary);
                }
            }

            foreach (var batch in pending.OrderBy(s => s.Modified).ThenBy(s => s.DmpId, StringComparer.Ordinal).Chunk(_options.BatchSize))
            {
                var changes = new List<DmpChange>(batch.Length);
                foreach (var summary in batch)
                {
                    var known = await registry.GetDmpAsync(summary.DmpId, cancellationToken).ConfigureAwait(false);
                    changes.Add(
                        new DmpChange(
                            tool.Name,
                            summary.DmpId,
                            summary.ToolId,
                            summary.Modified!.Value,
                            known is null ? DmpChangeKind.Submitted : DmpChangeKind.Updated));
                }

                await publisher.PublishAsync(changes, cancellationToken).ConfigureAwait(false);
                published.AddRange(changes);
                checkpoint = await checkpoints.SaveAsync(Advance(checkpoint, changes), cancellationToken).ConfigureAwait(false);
            }

            foreach (var line in skipped)
            {
                _logger.LogWarning("DMP tool {Tool}: skipped {Reason}", tool.Name, line);
            }

            return new DmpToolPollResult(tool.Name, published, skipped, checkpoint.Watermark, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogError(
                ex,
                "Polling DMP tool {Tool} stopped after {Count} published versions; the checkpoint stays at {Watermark}",
                tool.Name,
                published.Count,
                checkpoint.Watermark);
            return new DmpToolPollResult(tool.Name, published, skipped, checkpoint.Watermark, ex.Message);
        }
    }

    private DmpPollCheckpoint Advance(DmpPollCheckpoint checkpoint, IReadOnlyList<DmpChange> changes)
    {
        var watermark = changes.Max(c => c.Modified);
        if (checkpoint.Watermark is { } previous && previous > watermark)
        {
            watermark = previous;
        }

        var floor = watermark - _options.Overlap;
        var recent = checkpoint.Recent.Concat(changes.Select(c => Key(c.DmpId, c.Modified)))
            .Where(k => new DateTimeOffset(long.Parse(k[(k.LastIndexOf('\n') + 1)..], CultureInfo.InvariantCulture), TimeSpan.Zero) > floor)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return checkpoint with { Watermark = watermark, Recent = recent };
    }

    private static string Key(string dmpId, DateTimeOffset modified) =>
        dmpId + "\n" + modified.UtcTicks.ToString(CultureInfo.InvariantCulture);
}
