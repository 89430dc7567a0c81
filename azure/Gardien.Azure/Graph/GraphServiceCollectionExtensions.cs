using Azure.Core;
using Gardien.Azure.Arm;
using Gardien.Azure.Identity;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph;

namespace Gardien.Azure.Graph;

public static class GraphServiceCollectionExtensions
{
    /// <summary>
    /// Registers the shared <see cref="GraphServiceClient"/> and <see cref="GraphDirectory"/> as the <see cref="IDirectory"/>
    /// (options from section <c>Graph</c>, validated at start; the credential from
    /// <see cref="AzureIdentityServiceCollectionExtensions.AddGardienAzureIdentity"/>). Role assignments are delegated to the
    /// <see cref="IContainerRoleAssignments"/> the host registers (the ARM adapter). Services registered before this call are kept.
    /// </summary>
    public static IServiceCollection AddGardienAzureGraph(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddGardienAzureIdentity();
        services.AddOptions<GraphOptions>().BindConfiguration(GraphOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GraphOptions>, GraphOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => GardienGraphClient.Create(Options(sp), sp.GetRequiredService<TokenCredential>()));
        services.TryAddSingleton<IDirectory>(sp => new GraphDirectory(
            sp.GetRequiredService<GraphServiceClient>(),
            Options(sp),
            sp.GetRequiredService<IContainerRoleAssignments>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<GraphDirectory>>()));
        return services;
    }

    private static GraphOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<GraphOptions>>().Value;
}
