using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.DmpTools;

/// <summary>
/// <see cref="IDmpToolClient"/> for the RDA Common maDMP API 0.1.0 (RDA-DMP-Common/common-madmp-api): paged
/// <c>GET /dmps?modified_after=…</c>, <c>GET /dmps/{id}</c> and <c>PUT /dmps/{id}</c> with <c>If-Unmodified-Since</c>
/// (the API's conflict resolution: a 409 means someone else changed the DMP, so the write is re-read and retried).
/// The API's <c>{id}</c> is the tool's system id; the dmp_id is found with the <c>dmp_ids[]</c> filter.
/// </summary>
public sealed class CommonMadmpApiClient : IDmpToolClient
{
    public const string MediaType = "application/vnd.org.rd-alliance.dmp-common.v1.2+json";

    private readonly DmpToolHttp _http;
    private readonly DmpToolHttp _anonymous;
    private readonly Uri _base;
    private readonly DmpToolSettings _settings;
    private readonly ISecretStore _secrets;
    private readonly TokenCache _token;
    private readonly ConcurrentDictionary<string, string> _systemIdByDmpId = new(StringComparer.Ordinal);

    public CommonMadmpApiClient(string name, DmpToolSettings settings, HttpClient http, ISecretStore secrets, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _secrets = secrets;
        _base = settings.BaseUrl ?? throw new ArgumentException("BaseUrl is required.", nameof(settings));
        if (!_base.AbsolutePath.EndsWith('/'))
        {
            _base = new Uri(_base + "/");
        }

        time ??= TimeProvider.System;
        _token = new TokenCache(time);
        _http = new DmpToolHttp(name, http, settings, TokenAsync, time);
        _anonymous = new DmpToolHttp(name, http, settings, (_, _) => Task.FromResult<string?>(null), time);
    }

    public string Name => _http.Tool;

    public async Task<FetchedDmp?> FetchDmpAsync(string dmpId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        if (await ResolveAsync(dmpId, cancellationToken).ConfigureAwait(false) is not { } systemId)
        {
            return null;
        }

        var response = await GetAsync(systemId, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return null;
        }

        var (document, lastModified) = response.Value;
        return new FetchedDmp(dmpId, document.ToJsonString(), MadmpJson.Modified(document), lastModified);
    }

