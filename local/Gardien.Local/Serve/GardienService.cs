using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Gardien.Local.Configuration;
using Gardien.Local.Hosting;
using Gardien.Local.Notifications;
using Gardien.Runtime;
using Gardien.Workflows;
using Gardien.Workflows.Access;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Hosting.Events;
using Gardien.Workflows.Http;
using Gardien.Workflows.Http.Pages;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gardien.Local.Serve;

/// <summary>
/// <c>gardien serve</c>: the local main job as a living service. The embedded engine runs continuously on its Azure
/// Storage store (timers fire on time), the HTTP routes the Azure app serves are served on Kestrel by the same handlers
/// (<see cref="GardienApi"/>, <see cref="ApprovalHttpEndpoint"/>), plus the dashboard and the inbox; the retention
/// schedule and the access reviews of active DMPs are ensured at start and every <see cref="GardienServeOptions.ScheduleInterval"/>;
/// the governed containers are watched for blob events (<see cref="BlobEventWatcher"/>). Disposing drains: HTTP stops
/// first, then the engine finishes the steps in flight; everything else waits durably for the next start.
/// </summary>
public sealed class GardienService : IAsyncDisposable
{
    private readonly WebApplication _web;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly ILogger _logger;
    private bool _disposed;

    private GardienService(GardienLocalHost host, WebApplication web, GardienServeOptions options, Uri url, string apiKey)
    {
        Host = host;
        _web = web;
        Options = options;
        Url = url;
        ApiKey = apiKey;
        _logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger<GardienService>();
    }

    public GardienLocalHost Host { get; }

    public GardienServeOptions Options { get; }

    /// <summary>Where the service answers, e.g. <c>http://127.0.0.1:7071</c>.</summary>
    public Uri Url { get; }

    /// <summary>The key writes need (<c>x-functions-key</c> header).</summary>
    public string ApiKey { get; }

    public Uri DashboardUrl => new(Url, "/");

    public Uri InboxUrl => new(Url, "/inbox");

