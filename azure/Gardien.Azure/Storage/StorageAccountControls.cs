using System.Text.Json.Nodes;
using Azure.Core;
using Gardien.Azure.Arm;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.Storage;

/// <summary>A container as ARM reports it (<c>blobServices/default/containers/{name}</c>).</summary>
/// <param name="ImmutabilityETag">The policy's ETag, needed to change or lock it.</param>
public sealed record ArmContainerState(
    string Name,
    string? DefaultEncryptionScope,
    bool DenyEncryptionScopeOverride,
    IReadOnlyList<string> LegalHoldTags,
    int? ImmutabilityDays,
    string? ImmutabilityState,
    string? ImmutabilityETag)
{
    public bool ImmutabilityLocked => string.Equals(ImmutabilityState, "Locked", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The research account's management-plane controls over the ARM REST API (Microsoft.Storage, api-version 2023-05-01):
/// container state, time-based immutability, legal hold, encryption scopes and the lifecycle management policy. Every
/// change is preceded by a read, so a repeated call changes nothing and says so.
/// </summary>
public sealed class StorageAccountControls
{
    internal const string ApiVersion = "2023-05-01";
    private const string Hint =
        "The app identity needs Storage Account Contributor on the research account (enableResearchDataManagement in infra-bicep).";

    private readonly ArmRestClient _arm;
    private readonly StorageAccountId _account;

    public StorageAccountControls(ResearchStorageOptions options, TokenCredential credential, ArmClientOptions? clientOptions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _account = options.Account;
        _arm = new ArmRestClient(options.ResourceManagerEndpoint, credential, clientOptions);
    }

    public string AccountName => _account.AccountName;

    /// <summary>The container as ARM sees it, or null when it does not exist.</summary>
    public async Task<ArmContainerState?> GetContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        var response = await _arm.SendAsync(
            RequestMethod.Get, _account.ContainerId(container), ApiVersion, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return null;
        }

        var properties = response.EnsureSuccess(Hint).Object["properties"] as JsonObject ?? [];
        var hold = properties["legalHold"]?["tags"] as JsonArray ?? [];
        var policy = properties["immutabilityPolicy"] as JsonObject;
        var policyProperties = policy?["properties"] as JsonObject;
        return new ArmContainerState(
            container,
            Text(properties["defaultEncryptionScope"]),
            properties["denyEncryptionScopeOverride"] is JsonValue deny && deny.TryGetValue<bool>(out var d) && d,
            [.. hold.Select(t => t is JsonObject o ? Text(o["tag"]) : Text(t)).OfType<string>()],
            policyProperties?["immutabilityPeriodSinceCreationInDays"] is JsonValue days && days.TryGetValue<int>(out var n) ? n : null,
            Text(policyProperties?["state"]),
            Text(policy?["etag"]));
    }

    /// <summary>
    /// Makes the container's time-based immutability at least <paramref name="days"/>: creates the policy unlocked, raises
    /// an unlocked policy's period, extends a locked one, and locks it when asked. Never shortens nor removes a policy.
    /// Returns true when anything changed.
    /// </summary>
    public async Task<bool> EnsureImmutabilityAsync(string container, int days, bool locked, CancellationToken cancellationToken = default)
    {
        if (days is < 1 or > 146_000)
        {
            throw new PortRefusedException(
                $"Immutability of {days} days is outside what Azure accepts (1–146000 days); "
                + "fix storage.raw_data_immutability.days in the policy.");
        }

        var state = await GetContainerAsync(container, cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException($"Container '{container}' does not exist in account {_account.AccountName}.");
        var policyPath = $"{_account.ContainerId(container)}/immutabilityPolicies/default";
        var changed = false;
        var etag = state.ImmutabilityETag;
        if (state.ImmutabilityDays is null || (!state.ImmutabilityLocked && state.ImmutabilityDays < days))
        {
            var body = new JsonObject
            {
                ["properties"] = new JsonObject { ["immutabilityPeriodSinceCreationInDays"] = days, ["allowProtectedAppendWrites"] = true },
            };
            var put = await _arm.SendAsync(
                RequestMethod.Put, policyPath, ApiVersion, body, ifMatch: etag, cancellationToken: cancellationToken).ConfigureAwait(false);
            etag = Text(put.EnsureSuccess(Hint).Object["etag"]) ?? put.ETag;
            changed = true;
        }
        else if (state.ImmutabilityLocked && state.ImmutabilityDays < days)
        {
            var body = new JsonObject
            {
                ["properties"] = new JsonObject { ["immutabilityPeriodSinceCreationInDays"] = days, ["allowProtectedAppendWrites"] = true },
            };
            var extend = await _arm.SendAsync(
                RequestMethod.Post,
                policyPath + "/extend",
                ApiVersion,
                body,
                ifMatch: etag,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            extend.EnsureSuccess(Hint);
            return true;
        }

        if (locked && !state.ImmutabilityLocked)
        {
            var lockResponse = await _arm.SendAsync(
                RequestMethod.Post,
                policyPath + "/lock",
                ApiVersion,
                ifMatch: etag,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            lockResponse.EnsureSuccess(Hint);
            changed = true;
        }

        return changed;
    }

    /// <summary>Sets or clears one legal hold tag on the container. Returns true when the hold changed.</summary>
    public async Task<bool> SetLegalHoldAsync(string container, string tag, bool hold, CancellationToken cancellationToken = default)
    {
        var state = await GetContainerAsync(container, cancellationToken).ConfigureAwait(false)
            ?? throw new PortNotFoundException($"Container '{container}' does not exist in account {_account.AccountName}.");
        var present = state.LegalHoldTags.Contains(tag, StringComparer.OrdinalIgnoreCase);
        if (present == hold)
        {
            return false;
        }

        var body = new JsonObject { ["tags"] = new JsonArray(tag) };
        var response = await _arm.SendAsync(
            RequestMethod.Post,
            $"{_account.ContainerId(container)}/{(hold ? "setLegalHold" : "clearLegalHold")}",
            ApiVersion,
            body,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        response.EnsureSuccess(Hint);
        return true;
    }

    /// <summary>
    /// Creates the encryption scope (Microsoft-managed keys, infrastructure encryption) if the account lacks it. True when created.
    /// </summary>
    public async Task<bool> EnsureEncryptionScopeAsync(string scope, CancellationToken cancellationToken = default)
    {
        var path = $"{_account.ResourceId}/encryptionScopes/{scope}";
        var existing = await _arm.SendAsync(RequestMethod.Get, path, ApiVersion, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (existing.IsSuccess)
        {
            var state = Text(existing.Object["properties"]?["state"]);
            return !string.Equals(state, "Disabled", StringComparison.OrdinalIgnoreCase)
                ? false
                : throw new PortRefusedException(
                    $"Encryption scope '{scope}' of account {_account.AccountName} is disabled; enable it (or name another scope in the "
                    + "policy's storage.encryption.scope) before provisioning sensitive datasets.");
        }

        if (existing.Status != 404)
        {
            throw existing.Fail(Hint);
        }

        var body = new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["source"] = "Microsoft.Storage",
                ["state"] = "Enabled",
                ["requireInfrastructureEncryption"] = true,
            },
        };
        var created = await _arm.SendAsync(RequestMethod.Put, path, ApiVersion, body, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        created.EnsureSuccess(Hint);
        return true;
    }

    /// <summary>The account's lifecycle management rules (<c>managementPolicies/default</c>); empty when there is no policy.</summary>
    public async Task<IReadOnlyList<JsonObject>> GetLifecycleRulesAsync(CancellationToken cancellationToken = default)
    {
        var response = await _arm.SendAsync(
            RequestMethod.Get,
            $"{_account.ResourceId}/managementPolicies/default",
            ApiVersion,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return [];
        }

        var rules = response.EnsureSuccess(Hint).Object["properties"]?["policy"]?["rules"] as JsonArray ?? [];
        return [.. rules.OfType<JsonObject>()];
    }

    /// <summary>Replaces the account's lifecycle rules (the policy is one document); no rules deletes the policy.</summary>
    public async Task SetLifecycleRulesAsync(IReadOnlyList<JsonObject> rules, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var path = $"{_account.ResourceId}/managementPolicies/default";
        if (rules.Count == 0)
        {
            var deleted = await _arm.SendAsync(RequestMethod.Delete, path, ApiVersion, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            if (deleted.Status is not (200 or 204 or 404))
            {
                throw deleted.Fail(Hint);
            }

            return;
        }

        var body = new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["policy"] = new JsonObject { ["rules"] = new JsonArray([.. rules.Select(r => r.DeepClone())]) },
            },
        };
        var response = await _arm.SendAsync(RequestMethod.Put, path, ApiVersion, body, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        response.EnsureSuccess(Hint);
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
