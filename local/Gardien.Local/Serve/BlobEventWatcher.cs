using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Hosting.Events;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Local.Serve;

/// <summary>
/// The local stand-in for Event Grid: Azurite has none, so the service lists the governed containers (those of the
/// registry's datasets, and every container under the policy's name prefix, so that unknown ones are reported) and
/// compares each listing with a checkpoint (<c>{state}/blob-watch.json</c>: per container, blob name → ETag). A new or
/// rewritten blob becomes an Event Grid <c>Microsoft.Storage.BlobCreated</c> event, a vanished one a
/// <c>Microsoft.Storage.BlobDeleted</c> event, in the schema Azure delivers, parsed and handled by the same code as the
/// Functions app's queue (<see cref="EventGridMessages"/>, <see cref="GridEventDispatcher"/>). Event ids derive from the
/// container, blob and ETag, so a poll repeated after a crash (before the checkpoint was saved) starts nothing twice.
/// </summary>
public sealed class BlobEventWatcher(
    BlobServiceClient blobs,
    IGovernanceRegistry registry,
    GridEventDispatcher dispatcher,
    string checkpointPath,
    string containerPrefix,
    TimeProvider? time = null,
    ILogger<BlobEventWatcher>? logger = null)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private static readonly BlobEventOptions Ignored = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    /// <summary>One pass: every change since the checkpoint, handled; returns what was handled.</summary>
    public async Task<IReadOnlyList<GridEventHandled>> PollAsync(CancellationToken cancellationToken = default)
    {
        var checkpoint = Load();
        var handled = new List<GridEventHandled>();
        foreach (var container in await WatchedContainersAsync(cancellationToken).ConfigureAwait(false))
        {
            var current = await ListAsync(container, cancellationToken).ConfigureAwait(false);
            var previous = checkpoint.TryGetValue(container, out var seen) ? seen : [];
            var events = new List<JsonObject>();
            foreach (var (name, etag) in current.Where(b => !previous.TryGetValue(b.Key, out var before) || before != b.Value))
            {
                events.Add(Event(BlobEventInput.BlobCreatedType, "PutBlob", container, name, etag));
            }

            foreach (var (name, etag) in previous.Where(b => !current.ContainsKey(b.Key)))
            {
                events.Add(Event(BlobEventInput.BlobDeletedType, "DeleteBlob", container, name, etag));
            }

            if (events.Count == 0)
            {
                continue;
            }

            foreach (var gridEvent in EventGridMessages.Parse(new JsonArray([.. events]).ToJsonString()))
            {
                handled.Add(await dispatcher.HandleBlobEventAsync(gridEvent, cancellationToken).ConfigureAwait(false));
            }

            checkpoint[container] = current;
            Save(checkpoint);
            _logger.LogInformation("Blob watcher: {Count} event(s) in container {Container}.", events.Count, container);
        }

        return handled;
    }

    /// <summary>Polls every <paramref name="interval"/> until cancelled; a failed pass is logged and tried again at the next.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, _time);
        do
        {
            try
            {
                await PollAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RequestFailedException or IOException or FormatException or PortException
                or InvalidOperationException
                && !cancellationToken.IsCancellationRequested)
            {
                _logger.LogWarning("Blob watcher: this pass failed and is tried again in {Interval}: {Reason}", interval, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private async Task<IReadOnlyList<string>> WatchedContainersAsync(CancellationToken cancellationToken)
    {
        var containers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var dmp in await registry.ListDmpsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            foreach (var dataset in await registry.ListDatasetsAsync(dmp.DmpId, cancellationToken).ConfigureAwait(false))
            {
                containers.Add(dataset.Container);
            }
        }

        if (containerPrefix.Length > 0)
        {
            await foreach (var item in blobs.GetBlobContainersAsync(prefix: containerPrefix,
                cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                containers.Add(item.Name);
            }
        }

        return [.. containers.Where(c => !Ignored.IsIgnored(c))];
    }

    private async Task<Dictionary<string, string>> ListAsync(string container, CancellationToken cancellationToken)
    {
        var listing = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var client = blobs.GetBlobContainerClient(container);
            await foreach (var blob in client.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                listing[blob.Name] = blob.Properties.ETag?.ToString() ?? string.Empty;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // A container that is gone holds no blobs: those the checkpoint knew are reported deleted.
        }

        return listing;
    }

    private JsonObject Event(string type, string api, string container, string blob, string etag)
    {
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{type}|{container}|{blob}|{etag}")))[..32];
        return new JsonObject
        {
            ["topic"] = $"/subscriptions/local/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/{blobs.AccountName}",
            ["subject"] = $"/blobServices/default/containers/{container}/blobs/{blob}",
            ["eventType"] = type,
            ["id"] = id,
            ["data"] = new JsonObject
            {
                ["api"] = api,
                ["eTag"] = etag,
                ["blobType"] = "BlockBlob",
                ["url"] = blobs.GetBlobContainerClient(container).GetBlobClient(blob).Uri.AbsoluteUri,
                ["sequencer"] = id,
            },
            ["dataVersion"] = string.Empty,
            ["metadataVersion"] = "1",
            ["eventTime"] = _time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private Dictionary<string, Dictionary<string, string>> Load()
    {
        try
        {
            return File.Exists(checkpointPath)
                ? JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string>>>(File.ReadAllText(checkpointPath), Json) ?? []
                : [];
        }
        catch (JsonException ex)
        {
            // A damaged checkpoint is read as empty: every blob is then reported once more, which the workflows absorb.
            _logger.LogWarning("Blob watcher: the checkpoint {Path} is not readable ({Reason}); starting from an empty one.",
                checkpointPath, ex.Message);
            return [];
        }
    }

    private void Save(Dictionary<string, Dictionary<string, string>> checkpoint)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!);
        var temp = checkpointPath + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(checkpoint, Json));
        File.Move(temp, checkpointPath, overwrite: true);
    }
}
