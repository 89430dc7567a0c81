using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.EventGrid;

/// <summary>
/// The DMP poller's checkpoints in a table (one row per tool, partition <c>dmp-poll</c>), written with the ETag they
/// were read with, so two pollers running at once cannot move a checkpoint past what either published.
/// </summary>
public sealed class TableDmpPollCheckpointStore(TableClient table) : IDmpPollCheckpointStore
{
    private const string Partition = "dmp-poll";
    private volatile bool _created;

    public async Task<DmpPollCheckpoint?> GetAsync(string tool, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tool);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, RowKey(tool), cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (!row.HasValue || row.Value is not { } entity)
        {
            return null;
        }

        var recent = entity.GetString("Recent") is { Length: > 0 } json ? JsonSerializer.Deserialize<List<string>>(json) ?? [] : [];
        return new DmpPollCheckpoint(tool, entity.GetDateTimeOffset("Watermark"), recent, entity.ETag.ToString());
    }

    public async Task<DmpPollCheckpoint> SaveAsync(DmpPollCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var entity = new TableEntity(Partition, RowKey(checkpoint.Tool))
        {
            ["Tool"] = checkpoint.Tool,
            ["Watermark"] = checkpoint.Watermark,
            ["Recent"] = JsonSerializer.Serialize(checkpoint.Recent),
        };
        try
        {
            var response = checkpoint.ETag is null
                ? await table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false)
                : await table.UpdateEntityAsync(entity, new ETag(checkpoint.ETag), TableUpdateMode.Replace, cancellationToken)
                    .ConfigureAwait(false);
            return checkpoint with { ETag = response.Headers.ETag?.ToString() };
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new ConcurrencyConflictException(
                $"The poll checkpoint of DMP tool '{checkpoint.Tool}' was moved by another poller; "
                + "this poll stops and the next one starts from the stored checkpoint.",
                ex);
        }
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!_created)
        {
            await table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            _created = true;
        }
    }

    // Row keys may not hold / \ # ? or control characters; tool names are short setting keys.
    private static string RowKey(string tool) => Uri.EscapeDataString(tool.ToLowerInvariant()).Replace("%", "~", StringComparison.Ordinal);
}
