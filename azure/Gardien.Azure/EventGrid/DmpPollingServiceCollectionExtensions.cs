using Azure.Core;
using Azure.Data.Tables;
using Azure.Messaging.EventGrid;
using Gardien.Azure.Arm;
using Gardien.Azure.DmpTools;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.EventGrid;

public static class DmpPollingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DmpToolPoller"/> for a timer to call: the tools of
    /// <see cref="DmpToolsServiceCollectionExtensions.AddGardienAzureDmpTools"/>
    /// (added here too), changes published to Event Grid (<see cref="EventGridDmpChangePublisher"/>), checkpoints in the
    /// research account's tables (<see cref="TableDmpPollCheckpointStore"/>), both with the managed identity. Settings are
    /// validated at start-up (see <see cref="DmpPollingOptions"/>). Needs the host's <see cref="IGovernanceRegistry"/>.
    /// </summary>
    public static IServiceCollection AddGardienAzureDmpPolling(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddGardienAzureDmpTools();
        services.AddOptions<DmpPollingOptions>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                options.TopicEndpoint = Uri(configuration["EventGrid:DmpTopicEndpoint"]);
                options.TableServiceUri = Uri(configuration["ResearchData:tableServiceUri"]);
                configuration.GetSection("DmpPolling").Bind(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DmpPollingOptions>, DmpPollingOptionsValidator>());
        AzureCredentialRegistration.TryAddTokenCredential(services);
        services.TryAddSingleton<IDmpChangePublisher>(sp => new EventGridDmpChangePublisher(
            new EventGridPublisherClient(Options(sp).TopicEndpoint, sp.GetRequiredService<TokenCredential>())));
        services.TryAddSingleton<IDmpPollCheckpointStore>(sp => new TableDmpPollCheckpointStore(
            new TableClient(Options(sp).TableServiceUri, Options(sp).CheckpointTable, sp.GetRequiredService<TokenCredential>())));
        services.TryAddSingleton(sp => new DmpToolPoller(
            sp.GetRequiredService<DmpToolClients>().Sources,
            sp.GetRequiredService<IDmpChangePublisher>(),
            sp.GetRequiredService<IDmpPollCheckpointStore>(),
            sp.GetRequiredService<IGovernanceRegistry>(),
            new DmpToolPollerOptions { Overlap = TimeSpan.FromMinutes(Options(sp).OverlapMinutes), BatchSize = Options(sp).BatchSize },
            sp.GetService<ILogger<DmpToolPoller>>()));
        return services;
    }

    private static DmpPollingOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<DmpPollingOptions>>().Value;

    private static Uri? Uri(string? value) => System.Uri.TryCreate(value, UriKind.Absolute, out var uri) ? uri : null;
}
