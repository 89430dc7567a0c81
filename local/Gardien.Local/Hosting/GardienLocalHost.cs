using Azure;
using Azure.Storage.Blobs;
using Gardien.Local.Configuration;
using Gardien.Local.Notifications;
using Gardien.Runtime;
using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Workflows;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Gardien.Local.Hosting;

/// <summary>
/// Gardien on the embedded default: the embedded durable engine on its Azure Storage store (Azurite by default), the
/// local adapters (Azurite blobs and tables, inbox, directory file, development secrets, DMP files) and the Gardien
/// workflows under the configured policy. Sections <c>Engine</c> (<see cref="LocalEngineOptions"/>), <c>Local</c>
/// (<see cref="LocalAdaptersOptions"/>), <c>Workflows</c> (<see cref="LocalWorkflowsOptions"/>), <c>Secrets</c>.
/// <para>
/// Made for short-lived processes: <see cref="StartAsync"/>, do something (submit, approve...), <see cref="RunUntilIdleAsync"/>,
/// dispose. Everything the workflows know is durable in the store, so the next process carries on where this one stopped;
/// timers not yet due (reminders, escalations) simply wait for a later run.
/// </para>
/// </summary>
public sealed class GardienLocalHost : IAsyncDisposable
{
    // Each idle check peeks the queues: a slower cadence than the engine's default keeps a CLI's request volume low.
    private static readonly TimeSpan IdlePollInterval = TimeSpan.FromMilliseconds(150);

    private readonly IHost _host;
    private WorkflowEngine? _engine;
    private bool _disposed;

    private GardienLocalHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public WorkflowClient Client => Services.GetRequiredService<WorkflowClient>();

    public DmpSubmissionService Submissions => Services.GetRequiredService<DmpSubmissionService>();

    public ApprovalDecisionService Decisions => Services.GetRequiredService<ApprovalDecisionService>();

    public AuditTrailService AuditTrail => Services.GetRequiredService<AuditTrailService>();

    public InboxReader Inbox => Services.GetRequiredService<InboxReader>();

    public IGovernanceRegistry Registry => Services.GetRequiredService<IGovernanceRegistry>();

    public IStorageProvisioner Storage => Services.GetRequiredService<IStorageProvisioner>();

    public IAuditLog AuditLog => Services.GetRequiredService<IAuditLog>();

    public GardienWorkflowOptions WorkflowOptions => Services.GetRequiredService<GardienWorkflowOptions>();

    public LocalEngineOptions EngineOptions => Services.GetRequiredService<IOptions<LocalEngineOptions>>().Value;

    public LocalAdaptersOptions LocalOptions => Services.GetRequiredService<IOptions<LocalAdaptersOptions>>().Value;

    public LocalWorkflowsOptions WorkflowsOptions => Services.GetRequiredService<IOptions<LocalWorkflowsOptions>>().Value;

    /// <summary>Where the governed containers live (the local adapters' blob endpoint).</summary>
    public Uri BlobEndpoint => Services.GetRequiredService<LocalStorageClients>().Blobs.Uri;

    /// <summary>True when the engine knows the workflow.</summary>
    public bool IsWorkflowRegistered(string name) => Services.GetRequiredService<WorkflowRegistry>().IsWorkflowRegistered(name);

