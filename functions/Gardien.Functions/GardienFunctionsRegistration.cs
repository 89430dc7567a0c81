using System.Text.Json;
using Azure.Core.Serialization;
using Gardien.Azure.Arm;
using Gardien.Azure.DmpTools;
using Gardien.Azure.EventGrid;
using Gardien.Azure.Graph;
using Gardien.Azure.Identity;
using Gardien.Azure.KeyVault;
using Gardien.Azure.State;
using Gardien.Azure.Storage;
using Gardien.Azure.Teams;
using Gardien.Functions.Durable;
using Gardien.Runtime;
using Gardien.Workflows;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Http;
using Gardien.Workflows.Ports;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gardien.Functions;

/// <summary>What the Functions app registers: the Azure adapters behind every port, then the app's own services.</summary>
public static class GardienFunctionsRegistration
{
    /// <summary>The ports every Gardien activity may need; the app refuses to start without any of them.</summary>
    public static IReadOnlyList<Type> Ports { get; } =
    [
        typeof(IGovernanceRegistry), typeof(IStorageProvisioner), typeof(IDirectory), typeof(INotifier),
        typeof(ISecretStore), typeof(IDmpToolClient), typeof(IAuditLog),
    ];

    /// <summary>
    /// The Azure adapter of every port, each with its options bound and validated at start-up (errors name the
    /// <c>Section__Key</c> app setting) and one managed-identity credential for all of them: the registry on the research
    /// account's tables and the audit trail in its write-once container, Key Vault secrets (and the approval-link signing
    /// keys), Entra ID groups and ARM role assignments for access, Teams and mail notifications, the research account's
    /// data plane and ARM controls, the DMP tools and their poller. Call before <see cref="AddGardienFunctions"/>.
    /// </summary>
    public static IServiceCollection AddGardienAzureAdapters(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        // The identity first: every adapter that registers a credential only if none exists then shares this one.
        services.AddGardienAzureIdentity();
        services.AddGardienAzureRegistry();
        services.AddGardienAzureAuditLog();
        services.AddGardienAzureKeyVault();
        services.AddGardienAzureRoleAssignments();
        services.AddGardienAzureGraph();
        services.AddGardienAzureTeamsNotifications();
        services.AddGardienAzureStorage();
        services.AddGardienAzureDmpTools();
        services.AddGardienAzureDmpPolling();
        return services;
    }

    /// <summary>
    /// Options (validated at start), the workflow registry and its Durable host, the serializer shared by Durable
    /// Functions and the workflows, the workflow options from the policy file, approval tokens and the host services.
    /// </summary>
    public static IServiceCollection AddGardienFunctions(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<GardienFunctionsOptions>().BindConfiguration(GardienFunctionsOptions.SectionName).ValidateDataAnnotations()
            .ValidateOnStart();

        // One JSON shape everywhere: Durable Functions serializes inputs, outputs and events with the worker's serializer.
        var json = new JsonSerializerOptions(JsonSerializerDefaults.General);
        services.Configure<WorkerOptions>(o => o.Serializer = new JsonObjectSerializer(json));
        services.TryAddSingleton<IWorkflowSerializer>(new JsonWorkflowSerializer(json));
        services.TryAddSingleton(new WorkflowRegistry().AddGardienWorkflows());
        services.TryAddSingleton(
            sp => new DurableWorkflowHost(sp.GetRequiredService<WorkflowRegistry>(), sp, sp.GetRequiredService<IWorkflowSerializer>()));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new ApprovalTokenSettings());
        services.TryAddSingleton(sp => new ApprovalTokenService(
            sp.GetRequiredService<ISecretStore>(),
            sp.GetRequiredService<IGovernanceRegistry>(),
            sp.GetRequiredService<ApprovalTokenSettings>(),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(
            sp => CreateWorkflowOptions(
                sp.GetRequiredService<IOptions<GardienFunctionsOptions>>().Value, sp.GetRequiredService<IConfiguration>()));
        services.AddGardienHostServices();
        services.AddGardienHttp(http => http.RequireSignIn = true);
        return services;
    }

    /// <summary>Throws, naming every missing port, when the adapters did not register all of <see cref="Ports"/>.</summary>
    public static void EnsurePortsRegistered(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var check = services.GetRequiredService<IServiceProviderIsService>();
        var missing = Ports.Where(p => !check.IsService(p)).Select(p => p.Name).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"No adapter is registered for {string.Join(", ", missing)}: register the Azure adapters before AddGardienFunctions "
                + "(docs/ops.md).");
        }
    }

    /// <summary>The workflow options: the policy file's policy, approval links to this app's <c>/api/approvals</c> route.</summary>
    public static GardienWorkflowOptions CreateWorkflowOptions(GardienFunctionsOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        var path = Path.IsPathRooted(options.PolicyPath!)
            ? options.PolicyPath!
            : Path.Combine(AppContext.BaseDirectory, options.PolicyPath!);
        var loaded = PolicyFiles.Load(path);
        if (loaded.Policy is null)
        {
            throw new OptionsValidationException(GardienFunctionsOptions.SectionName, typeof(GardienFunctionsOptions),
                [.. loaded.Errors.Select(e => $"Gardien__PolicyPath ({path}) {e.Path}: {e.Message}")]);
        }

        // App Service sets WEBSITE_HOSTNAME; the Core Tools listen on 7071.
        var hostName = configuration["WEBSITE_HOSTNAME"];
        var baseUrl = string.IsNullOrEmpty(hostName) ? new Uri("http://127.0.0.1:7071/api/") : new Uri($"https://{hostName}/api/");
        return new GardienWorkflowOptions { Policy = loaded.Policy, ApprovalBaseUrl = baseUrl };
    }
}
