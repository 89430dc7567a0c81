using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gardien.Azure.Arm;

/// <summary>The one token credential of the Azure adapters: the user-assigned managed identity, never a key.</summary>
internal static class AzureCredentialRegistration
{
    /// <summary>
    /// Registers <see cref="TokenCredential"/> as <see cref="DefaultAzureCredential"/> unless the host registered one:
    /// in Azure it resolves the user-assigned identity named by <c>AZURE_CLIENT_ID</c> (or <paramref name="clientId"/>).
    /// </summary>
    public static void TryAddTokenCredential(IServiceCollection services, string? clientId = null) =>
        services.TryAddSingleton<TokenCredential>(_ => new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(clientId) ? Environment.GetEnvironmentVariable("AZURE_CLIENT_ID") : clientId,
        }));
}
