using Gardien.Azure.Graph;
using Gardien.Azure.KeyVault;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph;

namespace Gardien.Azure.Teams;

public static class TeamsNotificationServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TeamsNotifier"/> as the <see cref="INotifier"/> (options from section <c>Notifications</c>,
    /// validated at start). Adds the Graph and Key Vault registrations it builds on; the delivery ledger is the host's
    /// <see cref="IGovernanceRegistry"/>. A notifier registered before this call is kept.
    /// </summary>
    public static IServiceCollection AddGardienAzureTeamsNotifications(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddGardienAzureGraph();
        services.AddGardienAzureKeyVault();
        services.AddOptions<TeamsNotificationOptions>().BindConfiguration(TeamsNotificationOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<TeamsNotificationOptions>, TeamsNotificationOptionsValidator>());
        services.TryAddSingleton<INotifier>(sp => new TeamsNotifier(
            sp.GetRequiredService<GraphServiceClient>(),
            sp.GetRequiredService<IDirectory>(),
            sp.GetRequiredService<ISecretStore>(),
            sp.GetRequiredService<IGovernanceRegistry>(),
            TeamsNotifier.CreateWebhookClient(),
            sp.GetRequiredService<IOptions<TeamsNotificationOptions>>().Value,
            sp.GetRequiredService<IOptions<GraphOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<TeamsNotifier>>()));
        return services;
    }
}
