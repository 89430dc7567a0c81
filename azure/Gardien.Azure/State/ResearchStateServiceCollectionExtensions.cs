using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Gardien.Azure.Identity;
using Gardien.Storage;
using Gardien.Storage.Audit;
using Gardien.Storage.Registry;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.State;

public static class ResearchStateServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="IGovernanceRegistry"/> on the research account's tables (<see cref="TableGovernanceRegistry"/>,
    /// storage failures translated into port exceptions), authenticated with the managed identity (Storage Table Data
    /// Contributor). Options from section <c>ResearchData</c>, validated at start. A registry registered before is kept.
    /// </summary>
    public static IServiceCollection AddGardienAzureRegistry(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddOptions(services);
        services.TryAddSingleton<IGovernanceRegistry>(sp => new FailureTranslatingGovernanceRegistry(new TableGovernanceRegistry(
            new TableServiceClient(Options(sp).TableServiceUri, sp.GetRequiredService<TokenCredential>()), Options(sp).TablePrefix)));
        return services;
    }

    /// <summary>
    /// Registers the <see cref="IAuditLog"/> on append blobs in the research account's audit container
    /// (<see cref="AppendBlobAuditLog"/>; the container's immutability policy allows protected appends), authenticated
    /// with the managed identity. Options from section <c>ResearchData</c>, validated at start. A log registered before is kept.
    /// </summary>
    public static IServiceCollection AddGardienAzureAuditLog(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddOptions(services);
        services.TryAddSingleton<IAuditLog>(sp => new AppendBlobAuditLog(
            new BlobServiceClient(Options(sp).BlobServiceUri, sp.GetRequiredService<TokenCredential>())
                .GetBlobContainerClient(Options(sp).AuditContainerName),
            new AppendBlobAuditLogOptions { SegmentMaxEntries = Options(sp).AuditSegmentMaxEntries }));
        return services;
    }

    private static void AddOptions(IServiceCollection services)
    {
        services.AddGardienAzureIdentity();
        services.AddOptions<ResearchStateOptions>().BindConfiguration(ResearchStateOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ResearchStateOptions>, ResearchStateOptionsValidator>());
    }

    private static ResearchStateOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptions<ResearchStateOptions>>().Value;
}