    public async Task<IReadOnlyList<DmpSummary>> ListDmpsAsync(DateTimeOffset? modifiedAfter, CancellationToken cancellationToken = default)
    {
        var result = new List<DmpSummary>();
        var query = new List<(string, string)>
        {
            ("sort[]", "modified,asc"),
            ("count", _settings.PageSize.ToString(CultureInfo.InvariantCulture)),
        };
        if (modifiedAfter is { } after)
        {
            query.Add(("modified_after", after.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", CultureInfo.InvariantCulture)));
        }

        await foreach (var item in PagesAsync(query, cancellationToken).ConfigureAwait(false))
        {
            if (MadmpJson.DmpId(item) is { } dmpId && MadmpJson.Text(item["id"]) is { } systemId)
            {
                _systemIdByDmpId[dmpId] = systemId;
                result.Add(new DmpSummary(dmpId, MadmpJson.Modified(item)) { ToolId = systemId });
            }
        }

        return result;
    }

    public async Task<OperationResult> WriteBackAsync(string dmpId, DmpWriteBack writeBack, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        ArgumentNullException.ThrowIfNull(writeBack);
        var systemId = await ResolveAsync(dmpId, cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException($"DMP tool '{Name}' does not know DMP '{dmpId}'.");
        var (document, lastModified) = await GetAsync(systemId, cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException($"DMP tool '{Name}' no longer has DMP '{dmpId}' (id {systemId}).");
        if (document["dmp"]?["dataset"] is not JsonArray datasets
            || MadmpJson.DatasetIndex(datasets, writeBack.DatasetId) is not (>= 0 and var index)
            || datasets[index] is not JsonObject dataset)
        {
            throw new PortRefusedException(
                $"DMP tool '{Name}': DMP '{dmpId}' has no dataset '{writeBack.DatasetId}' (dmp/dataset/*/dataset_id/identifier); "
                + "the provisioned location was not written back.");
        }

        if (!Merge(dataset, writeBack))
        {
            return OperationResult.Unchanged;
        }

        var response = await _http.SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_base, $"dmps/{Uri.EscapeDataString(systemId)}"))
            {
                Content = new StringContent(document.ToJsonString(), Encoding.UTF8, MediaType),
            };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaType));
            if (lastModified is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Unmodified-Since", lastModified);
            }

            return request;
        }, cancellationToken).ConfigureAwait(false);
        return response.IsSuccess ? OperationResult.Done : throw response.Fail();
    }

    /// <summary>
    /// <c>distribution.host</c> of the distribution hosted at the location; else the dataset's only host-less
    /// distribution gets the host; else a closed distribution is added for the provisioned storage.
    /// </summary>
    private static bool Merge(JsonObject dataset, DmpWriteBack writeBack)
    {
        var url = writeBack.HostUrl.ToString();
        if (dataset["distribution"] is not JsonArray distributions)
        {
            dataset["distribution"] = distributions = [];
        }

        var target = distributions.OfType<JsonObject>().FirstOrDefault(d => MadmpJson.Text(d["host"]?["url"]) == url);
        var hostless = distributions.OfType<JsonObject>().Where(d => d["host"] is not JsonObject).ToList();
        target ??= hostless.Count == 1 ? hostless[0] : null;
        if (target is null)
        {
            target = new JsonObject { ["title"] = $"Provisioned storage ({writeBack.ProvisionedLocation})", ["data_access"] = "closed" };
            distributions.Add(target);
        }

        if (target["host"] is not JsonObject host)
        {
            target["host"] = host = new JsonObject { ["title"] = writeBack.ProvisionedLocation };
        }

        var changed = false;
        foreach (var (key, value) in new[]
        {
            ("url", url),
            ("storage_type", writeBack.StorageType),
            ("backup_frequency", writeBack.BackupFrequency),
        })
        {
            if (MadmpJson.Text(host[key]) != value)
            {
                host[key] = value;
                changed = true;
            }
        }

        if (host["title"] is null)
        {
            host["title"] = writeBack.ProvisionedLocation;
            changed = true;
        }

        return changed;
    }

    private async Task<(JsonObject Document, string? LastModified)?> GetAsync(string systemId, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, $"dmps/{Uri.EscapeDataString(systemId)}"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaType));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json", 0.5));
            return request;
        }, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return null;
        }

        if (!response.IsSuccess)
        {
            throw response.Fail();
        }

        if (response.Json() is not JsonObject body || body["dmp"] is not JsonObject)
        {
            throw new PortException(
                $"DMP tool '{Name}' answered {response.What} without a \"dmp\" object; it will be tried again.", isTransient: true);
        }

        // The system id is the API's, not part of the maDMP: the document the intake reads is {"dmp": …}.
        var document = new JsonObject { ["dmp"] = body["dmp"]!.DeepClone() };
        return (document, response.LastModified);
    }

    private async Task<string?> ResolveAsync(string dmpId, CancellationToken cancellationToken)
    {
        if (_systemIdByDmpId.TryGetValue(dmpId, out var known))
        {
            return known;
        }

        await foreach (var item in PagesAsync([("dmp_ids[]", dmpId), ("count", "1")], cancellationToken).ConfigureAwait(false))
        {
            if (MadmpJson.DmpId(item) == dmpId && MadmpJson.Text(item["id"]) is { } systemId)
            {
                _systemIdByDmpId[dmpId] = systemId;
                return systemId;
            }
        }

        return null;
    }

    private async IAsyncEnumerable<JsonObject> PagesAsync(
        List<(string Key, string Value)> query,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var offset = 0;
        while (true)
        {
            // Keys are the API's constant names, sent as the spec writes them (dmp_ids[], sort[]); values are escaped.
            var pageQuery = string.Join(
                "&",
                query.Append(("offset", offset.ToString(CultureInfo.InvariantCulture)))
                    .Select(q => $"{q.Item1}={Uri.EscapeDataString(q.Item2)}"));
            var response = await _http.SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, "dmps?" + pageQuery));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaType));
                return request;
            }, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccess)
            {
                throw response.Fail();
            }

            var body = response.Json();
            if (body["items"] is not JsonArray items
                || body["total_count"] is not JsonValue totalValue
                || !totalValue.TryGetValue<int>(out var total))
            {
                throw new PortException(
                    $"DMP tool '{Name}' answered {response.What} without \"items\" and \"total_count\"; it will be tried again.",
                    isTransient: true);
            }

            foreach (var item in items.OfType<JsonObject>())
            {
                yield return item;
            }

            offset += items.Count;
            if (items.Count == 0 || offset >= total)
            {
                yield break;
            }
        }
    }

    private async Task<string?> TokenAsync(bool refresh, CancellationToken cancellationToken) =>
        _settings.GrantType.ToLowerInvariant() switch
        {
            "none" => null,
            "bearer" => await _secrets.GetSecretAsync(_settings.ClientSecretName!, cancellationToken).ConfigureAwait(false),
            _ => await _token.GetAsync(refresh, ClientCredentialsAsync, cancellationToken).ConfigureAwait(false),
        };

    private async Task<(string Token, TimeSpan Lifetime)> ClientCredentialsAsync(CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = await _secrets.GetSecretAsync(_settings.ClientIdSecretName!, cancellationToken).ConfigureAwait(false),
            ["client_secret"] = await _secrets.GetSecretAsync(_settings.ClientSecretName!, cancellationToken).ConfigureAwait(false),
        };
        if (!string.IsNullOrWhiteSpace(_settings.Scope))
        {
            form["scope"] = _settings.Scope;
        }

        var response = await _anonymous.SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, _settings.TokenUrl) { Content = new FormUrlEncodedContent(form) },
            cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess)
        {
            throw response.Fail(
                $"Check the Key Vault secrets {_settings.ClientIdSecretName} and {_settings.ClientSecretName} and DmpTools__Tools__{Name}"
                + "__TokenUrl.");
        }

        return TokenCache.Parse(response);
    }
}
