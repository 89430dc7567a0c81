using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gardien.Workflows.Ports;

namespace Gardien.Local.DmpTool;

/// <summary>
/// <see cref="IDmpToolClient"/> over a folder: a DMP is <c>{folder}/{slug}.json</c> (slug of the DMP id, see
/// <see cref="Slug"/>) or, failing that, any <c>*.json</c> in the folder whose <c>dmp.dmp_id.identifier</c> matches.
/// Write-backs are merged into <c>{folder}/writeback/{slug}.json</c> keyed by dataset id; the DMP files themselves are
/// never modified.
/// </summary>
public sealed class FileDmpToolClient(string folder) : IDmpToolClient
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly string _folder = Path.GetFullPath(folder);
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public string Folder => _folder;

    public string WriteBackFolder => Path.Combine(_folder, "writeback");

    public async Task<FetchedDmp?> FetchDmpAsync(string dmpId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        if (!System.IO.Directory.Exists(_folder))
        {
            return null;
        }

        var direct = Path.Combine(_folder, Slug(dmpId) + ".json");
        if (File.Exists(direct))
        {
            return await ReadAsync(direct, dmpId, cancellationToken).ConfigureAwait(false);
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(_folder, "*.json").Order(StringComparer.Ordinal))
        {
            var text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
            if (TryReadHeader(text, out var id, out _) && string.Equals(id, dmpId, StringComparison.OrdinalIgnoreCase))
            {
                return Fetched(dmpId, text);
            }
        }

        return null;
    }

    public async Task<IReadOnlyList<DmpSummary>> ListDmpsAsync(DateTimeOffset? modifiedAfter, CancellationToken cancellationToken = default)
    {
        if (!System.IO.Directory.Exists(_folder))
        {
            return [];
        }

        var result = new List<DmpSummary>();
        foreach (var file in System.IO.Directory.EnumerateFiles(_folder, "*.json").Order(StringComparer.Ordinal))
        {
            var text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
            if (TryReadHeader(text, out var id, out var modified) && (modifiedAfter is null || modified > modifiedAfter))
            {
                result.Add(new DmpSummary(id, modified));
            }
        }

        return result;
    }

    public async Task<OperationResult> WriteBackAsync(string dmpId, DmpWriteBack writeBack, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        ArgumentNullException.ThrowIfNull(writeBack);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            System.IO.Directory.CreateDirectory(WriteBackFolder);
            var path = Path.Combine(WriteBackFolder, Slug(dmpId) + ".json");
            var document = File.Exists(path)
                ? JsonNode.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)) as JsonObject ?? []
                : [];
            document["dmp_id"] = dmpId;
            if (document["datasets"] is not JsonObject datasets)
            {
                datasets = [];
                document["datasets"] = datasets;
            }

            var entry = new JsonObject
            {
                ["host_url"] = writeBack.HostUrl.ToString(),
                ["storage_type"] = writeBack.StorageType,
                ["backup_frequency"] = writeBack.BackupFrequency,
                ["provisioned_location"] = writeBack.ProvisionedLocation,
            };
            if (datasets[writeBack.DatasetId] is JsonNode existing && JsonNode.DeepEquals(existing, entry))
            {
                return OperationResult.Unchanged;
            }

            datasets[writeBack.DatasetId] = entry;
            var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
            await File.WriteAllTextAsync(temp, document.ToJsonString(Indented), cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
            return OperationResult.Done;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>File-name slug of a DMP id: lower case, runs of characters outside [a-z0-9] become '-'.</summary>
    public static string Slug(string dmpId)
    {
        ArgumentNullException.ThrowIfNull(dmpId);
        var builder = new StringBuilder(dmpId.Length);
        foreach (var c in dmpId.Trim().ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        return builder.ToString().TrimEnd('-');
    }

    private static async Task<FetchedDmp> ReadAsync(string path, string dmpId, CancellationToken cancellationToken) =>
        Fetched(dmpId, await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));

    private static FetchedDmp Fetched(string dmpId, string text)
    {
        TryReadHeader(text, out _, out var modified);
        var version = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
        return new FetchedDmp(dmpId, text, modified, version);
    }

    /// <summary>Reads dmp.dmp_id.identifier and dmp.modified leniently (a broken file is simply not a match).</summary>
    private static bool TryReadHeader(string text, out string dmpId, out DateTimeOffset? modified)
    {
        dmpId = string.Empty;
        modified = null;
        try
        {
            using var doc = JsonDocument.Parse(
                text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (!doc.RootElement.TryGetProperty("dmp", out var dmp) || dmp.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            if (dmp.TryGetProperty("modified", out var m))
            {
                modified = m.ValueKind switch
                {
                    JsonValueKind.String when DateTimeOffset.TryParse(
                        m.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) => parsed,
                    JsonValueKind.Number when m.TryGetInt64(out var epoch) => epoch > 100_000_000_000
                        ? DateTimeOffset.FromUnixTimeMilliseconds(epoch)
                        : DateTimeOffset.FromUnixTimeSeconds(epoch),
                    _ => null,
                };
            }

            if (dmp.TryGetProperty("dmp_id", out var idObject) && idObject.ValueKind == JsonValueKind.Object &&
                idObject.TryGetProperty("identifier", out var identifier) && identifier.ValueKind == JsonValueKind.String)
            {
                dmpId = identifier.GetString()!;
                return true;
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
