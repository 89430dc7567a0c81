using Gardien.Workflows.Hosting;
using Gardien.Workflows.Hosting.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gardien.Workflows.Http;

/// <summary>Registers the HTTP layer's handlers (after <see cref="GardienHostServicesRegistration.AddGardienHostServices"/>).</summary>
public static class GardienHttpRegistration
{
    /// <summary>
    /// <see cref="GardienHttpOptions"/>, <see cref="GardienApi"/>, <see cref="DmpDetails"/>, <see cref="ApprovalHttpEndpoint"/>
    /// and what they need. They resolve an <see cref="Runtime.IWorkflowClient"/>: a host whose client is per request (the
    /// Functions app) creates them over that client instead.
    /// </summary>
    public static IServiceCollection AddGardienHttp(this IServiceCollection services, Action<GardienHttpOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new GardienHttpOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(options);
        services.TryAddTransient<GridEventDispatcher>();
        services.TryAddTransient<ApprovalRequestReader>();
        services.TryAddTransient<DmpDetails>();
        services.TryAddTransient<GardienApi>();
        services.TryAddTransient<ApprovalHttpEndpoint>();
        return services;
    }
}
