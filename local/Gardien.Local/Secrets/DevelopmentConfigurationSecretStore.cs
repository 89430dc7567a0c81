using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gardien.Local.Secrets;

/// <summary>
/// DEVELOPMENT ONLY: serves secrets from configuration (<c>Secrets:&lt;name&gt;</c>, e.g. the environment variable
/// <c>Secrets__approval-signing-key-k1</c> or user secrets). Configuration is not a vault: values sit in files and
/// environment variables, unaudited and unrotated. It refuses to run when the environment (DOTNET_ENVIRONMENT,
/// ASPNETCORE_ENVIRONMENT or AZURE_FUNCTIONS_ENVIRONMENT) is Production; use the Key Vault adapter there.
/// </summary>
public sealed class DevelopmentConfigurationSecretStore : ISecretStore
{
    public const string SectionName = "Secrets";

    private static readonly string[] EnvironmentVariables = ["DOTNET_ENVIRONMENT", "ASPNETCORE_ENVIRONMENT", "AZURE_FUNCTIONS_ENVIRONMENT"];
    private readonly IConfiguration _configuration;

    public DevelopmentConfigurationSecretStore(IConfiguration configuration, ILogger<DevelopmentConfigurationSecretStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var production = EnvironmentVariables
            .Select(name => configuration[name] ?? Environment.GetEnvironmentVariable(name))
            .FirstOrDefault(value => string.Equals(value, "Production", StringComparison.OrdinalIgnoreCase));
        if (production is not null)
        {
            throw new InvalidOperationException(
                "DevelopmentConfigurationSecretStore refuses to run in the Production environment: "
                + "secrets in configuration are not protected. " +
                "Configure the Key Vault secret store, or set DOTNET_ENVIRONMENT=Development for a local run.");
        }

        _configuration = configuration;
        ((ILogger?)logger ?? NullLogger.Instance).LogWarning(
            "Secrets are read from configuration section '{Section}' (development only; never use this in production).", SectionName);
    }

    public Task<string> GetSecretAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var value = _configuration[$"{SectionName}:{name}"];
        return string.IsNullOrEmpty(value)
            ? Task.FromException<string>(
                new PortNotFoundException(
                    $"Secret '{name}' is not configured. Set '{SectionName}:{name}' (environment variable {SectionName}__{name}) "
                    + "for local development."))
            : Task.FromResult(value);
    }
}
