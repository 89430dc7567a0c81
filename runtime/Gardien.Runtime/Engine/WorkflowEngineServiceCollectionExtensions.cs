using Gardien.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Gardien.Runtime.Engine;

/// <summary>
/// DI registration of the embedded engine. The host starts it (<see cref="WorkflowEngine.StartAsync"/>) and disposes it on shutdown.
/// </summary>
public static class WorkflowEngineServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="WorkflowEngine"/> over the store built by <paramref name="createStore"/>, plus
    /// <see cref="WorkflowClient"/> / <see cref="IWorkflowClient"/> (the engine's client). Activities and workflows are
    /// created from the container (constructor injection), in a new scope per activity.
    /// </summary>
    public static IServiceCollection AddWorkflowEngine(
        this IServiceCollection services,
        Action<WorkflowRegistry> register,
        Func<IServiceProvider, IWorkflowStore> createStore,
        Func<IServiceProvider, WorkflowEngineOptions>? createOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(register);
        ArgumentNullException.ThrowIfNull(createStore);
        var registry = new WorkflowRegistry();
        register(registry);
        services.TryAddSingleton(registry);
        services.TryAddSingleton(createStore);
        services.TryAddSingleton(provider =>
        {
            var options = (createOptions?.Invoke(provider) ?? new WorkflowEngineOptions()) with { Services = provider };
            return new WorkflowEngine(
                provider.GetRequiredService<IWorkflowStore>(), registry, options, provider.GetService<ILoggerFactory>());
        });
        services.TryAddSingleton<WorkflowClient>(provider => provider.GetRequiredService<WorkflowEngine>().Client);
        services.TryAddSingleton<IWorkflowClient>(provider => provider.GetRequiredService<WorkflowClient>());
        return services;
    }
}
