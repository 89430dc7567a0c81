using Gardien.BlobStorage;
using Gardien.Local.Directory;
using Gardien.Local.DmpTool;
using Gardien.Local.Notifications;
using Gardien.Local.Secrets;
using Gardien.Storage;
using Gardien.Storage.Audit;
using Gardien.Storage.Registry;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gardien.Local.Configuration;

public static class LocalAdaptersServiceCollectionExtensions
{
    /// <summary>
    /// Registers the local adapters as the implementations of every port (singletons): <see cref="IStorageProvisioner"/>,
    /// <see cref="IGovernanceRegistry"/>, <see cref="IDirectory"/>, <see cref="INotifier"/> (+ <see cref="InboxReader"/>),
    /// <see cref="ISecretStore"/> (development only), <see cref="IDmpToolClient"/>, <see cref="IAuditLog"/>, and
    /// <see cref="ApprovalTokenService"/>. Options come from section <c>Local</c> of <paramref name="configuration"/>, validated with data
    /// annotations (at host start: ValidateOnStart). Relative paths
    /// resolve against the current directory. Ports registered before this call are kept (TryAdd), so a host can swap
    /// one adapter (e.g. a real secret store).
    /// </summary>
    public static IServiceCollection AddGardienLocalAdapters(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<LocalAdaptersOptions>()
            .Bind(configuration.GetSection(LocalAdaptersOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => LocalStorageClients.Create(sp.GetRequiredService<IOptions<LocalAdaptersOptions>>().Value));

        services.TryAddSingleton<IStorageProvisioner>(sp => new FailureTranslatingStorageProvisioner(new BlobStorageProvisioner(
            sp.GetRequiredService<LocalStorageClients>().Blobs, sp.GetService<ILogger<BlobStorageProvisioner>>())));
        services.TryAddSingleton<IGovernanceRegistry>(sp => new FailureTranslatingGovernanceRegistry(new TableGovernanceRegistry(
            sp.GetRequiredService<LocalStorageClients>().Tables, Options(sp).TablePrefix)));
        services.TryAddSingleton<IDirectory>(sp => new JsonFileDirectory(Options(sp).DirectoryPath, Options(sp).DirectorySeedPath));
        services.TryAddSingleton<INotifier>(sp => new InboxNotifier(
            Options(sp).InboxPath, sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<InboxNotifier>>()));
        services.TryAddSingleton(sp => new InboxReader(Options(sp).InboxPath));
        services.TryAddSingleton<ISecretStore>(sp => new DevelopmentConfigurationSecretStore(
            configuration, sp.GetService<ILogger<DevelopmentConfigurationSecretStore>>()));
        services.TryAddSingleton<IDmpToolClient>(sp => new FileDmpToolClient(Options(sp).DmpFolder));
        services.TryAddSingleton<IAuditLog>(sp => new AppendBlobAuditLog(
            sp.GetRequiredService<LocalStorageClients>().Blobs.GetBlobContainerClient(Options(sp).AuditContainer),
            new AppendBlobAuditLogOptions { SegmentMaxEntries = Options(sp).AuditSegmentMaxEntries }));
        services.TryAddSingleton(sp => new ApprovalTokenService(
            sp.GetRequiredService<ISecretStore>(),
            sp.GetRequiredService<IGovernanceRegistry>(),
            new ApprovalTokenSettings { ActiveKeyId = Options(sp).ApprovalKeyId, AcceptedKeyIds = [.. Options(sp).ApprovalAcceptedKeyIds] },
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    private static LocalAdaptersOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptions<LocalAdaptersOptions>>().Value;
}
