using Azure.Core;
using Azure.Storage.Blobs;
using Gardien.Azure.Arm;
using Gardien.BlobStorage;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.Storage;

public static class AzureStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Azure <see cref="IStorageProvisioner"/> (<see cref="AzureStorageProvisioner"/>: Blob data plane with
    /// the managed identity + ARM controls) and <see cref="LifecyclePolicySync"/> for the research account of section
    /// <c>ResearchData</c>, validated at start-up. Needs an <see cref="IGovernanceRegistry"/> registered by the host
    /// (the lifecycle rules follow it).
    /// </summary>
    public static IServiceCollection AddGardienAzureStorage(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        RoleAssignmentsServiceCollectionExtensions.AddResearchStorageOptions(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(
            sp => new BlobServiceClient(Options(sp).EffectiveBlobServiceUri, sp.GetRequiredService<TokenCredential>()));
        services.TryAddSingleton(
            sp => new StorageAccountControls(Options(sp), sp.GetRequiredService<TokenCredential>(), sp.GetService<ArmClientOptions>()));
        services.TryAddSingleton(sp => new LifecyclePolicySync(
            sp.GetRequiredService<StorageAccountControls>(),
            sp.GetRequiredService<IGovernanceRegistry>(),
            DataPlane(sp),
            Options(sp),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IStorageProvisioner>(sp => new AzureStorageProvisioner(
            DataPlane(sp),
            sp.GetRequiredService<StorageAccountControls>(),
            sp.GetRequiredService<LifecyclePolicySync>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<AzureStorageProvisioner>>()));
        return services;
    }

    private static ResearchStorageOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptions<ResearchStorageOptions>>().Value;

    private static BlobStorageProvisioner DataPlane(IServiceProvider services) => new(
        services.GetRequiredService<BlobServiceClient>(),
        services.GetService<ILogger<BlobStorageProvisioner>>(),
        new BlobStorageProvisionerOptions { CreateWithEncryptionScope = true });
}
