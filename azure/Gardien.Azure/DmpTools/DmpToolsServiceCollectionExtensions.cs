using Gardien.Azure.Arm;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gardien.Azure.DmpTools;

public static class DmpToolsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the DMP tools of section <c>DmpTools</c> (validated at start-up, errors naming
    /// <c>DmpTools__Tools__{name}__{setting}</c>): <see cref="DmpToolClients"/> as the workflows' <see cref="IDmpToolClient"/>,
    /// one <see cref="OpidorDmpToolClient"/> or <see cref="CommonMadmpApiClient"/> per tool. Credentials are read through
    /// the host's <see cref="ISecretStore"/> (Key Vault in Azure).
    /// </summary>
    public static IServiceCollection AddGardienAzureDmpTools(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<DmpToolsOptions>().BindConfiguration(DmpToolsOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DmpToolsOptions>, DmpToolsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<DmpToolsOptions>>().Value;
            var secrets = sp.GetRequiredService<ISecretStore>();
            var time = sp.GetRequiredService<TimeProvider>();
            var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            {
                Timeout = Timeout.InfiniteTimeSpan,
            };
            return new DmpToolClients(
                [.. options.Tools.OrderBy(t => t.Key, StringComparer.Ordinal)
                    .Select(t => new DmpToolSource(t.Key, t.Value.Kind == DmpToolKind.Opidor
                ? new OpidorDmpToolClient(t.Key, t.Value, http, secrets, time)
                : new CommonMadmpApiClient(t.Key, t.Value, http, secrets, time)))]);
        });
        services.TryAddSingleton<IDmpToolClient>(sp => sp.GetRequiredService<DmpToolClients>());
        return services;
    }
}
