namespace Gardien.Workflows.Ports;

/// <summary>Read-only access to secrets (approval-link signing keys, API tokens).</summary>
public interface ISecretStore
{
    /// <summary>The secret's current value. Throws <see cref="PortNotFoundException"/> when it does not exist.</summary>
    Task<string> GetSecretAsync(string name, CancellationToken cancellationToken = default);
}
