using System.Text.Json;
using Azure.Data.Tables;
using Gardien.Runtime.Storage;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Maps <see cref="WorkflowInstanceState"/> to the columns of the sentinel row (History table) and of its query copy (Instances table).
/// </summary>
internal static class InstanceRows
{
    /// <summary>RowKey of the query copy in the Instances table (the partition also holds activity result rows).</summary>
    public const string InstanceRowKey = "";

    private const string InputColumn = "Input";
    private const string OutputColumn = "Output";
    private const string CustomStatusColumn = "CustomStatus";
    private const string FailureColumn = "FailureDetails";

    // Azure tables reject DateTime values before 1601.
    private static readonly DateTimeOffset MinTableDate = new(1601, 1, 2, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Fills <paramref name="row"/> with the state. Payload columns whose value is unchanged from <paramref name="previous"/>
    /// reuse its stored form (and blob), so that a large input is uploaded once, not at every step.
    /// </summary>
    public static async Task WriteAsync(
        TableEntity row,
        WorkflowInstanceState state,
        LargePayloadStore payloads,
        (WorkflowInstanceState State, TableEntity Row)? previous,
        CancellationToken cancellationToken)
    {
        row["InstanceId"] = state.InstanceId;
        row["Name"] = state.Name;
        row["Version"] = state.Version;
        row["ExecutionId"] = state.ExecutionId;
        row["Status"] = state.Status.ToString();
        row["CreatedAt"] = TableDate(state.CreatedAt);
        row["LastUpdatedAt"] = TableDate(state.LastUpdatedAt);
        row["CompletedAt"] = state.CompletedAt is { } completed ? TableDate(completed) : null;
        row["ScheduledStartAt"] = state.ScheduledStartAt is { } start ? TableDate(start) : null;
        row["ParentInstanceId"] = state.ParentInstanceId;

        await WritePayloadAsync(InputColumn, state.Input, previous?.State.Input).ConfigureAwait(false);
        await WritePayloadAsync(OutputColumn, state.Output, previous?.State.Output).ConfigureAwait(false);
        await WritePayloadAsync(CustomStatusColumn, state.CustomStatus, previous?.State.CustomStatus).ConfigureAwait(false);
        var failure = state.FailureDetails is null ? null : JsonSerializer.Serialize(state.FailureDetails, QueueEnvelopeSerializer.Options);
        var previousFailure = previous?.State.FailureDetails is { } pf
            ? JsonSerializer.Serialize(pf, QueueEnvelopeSerializer.Options)
            : null;
        await WritePayloadAsync(FailureColumn, failure, previousFailure).ConfigureAwait(false);

        async Task WritePayloadAsync(string column, string? value, string? previousValue)
        {
            if (previous is { Row: var previousRow } && value is not null && string.Equals(value, previousValue, StringComparison.Ordinal))
            {
                row[column] = previousRow.TryGetValue(column, out var inline) ? inline : null;
                row[column + "BlobName"] = previousRow.TryGetValue(column + "BlobName", out var blob) ? blob : null;
                return;
            }

            await payloads.WriteAsync(row, column, state.InstanceId, value, cancellationToken).ConfigureAwait(false);
        }
    }

    public static async Task<WorkflowInstanceState> ReadAsync(
        TableEntity row,
        LargePayloadStore payloads,
        CancellationToken cancellationToken)
    {
        var failure = await payloads.ReadAsync(row, FailureColumn, cancellationToken).ConfigureAwait(false);
        return new WorkflowInstanceState(
            row.GetString("InstanceId") ?? TableKeys.Decode(row.PartitionKey), row.GetString("Name") ?? string.Empty)
        {
            Version = row.GetString("Version"),
            ExecutionId = row.GetString("ExecutionId"),
            Status = Enum.TryParse<WorkflowStatus>(row.GetString("Status"), out var status) ? status : WorkflowStatus.Pending,
            CreatedAt = FromTableDate(row.GetDateTimeOffset("CreatedAt")) ?? default,
            LastUpdatedAt = FromTableDate(row.GetDateTimeOffset("LastUpdatedAt")) ?? default,
            CompletedAt = FromTableDate(row.GetDateTimeOffset("CompletedAt")),
            ScheduledStartAt = FromTableDate(row.GetDateTimeOffset("ScheduledStartAt")),
            ParentInstanceId = row.GetString("ParentInstanceId"),
            Input = await payloads.ReadAsync(row, InputColumn, cancellationToken).ConfigureAwait(false),
            Output = await payloads.ReadAsync(row, OutputColumn, cancellationToken).ConfigureAwait(false),
            CustomStatus = await payloads.ReadAsync(row, CustomStatusColumn, cancellationToken).ConfigureAwait(false),
            FailureDetails = failure is null
                ? null
                : JsonSerializer.Deserialize<TaskFailureDetails>(failure, QueueEnvelopeSerializer.Options),
        };
    }

    /// <summary>A copy of the sentinel's instance columns for the Instances table (same blob references).</summary>
    public static TableEntity QueryCopy(TableEntity sentinel)
    {
        var copy = new TableEntity(sentinel.PartitionKey, InstanceRowKey);
        foreach (var (key, value) in sentinel)
        {
            if (key is not ("PartitionKey"
                or "RowKey"
                or "Timestamp"
                or "odata.etag"
                or SentinelColumns.Generation
                or SentinelColumns.HistoryCount))
            {
                copy[key] = value;
            }
        }

        return copy;
    }

    /// <summary>
    /// True when two sentinels would give query copies that differ at most in <c>LastUpdatedAt</c>: nothing a query
    /// filters on or a caller waits for changed (see <see cref="QueryRowWriter"/>).
    /// </summary>
    public static bool SameQueryColumns(TableEntity before, TableEntity after)
    {
        foreach (var key in before.Keys.Union(after.Keys))
        {
            if (key is "PartitionKey"
                or "RowKey"
                or "Timestamp"
                or "odata.etag"
                or "LastUpdatedAt"
                or SentinelColumns.Generation
                or SentinelColumns.HistoryCount)
            {
                continue;
            }

            var a = before.TryGetValue(key, out var x) ? x : null;
            var b = after.TryGetValue(key, out var y) ? y : null;
            var same = (a, b) switch
            {
                (null, null) => true,
                (byte[] p, byte[] q) => p.AsSpan().SequenceEqual(q),
                (BinaryData p, BinaryData q) => p.ToMemory().Span.SequenceEqual(q.ToMemory().Span),
                _ => Equals(a, b),
            };
            if (!same)
            {
                return false;
            }
        }

        return true;
    }

    private static DateTimeOffset? FromTableDate(DateTimeOffset? value) =>
        value is { } v && v <= MinTableDate ? default(DateTimeOffset) : value;

    private static DateTimeOffset TableDate(DateTimeOffset value) => value < MinTableDate ? MinTableDate : value.ToUniversalTime();
}
