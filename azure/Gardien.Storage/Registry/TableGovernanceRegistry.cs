using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Gardien.Workflows.Ports;

namespace Gardien.Storage.Registry;

/// <summary>
/// <see cref="IGovernanceRegistry"/> on Azure Table Storage (Azurite locally, a Storage account in Azure).
/// <para>
/// Tables: <c>{prefix}Dmps</c>, <c>{prefix}Datasets</c>, <c>{prefix}Grants</c>, <c>{prefix}Approvals</c>,
/// <c>{prefix}Tokens</c>, <c>{prefix}Events</c>. Each record is stored as JSON (split over <c>Json0..JsonN</c> properties
/// because a table string property holds at most 64 KiB; records over 30,000 characters gzip-compressed in binary
/// <c>Gzip0..N</c> chunks) plus the few properties queries filter on. Keys are
/// percent-encoded ids, since '/', '\', '#' and '?' are not allowed in table keys.
/// </para>
/// </summary>
public sealed class TableGovernanceRegistry : IGovernanceRegistry
{
    private const int ChunkChars = 30_000;

    // A binary property holds at most 64 KiB; the entity at most 1 MiB, with the keys and the other properties.
    private const int BinaryChunkBytes = 60_000;
    private const int MaxCompressedBytes = 900_000;
    private const string EmptyRowKey = "";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly TableServiceClient _service;
    private readonly string _prefix;
    private readonly Dictionary<string, Lazy<Task<TableClient>>> _tables = new(StringComparer.Ordinal);
    private readonly Lock _tablesLock = new();

    public TableGovernanceRegistry(TableServiceClient service, string tablePrefix = "gardien")
    {
        ArgumentNullException.ThrowIfNull(service);
        if (string.IsNullOrEmpty(tablePrefix)
            || !char.IsAsciiLetter(tablePrefix[0])
            || !tablePrefix.All(char.IsAsciiLetterOrDigit)
            || tablePrefix.Length > 50)
        {
            throw new ArgumentException(
                $"Table prefix '{tablePrefix}' is invalid: use 1–50 letters and digits, starting with a letter.", nameof(tablePrefix));
        }

        _service = service;
        _prefix = tablePrefix;
    }

    // ---- DMPs

