using Azure.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.Arm;

public static class RoleAssignmentsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IContainerRoleAssignments"/> over ARM for the research account of section <c>ResearchData</c>
    /// (validated at start-up; errors name the app setting, e.g. <c>ResearchData__resourceId</c>), authenticated with the
    /// managed identity. The Graph directory adapter delegates its role-assignment members to it.
    /// </summary>
    public static IServiceCollection AddGardienAzureRoleAssignments(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddResearchStorageOptions(services);
        services.TryAddSingleton<IContainerRoleAssignments>(sp => new ContainerRoleAssignments(
            sp.GetRequiredService<IOptions<ResearchStorageOptions>>().Value,
            sp.GetRequiredService<TokenCredential>(),
            sp.GetService<ArmClientOptions>(),
            sp.GetService<ILogger<ContainerRoleAssignments>>()));
        return services;
    }

    internal static void AddResearchStorageOptions(IServiceCollection services)
    {
        services.AddOptions<ResearchStorageOptions>().BindConfiguration(ResearchStorageOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ResearchStorageOptions>, ResearchStorageOptionsValidator>());
        AzureCredentialRegistration.TryAddTokenCredential(services);
    }
}
