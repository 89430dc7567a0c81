using Azure.Core;
using Gardien.Azure.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Gardien.Azure.Arm;

/// <summary>The one token credential of the Azure adapters: the user-assigned managed identity, never a key.</summary>
internal static class AzureCredentialRegistration
{
    /// <summary>
    /// Registers <see cref="TokenCredential"/> through <see cref="AzureIdentityServiceCollectionExtensions.AddGardienAzureIdentity"/>
    /// unless the host registered one, so every adapter authenticates alike whatever order the host registers them in.
    /// </summary>
    public static void TryAddTokenCredential(IServiceCollection services) => services.AddGardienAzureIdentity();
}
