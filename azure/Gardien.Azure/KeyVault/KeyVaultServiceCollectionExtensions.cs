using Azure.Core;
using Azure.Security.KeyVault.Secrets;
using Gardien.Azure.Identity;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.KeyVault;

public static class KeyVaultServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="KeyVaultSecretStore"/> as the <see cref="ISecretStore"/> and the <see cref="ApprovalTokenService"/>
    /// signing with its keys (options from section <c>KeyVault</c>, validated at start; the credential from
    /// <see cref="AzureIdentityServiceCollectionExtensions.AddGardienAzureIdentity"/>). The token service needs an
    /// <see cref="IGovernanceRegistry"/> from the host. Services registered before this call are kept.
    /// </summary>
    public static IServiceCollection AddGardienAzureKeyVault(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddGardienAzureIdentity();
        services.AddOptions<KeyVaultOptions>().BindConfiguration(KeyVaultOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeyVaultOptions>, KeyVaultOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => KeyVaultSecretStore.CreateClient(Options(sp), sp.GetRequiredService<TokenCredential>()));
        services.TryAddSingleton<ISecretStore>(sp => new KeyVaultSecretStore(
            sp.GetRequiredService<SecretClient>(),
            Options(sp),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<KeyVaultSecretStore>>()));
        services.TryAddSingleton(sp => new ApprovalTokenService(
            sp.GetRequiredService<ISecretStore>(),
            sp.GetRequiredService<IGovernanceRegistry>(),
            new ApprovalTokenSettings
            {
                ActiveKeyId = Options(sp).SigningKeyId,
                AcceptedKeyIds = [.. Options(sp).AcceptedSigningKeyIds],
                SecretNamePrefix = Options(sp).SigningKeySecretPrefix,
            },
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    private static KeyVaultOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<KeyVaultOptions>>().Value;
}
