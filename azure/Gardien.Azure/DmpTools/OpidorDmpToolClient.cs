using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gardien.Workflows.Madmp.Opidor;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.DmpTools;

/// <summary>
/// <see cref="IDmpToolClient"/> for DMP OPIDoR's REST API v1 (<c>swagger/v1/swagger.json</c> of OPIDoR/DMPOPIDoR):
/// a token from <c>POST /api/v1/authenticate</c>; a plan read as <c>GET /api/v1/madmp/plans/{id}?export_format=rda</c>
/// plus its native <c>export_format=standard</c>, which the intake merges in with <see cref="OpidorStandardMapper"/>
/// (the RDA export drops storage type, backup and the preservation end date); write-back with
/// <c>PUT /api/v1/madmp/fragments/{id}</c> on the research output's <c>dataStorage</c> fragment, where Gardien keeps one
/// facility entry per provisioned location. The API cannot list plans: the watched plan numbers come from settings.
/// </summary>
public sealed partial class OpidorDmpToolClient : IDmpToolClient
{
    private readonly DmpToolHttp _http;
    private readonly Uri _base;
    private readonly DmpToolSettings _settings;
    private readonly ISecretStore _secrets;
    private readonly TokenCache _token;
    private readonly DmpToolHttp _anonymous;
    private readonly ConcurrentDictionary<string, string> _planByDmpId = new(StringComparer.Ordinal);

    public OpidorDmpToolClient(string name, DmpToolSettings settings, HttpClient http, ISecretStore secrets, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _secrets = secrets;
        _base = settings.BaseUrl ?? throw new ArgumentException("BaseUrl is required.", nameof(settings));
        time ??= TimeProvider.System;
        _token = new TokenCache(time);
        _http = new DmpToolHttp(name, http, settings, (refresh, ct) => _token.GetAsync(refresh, AuthenticateAsync, ct), time);
        _anonymous = new DmpToolHttp(name, http, settings, (_, _) => Task.FromResult<string?>(null), time);
    }

    public string Name => _http.Tool;

