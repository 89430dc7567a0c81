using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gardien.Local.Notifications;
using Gardien.Runtime;
using Gardien.Workflows;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Http;
using Gardien.Workflows.Http.Pages;
using Gardien.Workflows.Ports;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gardien.Local.Serve;

/// <summary>
/// The local service's routes: the ones the Azure app serves (<see cref="GardienRoutes"/>), through the same handlers,
/// plus the local stand-ins (<c>POST /api/events</c>, the dashboard, the inbox) and what the CLI calls when a service is
/// up (<c>/api/inbox</c>, <c>/api/sweeps</c>, <c>/api/audit</c>). Who may call what (<see cref="GuardAsync"/>): writes
/// need the API key; reads and pages only from this machine unless the key is given or remote reads are allowed; the
/// approval routes carry their own signed authorisation; health is open.
/// </summary>
internal sealed class LocalRoutes(IServiceProvider services, GardienServeOptions options, string apiKey, TimeProvider time)
{
    private const string KeyChecked = "gardien-key-checked";
    private readonly ILogger _logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<LocalRoutes>();

    public async Task GuardAsync(HttpContext context, Func<Task> next)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var keyed = HasKey(request);
        context.Items[KeyChecked] = keyed;
        var approval = path.StartsWith(GardienRoutes.Approvals + "/", StringComparison.OrdinalIgnoreCase);
        HttpAnswer? refusal = null;
        if (path.Equals(GardienRoutes.Health, StringComparison.OrdinalIgnoreCase) || approval)
        {
            refusal = null;
        }
        else if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !keyed)
        {
            refusal = HttpAnswer.Problem(401, "API key required",
                $"Writes need the service's API key in the {ServiceDiscovery.KeyHeader} header; it is printed at start and kept in "
                + $"{Path.Combine(options.StateDirectory, ServiceDiscovery.KeyFileName)}.");
        }
        else if (!keyed && !options.AllowRemoteReads && !IsLoopback(context.Connection.RemoteIpAddress))
        {
            refusal = HttpAnswer.Problem(403, "Local reads only",
                $"Reads are served to this machine only; give the API key in {ServiceDiscovery.KeyHeader}, or set Serve:AllowRemoteReads.");
        }

        if (refusal is not null)
        {
            await refusal.ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        try
        {
            await next().ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            // The contract: a problem answer, never a stack trace; the log has the details.
            _logger.LogError(ex, "{Method} {Path} failed", request.Method, path);
            await HttpAnswer.Problem(503, "Service unavailable",
                "The request could not be completed (is Azurite still running?). Nothing half-done is left: try "
                    + "again.").ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    public void Map(IEndpointRouteBuilder web)
    {
        web.MapGet(GardienRoutes.Health, (HttpContext c) => GardienApi.Health(c.Request.Host.Value ?? "local"));
        web.MapPost(GardienRoutes.Dmps, Handler(c => Api.SubmitDmpAsync(c.Request, SubmittedBy(c.Request), c.RequestAborted)));
        web.MapGet(GardienRoutes.Dmps, Handler(c => NonEmpty(c.Request.Query["id"]) is { } id
            ? Api.GetDmpAsync(id, c.RequestAborted)
            : Api.ListDmpsAsync(c.Request, c.RequestAborted)));
        web.MapGet(GardienRoutes.Dmps + "/{**dmpId}", Handler(c => Api.GetDmpAsync(c.Request.RouteValues["dmpId"] as string,
            c.RequestAborted)));
        web.MapGet(GardienRoutes.Workflows + "/{**instanceId}",
            Handler(c => Api.GetWorkflowAsync(c.Request.RouteValues["instanceId"] as string, c.RequestAborted)));
        web.MapGet(GardienRoutes.Approvals + "/{token}", Handler(c => Approvals.GetAsync(c.Request, c.RequestAborted)));
        web.MapPost(GardienRoutes.Approvals + "/{token}", Handler(c => Approvals.PostAsync(c.Request, c.Items[KeyChecked] is true,
            c.RequestAborted)));
        web.MapPost(GardienRoutes.Events, Handler(c => Api.PostEventsAsync(c.Request, c.RequestAborted)));
        web.MapMethods(GardienRoutes.Events, [HttpMethods.Options], (HttpContext c) => GardienApi.EventsOptions(c.Request));

        web.MapGet("/", Handler(async c => HttpAnswer.Html(200, await Pages.DashboardAsync(Texts(c),
            c.RequestAborted).ConfigureAwait(false))));
        web.MapGet("/inbox", Handler(InboxPageAsync));
        web.MapGet("/api/inbox", Handler(InboxJsonAsync));
        web.MapPost("/api/sweeps", Handler(SweepAsync));
        web.MapGet("/api/audit", Handler(AuditAsync));
        web.MapGet("/api/audit/verify", Handler(async c =>
            HttpAnswer.Json(200, await services.GetRequiredService<IAuditLog>().VerifyAsync(c.RequestAborted).ConfigureAwait(false))));
        web.MapFallback((HttpContext c) => HttpAnswer.Problem(404, "Not found",
            $"No route {c.Request.Method} {c.Request.Path}. The pages are / and /inbox; the API is under /api (see docs/local.md)."));
    }

    /// <summary>A route handler whose answer the framework executes (a bare <c>HttpContext</c> lambda would be a
    /// RequestDelegate).</summary>
    private static Delegate Handler(Func<HttpContext, Task<HttpAnswer>> handle) => handle;

    private static string SubmittedBy(HttpRequest request) =>
        NonEmpty(request.Headers[GardienApi.SubmittedByHeader]) is { } who ? Person(who) : "user:local-api";

    private GardienApi Api => services.GetRequiredService<GardienApi>();

    private ApprovalHttpEndpoint Approvals => services.GetRequiredService<ApprovalHttpEndpoint>();

    private LocalPages Pages => ActivatorUtilities.CreateInstance<LocalPages>(services);

    private PageTexts Texts(HttpContext context) =>
        PageTexts.For(services.GetRequiredService<GardienWorkflowOptions>().Policy, context.Request.Query["lang"]);

    private async Task<HttpAnswer> InboxPageAsync(HttpContext context)
    {
        // "Unread": sent since the inbox page was last shown.
        var seenPath = Path.Combine(options.StateDirectory, "inbox-seen");
        DateTimeOffset? lastSeen = File.Exists(seenPath)
            && DateTimeOffset.TryParse(await File.ReadAllTextAsync(seenPath, context.RequestAborted).ConfigureAwait(false),
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal, out var seen) ? seen : null;
        var page = await Pages.InboxAsync(Texts(context), lastSeen, context.RequestAborted).ConfigureAwait(false);
        System.IO.Directory.CreateDirectory(options.StateDirectory);
        await File.WriteAllTextAsync(seenPath, time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
            context.RequestAborted).ConfigureAwait(false);
        return HttpAnswer.Html(200, page);
    }

    private async Task<HttpAnswer> InboxJsonAsync(HttpContext context)
    {
        var entries = await InboxView.LoadAsync(
            services.GetRequiredService<InboxReader>(), services.GetRequiredService<IWorkflowClient>(),
                NonEmpty(context.Request.Query["to"]), context.RequestAborted)
            .ConfigureAwait(false);
        if (context.Request.Query["open"] == "true")
        {
            entries = [.. entries.Where(e => e.RequestOpen == true)];
        }

        return HttpAnswer.Json(200, entries.Reverse().Select(InboxEntryJson.From));
    }

    private async Task<HttpAnswer> SweepAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var date = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (NonEmpty(query["date"]) is { } text && !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture,
            DateTimeStyles.None, out date))
        {
            return HttpAnswer.Problem(400, "Invalid query", $"date '{text}' is not a date; use YYYY-MM-DD.");
        }

        var report = await services.GetRequiredService<RetentionService>().RunSweepAsync(date, query["dryRun"] == "true",
            context.RequestAborted).ConfigureAwait(false);
        return HttpAnswer.Json(200, report);
    }

    private async Task<HttpAnswer> AuditAsync(HttpContext context)
    {
        var last = int.TryParse(context.Request.Query["last"], NumberStyles.None, CultureInfo.InvariantCulture,
            out var n) && n is > 0 and <= 1000 ? n : 20;
        var audit = services.GetRequiredService<IAuditLog>();
        var records = new List<AuditRecord>();
        await foreach (var record in audit.ReadAsync(1, context.RequestAborted).ConfigureAwait(false))
        {
            records.Add(record);
            if (records.Count > last)
            {
                records.RemoveAt(0);
            }
        }

        return HttpAnswer.Json(200, records);
    }

    private bool HasKey(HttpRequest request)
    {
        var given = NonEmpty(request.Headers[ServiceDiscovery.KeyHeader])
            ?? (request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ",
                StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null);
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(apiKey));
    }

    private static bool IsLoopback(IPAddress? address) => address is null || IPAddress.IsLoopback(address);

    private static string Person(string who) => who.StartsWith("user:", StringComparison.Ordinal) ? who : "user:" + who;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