    /// <summary>Starts the local host, the HTTP server and the background loops, and publishes the discovery file.</summary>
    /// <exception cref="GardienLocalHostException">Misconfigured or unreachable; the message says what and how to fix it.</exception>
    public static async Task<GardienService> StartAsync(
        IConfiguration configuration, Action<IServiceCollection>? configureServices = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = ReadOptions(configuration);
        var url = ListenUrl(options.Url!);

        // The approval links the workflows write must open on this service, wherever it listens.
        var effective = new ConfigurationBuilder().AddConfiguration(configuration)
            .AddInMemoryCollection([new("Workflows:ApprovalBaseUrl", new Uri(url, "/api/").AbsoluteUri)])
            .Build();
        var host = GardienLocalHost.Create(effective, consoleLogging: true, services =>
        {
            services.AddGardienHttp(http =>
            {
                http.RequireSignIn = false;
                http.Navigation = true;
            });
            configureServices?.Invoke(services);
        });
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            var apiKey = ServiceDiscovery.EnsureApiKey(options.StateDirectory);
            var web = BuildWeb(host, options, url, apiKey);
            try
            {
                await web.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                await web.DisposeAsync().ConfigureAwait(false);
                throw new GardienLocalHostException(
                    $"Cannot listen on {url}: {ex.Message} Is another 'gardien serve' running? Stop it, or set Serve:Url (Serve__Url) to "
                        + $"another port.", ex);
            }

            var service = new GardienService(host, web, options, url, apiKey);
            ServiceDiscovery.Publish(options.StateDirectory, new ServiceEndpoint(url, apiKey, Environment.ProcessId,
                DateTimeOffset.UtcNow));
            service.StartLoops();
            return service;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Ensures the retention schedule and the access reviews of active DMPs (each start idempotent); returns what was
    /// started.</summary>
    public async Task<IReadOnlyList<string>> EnsureSchedulesAsync(CancellationToken cancellationToken = default)
    {
        var client = Host.Services.GetRequiredService<IWorkflowClient>();
        var retention = Host.Services.GetRequiredService<RetentionService>();
        var started = new List<string>();
        if (await client.GetInstanceAsync(RetentionScheduleWorkflow.InstanceId, getInputsAndOutputs: false,
            cancellationToken: cancellationToken).ConfigureAwait(false) is null)
        {
            started.Add(await retention.EnsureScheduleAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        }

        foreach (var dmp in await Host.Registry.ListDmpsAsync(DmpState.Active, cancellationToken).ConfigureAwait(false))
        {
            if (await client.GetInstanceAsync(AccessReviewWorkflow.InstanceIdFor(dmp.DmpId), getInputsAndOutputs: false,
                cancellationToken: cancellationToken)
                    .ConfigureAwait(false) is null)
            {
                started.Add(await retention.StartAccessReviewAsync(dmp.DmpId, cancellationToken).ConfigureAwait(false));
            }
        }

        return started;
    }

    /// <summary>The blob watcher of this service (also polled by tests and by the demo after an upload).</summary>
    public BlobEventWatcher BlobWatcher => new(
        Host.Services.GetRequiredService<LocalStorageClients>().Blobs,
        Host.Registry,
        Host.Services.GetRequiredService<GridEventDispatcher>(),
        Path.Combine(Options.StateDirectory, "blob-watch.json"),
        Host.WorkflowOptions.Policy.Storage.ContainerPrefix,
        Host.Services.GetRequiredService<TimeProvider>(),
        Host.Services.GetRequiredService<ILogger<BlobEventWatcher>>());

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled (Ctrl-C), then returns; dispose to drain.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: the caller disposes, which drains.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The loops end by cancellation.
        }

        await _web.StopAsync().ConfigureAwait(false);
        await _web.DisposeAsync().ConfigureAwait(false);
        ServiceDiscovery.Withdraw(Options.StateDirectory);
        await Host.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void StartLoops()
    {
        var token = _stopping.Token;
        _loops.Add(Every(Options.ScheduleInterval, "schedules", EnsureSchedulesAsync, token));
        _loops.Add(Every(Options.AuditCheckInterval, "audit trail", ct => Host.AuditTrail.ResumeIfRepairedAsync(ct), token));
        if (Options.WatchBlobs)
        {
            _loops.Add(Task.Run(() => BlobWatcher.RunAsync(Options.BlobWatchInterval, token), CancellationToken.None));
        }
    }

    private Task Every<T>(TimeSpan interval, string what, Func<CancellationToken, Task<T>> action,
        CancellationToken cancellationToken) => Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                await action(cancellationToken).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A failed pass is logged and tried again at the next tick: the service keeps running.
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                _logger.LogWarning("The {What} check failed and is tried again in {Interval}: {Reason}", what, interval, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }, CancellationToken.None);

    private static GardienServeOptions ReadOptions(IConfiguration configuration)
    {
        var options = new GardienServeOptions();
        try
        {
            configuration.GetSection(GardienServeOptions.SectionName).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new GardienLocalHostException("Invalid configuration: " + ex.Message
                + " Fix gardien.local.json or the matching Serve__Key environment variable.", ex);
        }

        var errors = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), errors, validateAllProperties: true))
        {
            throw new GardienLocalHostException("Invalid configuration:\n" + string.Join("\n", errors.Select(e => "  - " + e.ErrorMessage))
                + "\nFix gardien.local.json or the matching Serve__Key environment variable.");
        }

        return options;
    }

    /// <summary>The URL to listen on; port 0 takes a free port now, so that approval links can name it before the server starts.</summary>
    private static Uri ListenUrl(Uri configured)
    {
        if (configured.Port != 0)
        {
            return new Uri(configured.GetLeftPart(UriPartial.Authority));
        }

        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new UriBuilder(configured) { Port = port, Path = string.Empty }.Uri;
    }

    private static WebApplication BuildWeb(GardienLocalHost host, GardienServeOptions options, Uri url, string apiKey)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url.AbsoluteUri.TrimEnd('/'));
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        var web = builder.Build();
        var services = host.Services;
        var time = services.GetRequiredService<TimeProvider>();
        var routes = new LocalRoutes(services, options, apiKey, time);
        web.Use(routes.GuardAsync);
        routes.Map(web);
        return web;
    }
}
