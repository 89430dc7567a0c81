using System.Globalization;
using Azure.Data.Tables;
using Gardien.Runtime.Storage;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// The persisted outcomes of activities (rows <c>result-{execution}-{taskId}</c> in the instance's partition of the
/// Instances table): written before an outcome is reported, read before a delivered activity runs, so that an activity
/// whose outcome was persisted never runs again. The rows of one instance's activities finishing together share one
/// table transaction (group commit), and a pack's members are checked with one range query.
/// </summary>
internal sealed class ActivityResultRows(TableClient instances, LargePayloadStore payloads)
{
    // A pack's persisted outcomes are read once for all its members; a member handed out later than this after that
    // read checks its own result row again, so that the check stays as fresh as a per-activity read.
    private static readonly TimeSpan PackResultsFreshFor = TimeSpan.FromSeconds(1);

    private readonly TableGroupCommitter _rows = new(instances);

    // Result rows this store object persisted lately: a pack member whose pack read predates one of them reads again.
    private readonly RecentIds _persisted = new(4096);

    public async Task PersistAsync(WorkflowMessage activity, WorkflowMessage response, CancellationToken cancellationToken)
    {
        var row = new TableEntity(TableKeys.Encode(activity.InstanceId), RowKey(activity))
        {
            ["ResponseMessageId"] = response.MessageId,
            ["ResponseExecutionId"] = response.ExecutionId,
        };
        await payloads.WriteAsync(
            row, "Response", activity.InstanceId, QueueEnvelopeSerializer.SerializeEvent(response.Event), cancellationToken)
            .ConfigureAwait(false);

        // Group commit: the outcomes of a fan-out's activities finishing together share one table transaction.
        await _rows.UpsertAsync(row).WaitAsync(cancellationToken).ConfigureAwait(false);
        _persisted.Add(row.PartitionKey + "/" + row.RowKey);
    }

    /// <summary>
    /// The response persisted for this activity (same message id as the first time, so that the engine discards a
    /// duplicate), or null when its outcome was never persisted.
    /// </summary>
    public async Task<WorkflowMessage?> FindResponseAsync(ReceivedQueueMessage received, CancellationToken cancellationToken)
    {
        var row = await FindRowAsync(received, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var json = await payloads.ReadAsync(row, "Response", cancellationToken).ConfigureAwait(false);
        if (json is null)
        {
            return null;
        }

        return new WorkflowMessage(received.Message.InstanceId, QueueEnvelopeSerializer.DeserializeEvent(json))
        {
            MessageId = row.GetString("ResponseMessageId") ?? Guid.NewGuid().ToString("N"),
            ExecutionId = row.GetString("ResponseExecutionId"),
        };
    }

    private static string RowKey(WorkflowMessage activity) => RowKey(activity.ExecutionId, activity.Event.EventId);

    private static string RowKey(string? executionId, int taskId) =>
        "result-" + TableKeys.Encode(executionId ?? string.Empty) + "-" + taskId.ToString("D10", CultureInfo.InvariantCulture);

    /// <summary>
    /// The activity's result row, or null: one point read, or for a pack member the pack's one range query while it is fresh.
    /// </summary>
    private async Task<TableEntity?> FindRowAsync(ReceivedQueueMessage received, CancellationToken cancellationToken)
    {
        var partitionKey = TableKeys.Encode(received.Message.InstanceId);
        var rowKey = RowKey(received.Message);
        if (received.Pack is { } pack)
        {
            var results = await pack.GetResultsAsync(() => ReadPackAsync(received.Message, pack, cancellationToken)).ConfigureAwait(false);
            if (results.Rows.TryGetValue(rowKey, out var found))
            {
                return found;
            }

            if (DateTimeOffset.UtcNow - results.ReadAt < PackResultsFreshFor && !_persisted.Contains(partitionKey + "/" + rowKey))
            {
                return null;
            }
        }

        var row = await instances.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return row.HasValue ? row.Value : null;
    }

    private async Task<MessagePack.PersistedResults> ReadPackAsync(
        WorkflowMessage member,
        MessagePack pack,
        CancellationToken cancellationToken)
    {
        var readAt = DateTimeOffset.UtcNow;
        var partitionKey = TableKeys.Encode(member.InstanceId);
        var first = RowKey(member.ExecutionId, pack.FirstTaskId);
        var last = RowKey(member.ExecutionId, pack.LastTaskId);
        var rows = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        await foreach (var row in instances.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {first} and RowKey le {last}"),
                           cancellationToken: cancellationToken)
                           .ConfigureAwait(false))
        {
            rows[row.RowKey] = row;
        }

        return new MessagePack.PersistedResults(rows, readAt);
    }
}