    /// <summary>
    /// Composes the host (nothing runs and nothing is validated yet: <see cref="StartAsync"/> does both).
    /// </summary>
    /// <param name="configuration">See <see cref="GardienLocalConfiguration.Build"/>.</param>
    /// <param name="consoleLogging">Log warnings and errors (level from <c>Logging:LogLevel:Default</c>, default Error) to standard
    /// error.</param>
    /// <param name="configureServices">Last word on the services (tests swap a port or the time provider here).</param>
    public static GardienLocalHost Create(
        IConfiguration configuration,
        bool consoleLogging = true,
        Action<IServiceCollection>? configureServices = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = Host.CreateEmptyApplicationBuilder(
            new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = System.IO.Directory.GetCurrentDirectory() });
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        if (consoleLogging)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Error);
            builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        var services = builder.Services;
        services.AddOptions<LocalEngineOptions>().BindConfiguration(LocalEngineOptions.SectionName).ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<LocalWorkflowsOptions>().BindConfiguration(LocalWorkflowsOptions.SectionName).ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddGardienLocalAdapters(builder.Configuration);
        services.AddSingleton(sp => CreateWorkflowOptions(sp.GetRequiredService<IOptions<LocalWorkflowsOptions>>().Value));
        services.AddGardienHostServices();
        services.AddWorkflowEngine(
            registry => registry.AddGardienWorkflows(),
            sp => new AzureStorageWorkflowStore(
                sp.GetRequiredService<IOptions<LocalEngineOptions>>()
                    .Value.ToStoreOptions(sp.GetRequiredService<IOptions<LocalAdaptersOptions>>().Value.EffectiveConnectionString),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<AzureStorageWorkflowStore>>()),
            sp =>
            {
                var engine = sp.GetRequiredService<IOptions<LocalEngineOptions>>().Value;
                return new WorkflowEngineOptions
                {
                    TimeProvider = sp.GetRequiredService<TimeProvider>(),
                    LockDuration = engine.LockDuration,
                    MaxConcurrentActivities = engine.MaxConcurrentActivities,
                    MaxConcurrentWorkflowSteps = 2,
                    ReceiveTimeout = TimeSpan.FromSeconds(5),
                    IdlePollInterval = IdlePollInterval,
                };
            });
        configureServices?.Invoke(services);
        return new GardienLocalHost(builder.Build());
    }

    /// <summary>
    /// Validates the configuration, loads the policy, checks that storage answers and the approval signing key exists,
    /// starts the engine, and makes sure the daily retention schedule runs (<see cref="LocalWorkflowsOptions.StartRetentionSchedule"/>).
    /// </summary>
    /// <exception cref="GardienLocalHostException">Something is misconfigured or unreachable; the message says what and how to fix
    /// it.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            // What the host would run at start (ValidateOnStart), run first: the host would also log the failure with a stack trace.
            Services.GetService<IStartupValidator>()?.Validate();
            await _host.StartAsync(cancellationToken).ConfigureAwait(false);
            _ = WorkflowOptions;
            _ = Services.GetRequiredService<IWorkflowStore>();
        }
        catch (Exception ex) when (ConfigurationProblem(ex) is { } problem)
        {
            throw new GardienLocalHostException(problem, ex);
        }

        var engineOptions = EngineOptions;
        var store = (AzureStorageWorkflowStore)Services.GetRequiredService<IWorkflowStore>();
        await ProbeAsync(store.Clients.BlobService, engineOptions.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        var localBlobs = Services.GetRequiredService<LocalStorageClients>().Blobs;
        if (localBlobs.Uri != store.Clients.BlobService.Uri)
        {
            await ProbeAsync(localBlobs, engineOptions.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }

        await CheckSigningKeyAsync(cancellationToken).ConfigureAwait(false);
        _engine = Services.GetRequiredService<WorkflowEngine>();
        await _engine.StartAsync(cancellationToken).ConfigureAwait(false);
        if (WorkflowsOptions.StartRetentionSchedule)
        {
            // Nothing else starts the daily sweep and the access reviews locally; a running schedule is left alone.
            var retention = Services.GetRequiredService<RetentionService>();
            await retention.EnsureScheduleAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs the engine until no work is ready or in flight (see <see cref="WorkflowEngine.WaitForIdleAsync"/>), at most
    /// <see cref="LocalEngineOptions.IdleTimeout"/>. False when the time ran out first (the rest runs at the next command).
    /// </summary>
    public async Task<bool> RunUntilIdleAsync(CancellationToken cancellationToken = default)
    {
        var engine = _engine ?? throw new InvalidOperationException("Start the host first (StartAsync).");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(EngineOptions.IdleTimeout);
        try
        {
            await engine.WaitForIdleAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs the engine until the instance completes, at most <see cref="LocalEngineOptions.IdleTimeout"/>; null when it did not.
    /// </summary>
    public async Task<WorkflowMetadata?> RunUntilCompletedAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        if (_engine is null)
        {
            throw new InvalidOperationException("Start the host first (StartAsync).");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(EngineOptions.IdleTimeout);
        try
        {
            return await Client.WaitForCompletionAsync(instanceId, cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_engine is not null)
        {
            await _engine.StopAsync().ConfigureAwait(false);
        }

        try
        {
            await _host.StopAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping is best effort; disposal below releases what is left.
        }

        if (_host is IAsyncDisposable asyncHost)
        {
            await asyncHost.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _host.Dispose();
        }
    }

    private static GardienWorkflowOptions CreateWorkflowOptions(LocalWorkflowsOptions options)
    {
        var policy = GovernancePolicy.Default;
        if (!string.IsNullOrWhiteSpace(options.PolicyPath))
        {
            var loaded = PolicyFiles.Load(options.PolicyPath);
            policy = loaded.Policy ?? throw new GardienLocalHostException(
                $"The policy '{Path.GetFullPath(options.PolicyPath)}' (Workflows:PolicyPath) is not valid:\n"
                + string.Join("\n", loaded.Errors.Select(e => $"  - {(e.Path.Length == 0 ? "(file)" : e.Path)}: {e.Message}"))
                + "\nFix the policy (see docs/policy.md, policy.sample.json), or leave Workflows:PolicyPath empty to use the built-in "
                + "default.");
        }

        var defaults = new GardienWorkflowOptions();
        return new GardienWorkflowOptions
        {
            Policy = policy,
            ApprovalBaseUrl = options.ApprovalBaseUrl ?? defaults.ApprovalBaseUrl,
            StorageType = options.StorageType ?? defaults.StorageType,
            BackupFrequency = options.BackupFrequency ?? defaults.BackupFrequency,
        };
    }

    private static string? ConfigurationProblem(Exception ex) => ex switch
    {
        GardienLocalHostException host => host.Message,
        OptionsValidationException options => "Invalid configuration:\n"
            + string.Join("\n", options.Failures.Select(f => "  - " + f))
            + "\nFix gardien.local.json or the matching Section__Key environment variable.",
        AggregateException aggregate when aggregate.InnerExceptions.All(e => ConfigurationProblem(e) is not null) =>
            string.Join("\n", aggregate.InnerExceptions.Select(ConfigurationProblem)),

        // The binder's "Failed to convert configuration value at 'Engine:IdleTimeout' to type 'System.TimeSpan'".
        InvalidOperationException { Message: var message } when message.Contains("configuration", StringComparison.OrdinalIgnoreCase) =>
            "Invalid configuration: " + message + " Fix gardien.local.json or the matching Section__Key environment variable.",
        ArgumentException { Message: var message } => "Invalid configuration: " + message,
        _ => null,
    };

    private static async Task ProbeAsync(BlobServiceClient configured, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The configured client retries for seconds; the deadline bounds the probe so an unreachable endpoint is reported fast.
        var account = configured.Uri;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await configured.GetBlobContainersAsync(cancellationToken: deadline.Token)
                .AsPages(pageSizeHint: 1)
                .GetAsyncEnumerator(deadline.Token)
                .MoveNextAsync()
                .ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 401 or 403)
        {
            throw new GardienLocalHostException(
                $"Azure Storage at {account} refused the credentials ({ex.Status} {ex.ErrorCode}). "
                + "Check the connection string or the identity's data-plane roles.",
                ex);
        }
        catch (Exception ex) when (ex is RequestFailedException { Status: 0 }
            or AggregateException
            or OperationCanceledException
            or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            throw new GardienLocalHostException(
                $"Azure Storage is not reachable at {account} ({FirstLine(ex)}). Start Azurite first: ./run-local.sh starts one for you, "
                + "or run " +
                "'npx azurite --silent --location .gardien/azurite --skipApiVersionCheck --loose' in another terminal; " +
                "or point Local:StorageConnectionString (Local__StorageConnectionString) at a running account.", ex);
        }
    }

    private async Task CheckSigningKeyAsync(CancellationToken cancellationToken)
    {
        var name = "approval-signing-key-" + LocalOptions.ApprovalKeyId;
        try
        {
            var secret = await Services.GetRequiredService<ISecretStore>().GetSecretAsync(name, cancellationToken).ConfigureAwait(false);
            if (secret.Length < 32)
            {
                throw new GardienLocalHostException(
                    $"Secret '{name}' is too short: approval links need a key of at least 32 characters (or base64 of 32 bytes).");
            }
        }
        catch (PortNotFoundException ex)
        {
            throw new GardienLocalHostException(
                $"The approval signing key is not configured: set 'Secrets:{name}' (at least 32 characters) in gardien.local.json, "
                + $"or the environment variable Secrets__{name}. " +
                "Development only: in Azure the key lives in Key Vault.", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new GardienLocalHostException(ex.Message, ex);
        }
    }

    private static string FirstLine(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null && inner is AggregateException or RequestFailedException)
        {
            inner = inner.InnerException;
        }

        return inner.Message.Split('\n')[0].Trim();
    }
}
