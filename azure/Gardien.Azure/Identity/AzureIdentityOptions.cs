using Gardien.Azure.Configuration;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.Identity;

/// <summary>
/// How the Azure adapters authenticate, section <c>AzureIdentity</c>. No key or connection string is ever read: every
/// client gets a token for the app's user-assigned managed identity.
/// </summary>
public sealed class AzureIdentityOptions
{
    public const string SectionName = "AzureIdentity";

    /// <summary>
    /// Client id of the user-assigned managed identity. Empty: the <c>AZURE_CLIENT_ID</c> environment variable, which
    /// the deployment sets.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// <see cref="AzureCredentialKind.ManagedIdentity"/> (in Azure: the identity only, nothing else is tried) or
    /// <see cref="AzureCredentialKind.Default"/> (<c>DefaultAzureCredential</c>: environment, workload identity,
    /// managed identity, then a developer's Azure CLI / Visual Studio sign-in).
    /// </summary>
    public AzureCredentialKind Credential { get; set; } = AzureCredentialKind.Default;

    /// <summary>The client id in effect: <see cref="ClientId"/>, else <c>AZURE_CLIENT_ID</c>.</summary>
    public string? EffectiveClientId =>
        string.IsNullOrWhiteSpace(ClientId) ? Environment.GetEnvironmentVariable("AZURE_CLIENT_ID") : ClientId;
}

public enum AzureCredentialKind
{
    Default,
    ManagedIdentity,
}

internal sealed class AzureIdentityOptionsValidator : IValidateOptions<AzureIdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, AzureIdentityOptions options)
    {
        var errors = new OptionsErrors(AzureIdentityOptions.SectionName);
        var clientId = options.EffectiveClientId;
        if (!string.IsNullOrWhiteSpace(clientId) && !Guid.TryParse(clientId, out _))
        {
            errors.Add(
                nameof(AzureIdentityOptions.ClientId),
                $"'{clientId}' is not a client id: give the GUID of the user-assigned managed identity (or set AZURE_CLIENT_ID).");
        }

        if (options.Credential == AzureCredentialKind.ManagedIdentity && string.IsNullOrWhiteSpace(clientId))
        {
            errors.Add(
                nameof(AzureIdentityOptions.ClientId),
                "is required with Credential=ManagedIdentity: set it, or AZURE_CLIENT_ID, "
                + "to the client id of the user-assigned managed identity.");
        }

        return errors.Result();
    }
}
