namespace Gardien.Workflows.Ports;

/// <summary>Read-only access to secrets (approval-link signing keys, API tokens).</summary>
public interface ISecretStore
{
    /// <summary>The secret's current value. Throws <see cref="PortNotFoundException"/> when it does not exist.</summary>
    Task<string> GetSecretAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>
/// A secret store whose secrets have versions (Key Vault). Verifiers ask it which values to accept, so that rotating
/// a signing key in place does not invalidate links signed just before.
/// </summary>
public interface IVersionedSecretStore : ISecretStore
{
    /// <summary>
    /// The current value first, then older versions still accepted inside the store's rotation window. Throws
    /// <see cref="PortNotFoundException"/> when the secret does not exist.
    /// </summary>
    Task<IReadOnlyList<string>> GetAcceptedSecretValuesAsync(string name, CancellationToken cancellationToken = default);
}
