using Gardien.Azure.Configuration;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.KeyVault;

/// <summary>The Key Vault secret store, section <c>KeyVault</c> (<c>KeyVault__VaultUri</c>, ...).</summary>
public sealed class KeyVaultOptions
{
    public const string SectionName = "KeyVault";

    /// <summary>
    /// The vault, e.g. <c>https://kv-gardien-prod.vault.azure.net/</c>. The app's identity needs <em>Key Vault Secrets User</em> on it.
    /// </summary>
    public Uri? VaultUri { get; set; }

    /// <summary>
    /// How long a secret value is served from memory before Key Vault is asked again (a rotated version is seen after at most this long).
    /// </summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// After a secret gets a new version, how long the previous version is still accepted for verification (approval
    /// links signed just before a rotation). At least the approval timeout of the policy, so that no pending link dies.
    /// </summary>
    public TimeSpan RotationWindow { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Retries of one call on throttling (429, honouring Retry-After) and server errors.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Time allowed for one HTTP request to the vault.</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Key id that signs new approval links: the secret is <c>{SigningKeySecretPrefix}{SigningKeyId}</c>.</summary>
    public string SigningKeyId { get; set; } = "k1";

    /// <summary>Other key ids (whole secrets, not versions) still accepted while moving to a new secret name.</summary>
    public IList<string> AcceptedSigningKeyIds { get; } = [];

    public string SigningKeySecretPrefix { get; set; } = "approval-signing-key-";
}

internal sealed class KeyVaultOptionsValidator : IValidateOptions<KeyVaultOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyVaultOptions options)
    {
        var errors = new OptionsErrors(KeyVaultOptions.SectionName);
        errors.RequireHttps(nameof(KeyVaultOptions.VaultUri), options.VaultUri);
        errors.RequirePositive(nameof(KeyVaultOptions.CacheDuration), options.CacheDuration, TimeSpan.FromHours(1));
        errors.RequirePositive(nameof(KeyVaultOptions.RotationWindow), options.RotationWindow);
        errors.RequirePositive(nameof(KeyVaultOptions.NetworkTimeout), options.NetworkTimeout, TimeSpan.FromMinutes(5));
        if (options.MaxRetries is < 0 or > 10)
        {
            errors.Add(nameof(KeyVaultOptions.MaxRetries), $"{options.MaxRetries} must be between 0 and 10.");
        }

        foreach (var (key, value) in new[] { (nameof(KeyVaultOptions.SigningKeyId), options.SigningKeyId) }.Concat(
            options.AcceptedSigningKeyIds.Select(id => (nameof(KeyVaultOptions.AcceptedSigningKeyIds), id))))
        {
            if (!KeyVaultSecretStore.IsValidSecretName(options.SigningKeySecretPrefix + value))
            {
                errors.Add(
                    key,
                    $"'{options.SigningKeySecretPrefix}{value}' (SigningKeySecretPrefix + id) is not a valid Key Vault secret name: "
                    + "use 1-127 letters, digits and hyphens.");
            }
        }

        return errors.Result();
    }
}
