namespace Gardien.Workflows.Ports;

/// <summary>Read-only access to secrets (approval-link signing keys, API tokens).</summary>
public interface ISecretStore
{
    /// <summary>The secret's current value. Throws <see cref="PortNotFoundException"/> when it does not exist.</summary>
    Task<string> GetSecretAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// The values to accept when verifying with this secret: the current value first, then older versions a store with
    /// versioned secrets (Key Vault) still accepts inside a rotation window, so that rotating a signing key does not
    /// invalidate links signed just before. Throws <see cref="PortNotFoundException"/> when the secret does not exist.
    /// The default returns the current value only.
    /// </summary>
    async Task<IReadOnlyList<string>> GetAcceptedSecretValuesAsync(string name, CancellationToken cancellationToken = default) =>
        [await GetSecretAsync(name, cancellationToken).ConfigureAwait(false)];
}
