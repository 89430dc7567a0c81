using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Azure.KeyVault;

/// <summary>
/// <see cref="ISecretStore"/> (and <see cref="IVersionedSecretStore"/>) over Azure Key Vault (approval-link signing keys, the Teams webhook
/// URL, DMP-tool client
/// credentials). Values are kept in memory for <see cref="KeyVaultOptions.CacheDuration"/>, so a rotated version is
/// picked up within that time without a restart; for verification, the previous version stays acceptable for
/// <see cref="KeyVaultOptions.RotationWindow"/> after the current one was created. Values are never logged (names and
/// version ids are). Key Vault errors become port exceptions: a missing secret <see cref="PortNotFoundException"/>, a
/// refused identity <see cref="PortRefusedException"/>, throttling, outages and timeouts a transient <see cref="PortException"/>.
/// </summary>
public sealed class KeyVaultSecretStore : IVersionedSecretStore
{
    private readonly SecretClient _client;
    private readonly KeyVaultOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CachedValue> _current = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, CachedAccepted> _accepted = new(StringComparer.OrdinalIgnoreCase);

    // Versions are immutable in Key Vault, so a version's value never needs to be fetched twice.
    private readonly ConcurrentDictionary<string, string> _versions = new(StringComparer.Ordinal);

    public KeyVaultSecretStore(
        SecretClient client,
        KeyVaultOptions options,
        TimeProvider? timeProvider = null,
        ILogger<KeyVaultSecretStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>A client for the vault with the adapter's retry and timeout settings.</summary>
    /// <param name="transport">Tests only: a transport that trusts the fake vault's certificate.</param>
    /// <param name="disableChallengeResourceVerification">Tests only: the fake vault is not on a Key Vault domain.</param>
    public static SecretClient CreateClient(
        KeyVaultOptions options,
        TokenCredential credential,
        HttpPipelineTransport? transport = null,
        bool disableChallengeResourceVerification = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        var clientOptions = new SecretClientOptions
        {
            DisableChallengeResourceVerification = disableChallengeResourceVerification,
            Retry =
            {
                MaxRetries = options.MaxRetries,
                Mode = RetryMode.Exponential,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = TimeSpan.FromSeconds(30),
                NetworkTimeout = options.NetworkTimeout,
            },
        };
        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        return new SecretClient(
            options.VaultUri
                ?? throw new ArgumentException(
                    $"{KeyVaultOptions.SectionName}__{nameof(KeyVaultOptions.VaultUri)} is required.", nameof(options)),
            credential,
            clientOptions);
    }

    /// <summary>Key Vault's rule for secret names: 1-127 letters, digits and hyphens.</summary>
    public static bool IsValidSecretName(string? name) =>
        name is { Length: > 0 and <= 127 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    public async Task<string> GetSecretAsync(string name, CancellationToken cancellationToken = default)
    {
        CheckName(name);
        var now = _time.GetUtcNow();
        if (_current.TryGetValue(name, out var cached) && now - cached.FetchedAt < _options.CacheDuration)
        {
            return cached.Value;
        }

        var secret = await CallAsync(name, () => _client.GetSecretAsync(name, version: null, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        var value = secret.Value.Value
            ?? throw new PortException($"Key Vault returned secret '{name}' without a value.", isTransient: true);
        if (cached is null || !string.Equals(cached.Version, secret.Value.Properties.Version, StringComparison.Ordinal))
        {
            _logger.LogInformation(
                "Secret {SecretName} loaded from Key Vault (version {SecretVersion}).", name, secret.Value.Properties.Version);
        }

        _current[name] = new CachedValue(value, secret.Value.Properties.Version, now);
        return value;
    }

    public async Task<IReadOnlyList<string>> GetAcceptedSecretValuesAsync(string name, CancellationToken cancellationToken = default)
    {
        CheckName(name);
        var now = _time.GetUtcNow();
        if (_accepted.TryGetValue(name, out var cached) && now - cached.FetchedAt < _options.CacheDuration)
        {
            return cached.Values;
        }

        var versions = await CallAsync(name, async () =>
        {
            var list = new List<SecretProperties>();
            await foreach (var properties in _client.GetPropertiesOfSecretVersionsAsync(name, cancellationToken).ConfigureAwait(false))
            {
                list.Add(properties);
            }

            return list;
        }, cancellationToken).ConfigureAwait(false);

        var accepted = AcceptedVersions(versions, now, _options.RotationWindow);
        if (accepted.Count == 0)
        {
            throw new PortNotFoundException($"Secret '{name}' in Key Vault {_options.VaultUri} has no enabled, current version.");
        }

        var values = new List<string>(accepted.Count);
        foreach (var version in accepted)
        {
            values.Add(await GetVersionAsync(name, version.Version, cancellationToken).ConfigureAwait(false));
        }

        if (accepted.Count > 1)
        {
            _logger.LogInformation(
                "Secret {SecretName}: version {CurrentVersion} is current, "
                + "version {PreviousVersion} still accepted until {AcceptedUntil:u}.",
                name, accepted[0].Version, accepted[1].Version, accepted[0].CreatedOn!.Value + _options.RotationWindow);
        }

        _accepted[name] = new CachedAccepted(values, now);
        return values;
    }

    /// <summary>
    /// The usable versions, newest first: the current one, and the one before it while the current one is younger than
    /// the rotation window. Disabled, not-yet-valid and expired versions are never accepted.
    /// </summary>
    internal static IReadOnlyList<SecretProperties> AcceptedVersions(
        IEnumerable<SecretProperties> versions,
        DateTimeOffset now,
        TimeSpan rotationWindow)
    {
        var usable = versions
            .Where(
                v => v.Enabled != false
                    && v.CreatedOn is not null
                    && (v.NotBefore is null || v.NotBefore <= now)
                    && (v.ExpiresOn is null || v.ExpiresOn > now))
            .OrderByDescending(v => v.CreatedOn)
            .ToList();
        return usable.Count switch
        {
            0 => [],
            1 => [usable[0]],
            _ => usable[0].CreatedOn!.Value + rotationWindow > now ? [usable[0], usable[1]] : [usable[0]],
        };
    }

    private async Task<string> GetVersionAsync(string name, string version, CancellationToken cancellationToken)
    {
        var key = name.ToUpperInvariant() + "/" + version;
        if (_versions.TryGetValue(key, out var value))
        {
            return value;
        }

        var secret = await CallAsync(name, () => _client.GetSecretAsync(name, version, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        value = secret.Value.Value
            ?? throw new PortException($"Key Vault returned version {version} of secret '{name}' without a value.", isTransient: true);
        _versions[key] = value;
        return value;
    }

    private static void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!IsValidSecretName(name))
        {
            throw new PortRefusedException($"'{name}' is not a valid Key Vault secret name: use 1-127 letters, digits and hyphens.");
        }
    }

    private async Task<T> CallAsync<T>(string name, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            throw Translate(name, ex);
        }
        catch (AuthenticationFailedException ex)
        {
            throw new PortException(
                $"The app's identity could not get a token for Key Vault {_options.VaultUri}: {ex.Message}", isTransient: true, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PortException($"Key Vault {_options.VaultUri} did not answer in time for secret '{name}'.", isTransient: true, ex);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            throw new PortException($"Key Vault {_options.VaultUri} sent an unreadable answer for secret '{name}'.", isTransient: true, ex);
        }
    }

    private PortException Translate(string name, RequestFailedException ex) => ex.Status switch
    {
        404 => new PortNotFoundException(
            $"Secret '{name}' does not exist in Key Vault {_options.VaultUri}. Create it (docs/ops.md lists the secrets Gardien reads).",
            ex),
        401 or 403 => new PortRefusedException(
            $"Key Vault {_options.VaultUri} refused to read secret '{name}' ({ex.Status} {ex.ErrorCode}): "
            + "give the app's managed identity the role 'Key Vault Secrets User' on the vault, and check the vault's firewall.",
            ex),
        400 => new PortRefusedException($"Key Vault {_options.VaultUri} rejected the request for secret '{name}' ({ex.ErrorCode}).", ex),
        _ => new PortException(
            $"Key Vault {_options.VaultUri} failed to return secret '{name}' ("
            + $"{(ex.Status == 0 ? "no response" : ex.Status.ToString(System.Globalization.CultureInfo.InvariantCulture))}); "
            + "the call can be retried.",
            isTransient: true,
            ex),
    };

    private sealed record CachedValue(string Value, string? Version, DateTimeOffset FetchedAt);

    private sealed record CachedAccepted(IReadOnlyList<string> Values, DateTimeOffset FetchedAt);
}