    public async Task<FetchedDmp?> FetchDmpAsync(string dmpId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        if (await ResolvePlanAsync(dmpId, cancellationToken).ConfigureAwait(false) is not { } planId)
        {
            return null;
        }

        var rda = await ExportAsync(planId, "rda", cancellationToken).ConfigureAwait(false);
        if (rda is null)
        {
            return null;
        }

        var standard = await ExportAsync(planId, "standard", cancellationToken).ConfigureAwait(false);
        JsonNode? parsed = null;
        try
        {
            parsed = JsonNode.Parse(rda);
        }
        catch (System.Text.Json.JsonException)
        {
            // The intake's reader reports where the JSON is broken; the raw text goes through as it is.
        }

        var version = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rda + "\n" + standard)))[..16];
        return new FetchedDmp(dmpId, rda, MadmpJson.Modified(parsed), version)
        {
            NativeExport = standard,
            NativeFormat = standard is null ? null : new OpidorStandardMapper().SourceName,
        };
    }

    public async Task<IReadOnlyList<DmpSummary>> ListDmpsAsync(DateTimeOffset? modifiedAfter, CancellationToken cancellationToken = default)
    {
        var result = new List<DmpSummary>();
        foreach (var planId in _settings.PlanIds.Distinct(StringComparer.Ordinal))
        {
            var rda = await ExportAsync(planId, "rda", cancellationToken).ConfigureAwait(false);
            if (rda is null)
            {
                continue;
            }

            var document = Parse(rda, $"GET /api/v1/madmp/plans/{planId}");
            if (MadmpJson.DmpId(document) is not { } dmpId)
            {
                throw new PortRefusedException(
                    $"DMP tool '{Name}': the RDA export of plan {planId} has no dmp.dmp_id.identifier; "
                    + "give the plan an identifier in DMP OPIDoR.");
            }

            _planByDmpId[dmpId] = planId;
            var modified = MadmpJson.Modified(document);
            if (modifiedAfter is null || modified is null || modified > modifiedAfter)
            {
                result.Add(new DmpSummary(dmpId, modified) { ToolId = planId });
            }
        }

        return result;
    }

    public async Task<OperationResult> WriteBackAsync(string dmpId, DmpWriteBack writeBack, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        ArgumentNullException.ThrowIfNull(writeBack);
        var planId = await ResolvePlanAsync(dmpId, cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException(
                $"DMP tool '{Name}' does not know DMP '{dmpId}'; add its plan number to DmpTools__Tools__{Name}__PlanIds.");
        var standardText = await ExportAsync(planId, "standard", cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException($"DMP tool '{Name}' no longer has plan {planId} (DMP '{dmpId}').");
        var rdaText = await ExportAsync(planId, "rda", cancellationToken).ConfigureAwait(false);
        var standard = Parse(standardText, $"GET /api/v1/madmp/plans/{planId}?export_format=standard");
        var output = FindResearchOutput(
            standard, rdaText is null ? null : Parse(rdaText, $"GET /api/v1/madmp/plans/{planId}?export_format=rda"), writeBack.DatasetId)
            ?? throw new PortRefusedException(
                $"DMP tool '{Name}': plan {planId} has no research output for dataset '{writeBack.DatasetId}' (matched by dataset id, "
                + "then title); the provisioned location was not written back.");
        if (output["dataStorage"] is not JsonObject storage || FragmentId(storage) is not { } fragmentId)
        {
            throw new PortRefusedException(
                $"DMP tool '{Name}': the research output of dataset '{writeBack.DatasetId}' in plan {planId} has no data storage fragment "
                + "with an id (dbid); fill in its data storage section in DMP OPIDoR first.");
        }

        var data = (JsonObject)storage.DeepClone();
        if (!Merge(data, writeBack))
        {
            return OperationResult.Unchanged;
        }

        var response = await _http.SendAsync(() => new HttpRequestMessage(
            HttpMethod.Put, new Uri(_base, $"api/v1/madmp/fragments/{fragmentId}"))
        {
            Content = JsonContent.Create(new JsonObject { ["data"] = data.DeepClone() }),
        }, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess)
        {
            throw response.Fail();
        }

        return OperationResult.Done;
    }

    /// <summary>Gardien's facility entry (keyed by the location URL) and, where the researcher left them empty, the backup facts.</summary>
    private static bool Merge(JsonObject storage, DmpWriteBack writeBack)
    {
        var url = writeBack.HostUrl.ToString();
        if (storage["facility"] is not JsonArray facilities)
        {
            storage["facility"] = facilities = [];
        }

        var changed = false;
        var entry = facilities.OfType<JsonObject>().FirstOrDefault(f => MadmpJson.Text(f["technicalResourceId"]) == url);
        if (entry is null)
        {
            facilities.Add(new JsonObject { ["title"] = writeBack.ProvisionedLocation, ["technicalResourceId"] = url, ["idType"] = "URL" });
            changed = true;
        }
        else if (MadmpJson.Text(entry["title"]) != writeBack.ProvisionedLocation)
        {
            entry["title"] = writeBack.ProvisionedLocation;
            changed = true;
        }

        if (storage["backupPolicy"] is not JsonArray policies)
        {
            storage["backupPolicy"] = policies = [];
        }

        if (policies.Count == 0)
        {
            policies.Add(new JsonObject());
        }

        if (policies[0] is JsonObject policy)
        {
            if (string.IsNullOrWhiteSpace(MadmpJson.Text(policy["backupFrequency"])))
            {
                policy["backupFrequency"] = writeBack.BackupFrequency;
                changed = true;
            }

            if (policy["storageType"] is not JsonArray { Count: > 0 })
            {
                policy["storageType"] = new JsonArray(writeBack.StorageType);
                changed = true;
            }
        }

        return changed;
    }

    private static JsonObject? FindResearchOutput(JsonNode standard, JsonNode? rda, string datasetKey)
    {
        var outputs = (standard["researchOutput"] ?? standard["plan"]?["researchOutput"]) as JsonArray ?? [];
        var candidates = outputs.OfType<JsonObject>().ToList();
        var byId = candidates.FirstOrDefault(o => MadmpJson.Text(o["researchOutputDescription"]?["datasetId"]) == datasetKey);
        if (byId is not null)
        {
            return byId;
        }

        if (rda?["dmp"]?["dataset"] is JsonArray datasets && MadmpJson.DatasetIndex(datasets, datasetKey) is >= 0 and var index)
        {
            var title = MadmpJson.Text(datasets[index]?["title"])?.Trim();
            var byTitle = candidates.FirstOrDefault(
                o => string.Equals(
                    MadmpJson.Text(o["researchOutputDescription"]?["title"])?.Trim(), title, StringComparison.OrdinalIgnoreCase));
            return byTitle ?? (candidates.Count == datasets.Count ? candidates[index] : null);
        }

        return null;
    }

    private static string? FragmentId(JsonObject fragment) => fragment["dbid"] switch
    {
        JsonValue v when v.TryGetValue<long>(out var n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue<string>(out var s) && s.Length > 0 => s,
        _ => null,
    };

    private async Task<string?> ResolvePlanAsync(string dmpId, CancellationToken cancellationToken)
    {
        if (PlanNumber().IsMatch(dmpId))
        {
            return dmpId;
        }

        if (PlanUrl().Match(dmpId) is { Success: true } url
            && Uri.TryCreate(dmpId, UriKind.Absolute, out var uri)
            && uri.Host.Equals(_base.Host, StringComparison.OrdinalIgnoreCase))
        {
            return url.Groups[1].Value;
        }

        if (_planByDmpId.TryGetValue(dmpId, out var known))
        {
            return known;
        }

        await ListDmpsAsync(null, cancellationToken).ConfigureAwait(false);
        return _planByDmpId.TryGetValue(dmpId, out var found) ? found : null;
    }

    private async Task<string?> ExportAsync(string planId, string format, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(
            () => new HttpRequestMessage(
                HttpMethod.Get, new Uri(_base, $"api/v1/madmp/plans/{Uri.EscapeDataString(planId)}?export_format={format}")),
            cancellationToken).ConfigureAwait(false);
        return response.Status == 404 ? null : response.IsSuccess ? response.Body : throw response.Fail();
    }

    private async Task<(string Token, TimeSpan Lifetime)> AuthenticateAsync(CancellationToken cancellationToken)
    {
        var grant = _settings.GrantType.ToLowerInvariant();
        var id = await _secrets.GetSecretAsync(_settings.ClientIdSecretName!, cancellationToken).ConfigureAwait(false);
        var secret = await _secrets.GetSecretAsync(_settings.ClientSecretName!, cancellationToken).ConfigureAwait(false);
        var body = grant == "authorization_code"
            ? new JsonObject { ["grant_type"] = grant, ["email"] = id, ["code"] = secret }
            : new JsonObject { ["grant_type"] = grant, ["client_id"] = id, ["client_secret"] = secret };
        var response = await _anonymous.SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, new Uri(_base, "api/v1/authenticate")) { Content = JsonContent.Create(body) },
            cancellationToken)
            .ConfigureAwait(false);
        if (!response.IsSuccess)
        {
            throw response.Fail(
                $"Check the Key Vault secrets {_settings.ClientIdSecretName} and {_settings.ClientSecretName} (grant {grant}).");
        }

        return TokenCache.Parse(response);
    }

    private static JsonNode Parse(string text, string what)
    {
        try
        {
            return JsonNode.Parse(text) ?? new JsonObject();
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new PortException(
                $"DMP OPIDoR answered {what} with a body that is not valid JSON (line {(ex.LineNumber ?? 0) + 1}); it will be tried again.",
                isTransient: true,
                ex);
        }
    }

    [GeneratedRegex("^[0-9]{1,12}$")]
    private static partial Regex PlanNumber();

    [GeneratedRegex("/plans/([0-9]{1,12})(?:[/?#]|$)")]
    private static partial Regex PlanUrl();
}
