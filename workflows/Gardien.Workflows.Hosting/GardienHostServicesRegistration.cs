using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Gardien.Workflows.Hosting;

/// <summary>Registers the host-side services every host (Azure Functions, the local host) calls.</summary>
public static class GardienHostServicesRegistration
{
    /// <summary>
    /// <see cref="GardienWorkflowOptions"/> (kept when already registered) and the host services
    /// <see cref="DmpSubmissionService"/>, <see cref="DmpEventRouter"/>, <see cref="ApprovalDecisionService"/> and
    /// <see cref="RetentionService"/>, <see cref="AuditTrailService"/> (needs the <see cref="Ports.IAuditLog"/>). They need an
    /// <see cref="IWorkflowClient"/>, which the host registers.
    /// </summary>
    public static IServiceCollection AddGardienHostServices(this IServiceCollection services, GardienWorkflowOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddGardienWorkflowOptions(options);
        services.TryAddTransient<DmpSubmissionService>();
        services.TryAddTransient<DmpEventRouter>();
        services.TryAddTransient<RetentionService>();
        services.TryAddTransient<AuditTrailService>();
        services.TryAddTransient(sp => new ApprovalDecisionService(
            sp.GetRequiredService<IWorkflowClient>(),
            sp.GetRequiredService<ApprovalTokenService>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILogger<ApprovalDecisionService>>()));
        return services;
    }
}
