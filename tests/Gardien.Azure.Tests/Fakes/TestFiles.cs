using Gardien.Workflows.Ports;

namespace Gardien.Azure.Tests.Fakes;

internal static class TestFiles
{
    public static string Read(string relative) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, relative));
}

/// <summary>Secrets from a dictionary (the Key Vault adapter has its own tests); a missing name throws as the port says.</summary>
public sealed class DictionarySecretStore(Dictionary<string, string> secrets) : ISecretStore
{
    public List<string> Reads { get; } = [];

    public Task<string> GetSecretAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (Reads)
        {
            Reads.Add(name);
        }

        return secrets.TryGetValue(name, out var value)
            ? Task.FromResult(value)
            : throw new PortNotFoundException($"Secret '{name}' does not exist.");
    }
}
