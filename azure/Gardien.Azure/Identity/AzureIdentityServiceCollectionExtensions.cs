using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.Identity;

public static class AzureIdentityServiceCollectionExtensions
{
    /// <summary>The setting (and environment variable) naming the user-assigned identity's client id.</summary>
    public const string AzureClientIdSetting = "AZURE_CLIENT_ID";

    /// <summary>
    /// Registers the <see cref="TokenCredential"/> every Azure adapter uses (singleton, options from section
    /// <c>AzureIdentity</c>, validated at start). A credential registered before this call is kept, so tests and other
    /// hosts can supply their own.
    /// </summary>
    public static IServiceCollection AddGardienAzureIdentity(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<AzureIdentityOptions>()
            .BindConfiguration(AzureIdentityOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
            {
                // App Service sets AZURE_CLIENT_ID as an app setting, which a host reads as configuration too.
                if (string.IsNullOrWhiteSpace(options.ClientId) && configuration[AzureClientIdSetting] is { Length: > 0 } clientId)
                {
                    options.ClientId = clientId;
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AzureIdentityOptions>, AzureIdentityOptionsValidator>());
        services.TryAddSingleton(sp => CreateCredential(sp.GetRequiredService<IOptions<AzureIdentityOptions>>().Value));
        return services;
    }

    /// <summary>The credential the options describe.</summary>
    public static TokenCredential CreateCredential(AzureIdentityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clientId = options.EffectiveClientId;
        return options.Credential switch
        {
            AzureCredentialKind.ManagedIdentity => new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId!)),
            _ => new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = string.IsNullOrWhiteSpace(clientId) ? null : clientId,
                WorkloadIdentityClientId = string.IsNullOrWhiteSpace(clientId) ? null : clientId,
                ExcludeInteractiveBrowserCredential = true,
            }),
        };
    }
}