    public async Task<DmpRecord?> GetDmpAsync(string dmpId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Dmps", cancellationToken).ConfigureAwait(false);
        return await GetAsync<DmpRecord>(table, Key(dmpId), EmptyRowKey, (r, e) => r with { ETag = e }, cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<DmpRecord> UpsertDmpAsync(DmpRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var table = await TableAsync("Dmps", cancellationToken).ConfigureAwait(false);
        var entity = ToEntity(Key(record.DmpId), EmptyRowKey, record with { ETag = null });
        entity["State"] = record.State.ToString();
        var etag = await WriteAsync(table, entity, record.ETag, $"DMP '{record.DmpId}'", cancellationToken).ConfigureAwait(false);
        return record with { ETag = etag };
    }

    public async Task<IReadOnlyList<DmpRecord>> ListDmpsAsync(DmpState? state = null, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Dmps", cancellationToken).ConfigureAwait(false);
        var filter = state is { } s ? TableClient.CreateQueryFilter($"State eq {s.ToString()}") : null;
        return await QueryAsync<DmpRecord>(table, filter, (r, e) => r with { ETag = e }, cancellationToken).ConfigureAwait(false);
    }

    // ---- Datasets

    public async Task<DatasetRecord?> GetDatasetAsync(string dmpId, string datasetId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Datasets", cancellationToken).ConfigureAwait(false);
        return await GetAsync<DatasetRecord>(table, Key(dmpId), Key(datasetId), (r, e) => r with { ETag = e }, cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<DatasetRecord> UpsertDatasetAsync(DatasetRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var table = await TableAsync("Datasets", cancellationToken).ConfigureAwait(false);
        var entity = ToEntity(Key(record.DmpId), Key(record.DatasetId), record with { ETag = null });
        entity["Container"] = record.Container;
        entity["State"] = record.State.ToString();
        entity["Terminal"] = IsTerminal(record.State);
        if (record.KeepUntil is { } keepUntil)
        {
            entity["KeepUntil"] = new DateTimeOffset(keepUntil.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }

        var etag = await WriteAsync(table, entity, record.ETag, $"dataset '{record.DmpId}/{record.DatasetId}'", cancellationToken)
            .ConfigureAwait(false);
        return record with { ETag = etag };
    }

    public async Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string dmpId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Datasets", cancellationToken).ConfigureAwait(false);
        return await QueryAsync<DatasetRecord>(
            table,
            TableClient.CreateQueryFilter($"PartitionKey eq {Key(dmpId)}"),
            (r, e) => r with { ETag = e },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<DatasetRecord?> FindDatasetByContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Datasets", cancellationToken).ConfigureAwait(false);
        var matches = await QueryAsync<DatasetRecord>(
            table,
            TableClient.CreateQueryFilter($"Container eq {container}"),
            (r, e) => r with { ETag = e },
            cancellationToken).ConfigureAwait(false);
        // A container name could be reused after a disposal: prefer the live dataset.
        return matches.OrderBy(d => IsTerminal(d.State)).ThenByDescending(d => d.UpdatedAt).FirstOrDefault();
    }

    public async Task<IReadOnlyList<DatasetRecord>> ListDatasetsDueAsync(
        DateOnly keepUntilOnOrBefore,
        CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Datasets", cancellationToken).ConfigureAwait(false);
        var bound = new DateTimeOffset(keepUntilOnOrBefore.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var filter = TableClient.CreateQueryFilter($"KeepUntil le {bound} and Terminal eq {false}");
        var due = await QueryAsync<DatasetRecord>(table, filter, (r, e) => r with { ETag = e }, cancellationToken).ConfigureAwait(false);
        return [.. due.Where(d => d.KeepUntil is { } k && k <= keepUntilOnOrBefore && !IsTerminal(d.State)).OrderBy(d => d.KeepUntil)];
    }

    // ---- Grants

    public async Task<GrantRecord?> GetGrantAsync(
        string dmpId,
        string datasetId,
        string principalId,
        CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Grants", cancellationToken).ConfigureAwait(false);
        return await GetAsync<GrantRecord>(
            table, Key(dmpId), GrantRowKey(datasetId, principalId), (r, e) => r with { ETag = e }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<GrantRecord> UpsertGrantAsync(GrantRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var table = await TableAsync("Grants", cancellationToken).ConfigureAwait(false);
        var entity = ToEntity(Key(record.DmpId), GrantRowKey(record.DatasetId, record.PrincipalId), record with { ETag = null });
        entity["DatasetId"] = record.DatasetId;
        entity["PrincipalId"] = record.PrincipalId;
        entity["State"] = record.State.ToString();
        var etag = await WriteAsync(
            table,
            entity,
            record.ETag,
            $"grant '{record.DmpId}/{record.DatasetId}/{record.PrincipalId}'",
            cancellationToken).ConfigureAwait(false);
        return record with { ETag = etag };
    }

    public async Task<IReadOnlyList<GrantRecord>> ListGrantsAsync(
        string dmpId,
        string? datasetId = null,
        CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Grants", cancellationToken).ConfigureAwait(false);
        var filter = datasetId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {Key(dmpId)}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {Key(dmpId)} and DatasetId eq {datasetId}");
        return await QueryAsync<GrantRecord>(table, filter, (r, e) => r with { ETag = e }, cancellationToken).ConfigureAwait(false);
    }

    // ---- Approvals

    public async Task<ApprovalRecord?> GetApprovalAsync(string dmpId, string approvalId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Approvals", cancellationToken).ConfigureAwait(false);
        return await GetAsync<ApprovalRecord>(table, Key(dmpId), Key(approvalId), (r, e) => r with { ETag = e }, cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<ApprovalRecord> UpsertApprovalAsync(ApprovalRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var table = await TableAsync("Approvals", cancellationToken).ConfigureAwait(false);
        var entity = ToEntity(Key(record.DmpId), Key(record.ApprovalId), record with { ETag = null });
        entity["InstanceId"] = record.InstanceId;
        entity["Decision"] = record.Decision.ToString();
        var etag = await WriteAsync(table, entity, record.ETag, $"approval '{record.DmpId}/{record.ApprovalId}'", cancellationToken)
            .ConfigureAwait(false);
        return record with { ETag = etag };
    }

    public async Task<IReadOnlyList<ApprovalRecord>> ListApprovalsAsync(
        string dmpId,
        string? instanceId = null,
        CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Approvals", cancellationToken).ConfigureAwait(false);
        var filter = instanceId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {Key(dmpId)}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {Key(dmpId)} and InstanceId eq {instanceId}");
        return await QueryAsync<ApprovalRecord>(table, filter, (r, e) => r with { ETag = e }, cancellationToken).ConfigureAwait(false);
    }

    // ---- Single-use sets

    public async Task<TokenConsumption> TryConsumeTokenAsync(
        string tokenId,
        string useFingerprint,
        DateTimeOffset usedAt,
        DateTimeOffset expiresAt,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenId);
        var table = await TableAsync("Tokens", cancellationToken).ConfigureAwait(false);
        var entity = new TableEntity(Key(tokenId), EmptyRowKey)
        {
            ["Fingerprint"] = useFingerprint,
            ["UsedAt"] = usedAt,
            ["ExpiresAt"] = expiresAt,
        };
        try
        {
            await table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            return TokenConsumption.Consumed;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await table.GetEntityAsync<TableEntity>(Key(tokenId), EmptyRowKey, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return string.Equals(existing.Value.GetString("Fingerprint"), useFingerprint, StringComparison.Ordinal)
                ? TokenConsumption.AlreadyConsumedBySameUse
                : TokenConsumption.AlreadyUsed;
        }
    }

    public async Task<bool> TryMarkEventProcessedAsync(
        string eventId,
        DateTimeOffset processedAt,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventId);
        var table = await TableAsync("Events", cancellationToken).ConfigureAwait(false);
        try
        {
            await table.AddEntityAsync(new TableEntity(Key(eventId), EmptyRowKey) { ["ProcessedAt"] = processedAt }, cancellationToken)
                .ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public async Task<bool> IsEventProcessedAsync(string eventId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync("Events", cancellationToken).ConfigureAwait(false);
        var existing = await table.GetEntityIfExistsAsync<TableEntity>(Key(eventId), EmptyRowKey, ["PartitionKey"], cancellationToken)
            .ConfigureAwait(false);
        return existing.HasValue;
    }

    // ---- plumbing

    /// <summary>Percent-encodes an id into a valid table key (reversible, readable for ASCII ids).</summary>
    internal static string Key(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return Uri.EscapeDataString(id);
    }

    private static string GrantRowKey(string datasetId, string principalId) => Key(datasetId) + "|" + Key(principalId.ToUpperInvariant());

    private static bool IsTerminal(DatasetState state) => state is DatasetState.Disposed or DatasetState.Archived or DatasetState.Published;

    private Task<TableClient> TableAsync(string name, CancellationToken cancellationToken)
    {
        Lazy<Task<TableClient>> lazy;
        lock (_tablesLock)
        {
            if (!_tables.TryGetValue(name, out lazy!))
            {
                lazy = new Lazy<Task<TableClient>>(() => CreateTableAsync(_prefix + name));
                _tables[name] = lazy;
            }
        }

        return lazy.Value.WaitAsync(cancellationToken);
    }

    private async Task<TableClient> CreateTableAsync(string tableName)
    {
        var client = _service.GetTableClient(tableName);
        try
        {
            await client.CreateIfNotExistsAsync().ConfigureAwait(false);
        }
        catch
        {
            lock (_tablesLock)
            {
                // Let the next call try again instead of caching the failure.
                _tables.Remove(tableName[_prefix.Length..]);
            }

            throw;
        }

        return client;
    }

    private static TableEntity ToEntity<T>(string partitionKey, string rowKey, T record)
    {
        var json = JsonSerializer.Serialize(record, Json);
        var entity = new TableEntity(partitionKey, rowKey);
        if (json.Length <= ChunkChars)
        {
            entity["Chunks"] = 1;
            entity["Json0"] = json;
            return entity;
        }

        // Larger records (a DMP's plan in force grows with its datasets: ~3 KB each) are stored gzip-compressed in
        // binary chunks: plans compress about 40-fold, and an entity holds at most 1 MiB and 255 properties.
        var compressed = Compress(json);
        if (compressed.Length > MaxCompressedBytes)
        {
            throw new PortRefusedException(
                $"The registry record {Uri.UnescapeDataString(partitionKey)}/{Uri.UnescapeDataString(rowKey)} is {compressed.Length:N0} "
                + $"bytes even compressed; a table entity holds at most {MaxCompressedBytes:N0}. Split the DMP into smaller DMPs.");
        }

        var chunks = (compressed.Length + BinaryChunkBytes - 1) / BinaryChunkBytes;
        entity["Chunks"] = 0;
        entity["GzipChunks"] = chunks;
        for (var i = 0; i < chunks; i++)
        {
            var offset = i * BinaryChunkBytes;
            entity["Gzip" + i] = compressed.AsSpan(offset, Math.Min(BinaryChunkBytes, compressed.Length - offset)).ToArray();
        }

        return entity;
    }

    private static T FromEntity<T>(TableEntity entity)
    {
        string json;
        if (entity.GetInt32("GzipChunks") is > 0 and var gzipChunks)
        {
            using var buffer = new MemoryStream();
            for (var i = 0; i < gzipChunks; i++)
            {
                buffer.Write(
                    entity.GetBinary("Gzip" + i)
                        ?? throw new PortRefusedException(
                            $"Registry entity {entity.PartitionKey}/{entity.RowKey} misses chunk {i} of {gzipChunks}."));
            }

            buffer.Position = 0;
            using var gzip = new GZipStream(buffer, CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, Encoding.UTF8);
            json = reader.ReadToEnd();
        }
        else
        {
            var chunks = entity.GetInt32("Chunks") ?? 0;
            json = string.Concat(Enumerable.Range(0, chunks).Select(i => entity.GetString("Json" + i)));
        }

        return JsonSerializer.Deserialize<T>(json, Json)
            ?? throw new PortRefusedException($"Registry entity {entity.PartitionKey}/{entity.RowKey} holds no record.");
    }

    private static byte[] Compress(string json)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(json));
        }

        return buffer.ToArray();
    }

    private static async Task<string> WriteAsync(
        TableClient table,
        TableEntity entity,
        string? etag,
        string what,
        CancellationToken cancellationToken)
    {
        try
        {
            var response = etag is null
                ? await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false)
                : await table.UpdateEntityAsync(entity, new ETag(etag), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return response.Headers.ETag?.ToString()
                ?? throw new PortException($"The table service returned no ETag for {what}.", isTransient: true);
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404 && etag is not null)
        {
            throw new ConcurrencyConflictException(
                $"The {what} was changed or removed by another writer since it was read (ETag {etag}); re-read it and retry.", ex);
        }
    }

    private static async Task<T?> GetAsync<T>(
        TableClient table,
        string partitionKey,
        string rowKey,
        Func<T, string, T> withETag,
        CancellationToken cancellationToken)
        where T : class
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? withETag(FromEntity<T>(entity), entity.ETag.ToString()) : null;
    }

    private static async Task<IReadOnlyList<T>> QueryAsync<T>(
        TableClient table,
        string? filter,
        Func<T, string, T> withETag,
        CancellationToken cancellationToken)
    {
        var results = new List<T>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            results.Add(withETag(FromEntity<T>(entity), entity.ETag.ToString()));
        }

        return results;
    }
}
