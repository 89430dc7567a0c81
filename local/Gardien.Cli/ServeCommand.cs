using System.CommandLine;
using Azure;
using Gardien.Local.Hosting;
using Gardien.Local.Serve;
using Gardien.Workflows.Ports;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien serve [--url URL] [--demo [--file FILE]] [--once]</c>: the local main job as a living service (the embedded
/// engine on Azurite, the HTTP API, the approval page, the inbox and the dashboard) until Ctrl-C, then drained. With
/// <c>--demo</c> it submits the sample DMP through its own API; <c>--once</c> also approves every request over HTTP on the
/// addressees' behalf, waits for Active, checks the containers on Azurite and the audit chain, stops, and exits 0 or 1.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var url = new Option<string?>("--url")
        {
            Description = "Where to listen (default Serve:Url, http://127.0.0.1:7071).",
            HelpName = "URL"
        };
        var demo = new Option<bool>("--demo") { Description = "Submit the sample DMP once the service is up, and print where to look." };
        var once = new Option<bool>("--once")
        {
            Description =
            "With --demo: approve every request over HTTP (on the addressees' behalf), wait for Active, check, stop."
        };
        var file = new Option<string>("--file")
        {
            Description = "The DMP --demo submits.",
            DefaultValueFactory = _ => DemoCommand.DefaultSample,
            HelpName = "FILE"
        };
        var config = LocalHostCommand.ConfigOption();
        var command = new Command("serve",
            "Run Gardien as a service: HTTP API, approval page, inbox and dashboard on 127.0.0.1:7071, timers and blob events, until "
                + "Ctrl-C.")
        {
            url, demo, once, file, config,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            string? dmpJson = null;
            if (parse.GetValue(demo) || parse.GetValue(once))
            {
                dmpJson = await LocalHostCommand.ReadInputAsync(parse.GetValue(file)!, error, cancellationToken);
                if (dmpJson is null)
                {
                    return CliRunner.UsageOrIoError;
                }
            }

            try
            {
                var overrides = parse.GetValue(url) is { } listen ? new Dictionary<string, string?> { ["Serve:Url"] = listen } : null;
                var configuration = GardienLocalConfiguration.Build(parse.GetValue(config), overrides);
                var state = configuration[$"{GardienServeOptions.SectionName}:StateDirectory"] ?? new GardienServeOptions().StateDirectory;
                await using var azurite = await AzuriteLauncher.EnsureAsync(configuration, state, output, cancellationToken);
                await using var service = await GardienService.StartAsync(configuration, cancellationToken: cancellationToken);
                await output.WriteLineAsync($"Gardien is serving on {service.Url.AbsoluteUri.TrimEnd('/')} (task hub "
                    + $"'{service.Host.EngineOptions.TaskHubName}', storage "
                        + $"{service.Host.BlobEndpoint.GetLeftPart(UriPartial.Authority)}).");
                await output.WriteLineAsync($"  Dashboard: {service.DashboardUrl}");
                await output.WriteLineAsync($"  Inbox:     {service.InboxUrl}");
                await output.WriteLineAsync($"  API:       {service.Url}api/ (writes need the key: header {ServiceDiscovery.KeyHeader}: "
                    + $"{service.ApiKey}; also in "
                        + $"{Path.GetFullPath(Path.Combine(service.Options.StateDirectory, ServiceDiscovery.KeyFileName))})");
                var started = await service.EnsureSchedulesAsync(cancellationToken);
                if (started.Count > 0)
                {
                    await output.WriteLineAsync($"  Schedules started: {string.Join(", ", started)}");
                }

                var exit = CliRunner.Ok;
                if (dmpJson is not null)
                {
                    using var client = new GardienServiceClient(new ServiceEndpoint(service.Url, service.ApiKey, Environment.ProcessId,
                        DateTimeOffset.UtcNow));
                    var dmpId = await ServeDemo.SubmitAsync(client, dmpJson, output, cancellationToken);
                    if (dmpId is null)
                    {
                        exit = CliRunner.Invalid;
                    }
                    else if (parse.GetValue(once))
                    {
                        exit = await ServeDemo.RunToActiveAsync(client, dmpId, output, service.Host.EngineOptions.IdleTimeout,
                            cancellationToken) ? CliRunner.Ok : CliRunner.Invalid;
                    }
                    else
                    {
                        await output.WriteLineAsync($"Open the inbox to decide the approval requests: {service.InboxUrl}");
                    }
                }

                if (!parse.GetValue(once))
                {
                    await output.WriteLineAsync("Running; Ctrl-C stops the service (the steps in flight finish, everything else resumes "
                        + "at the next 'gardien serve').");
                    await output.FlushAsync(cancellationToken);
                    await service.WaitAsync(cancellationToken);
                    await output.WriteLineAsync("Stopping: draining the steps in flight...");
                }

                return exit;
            }
            catch (GardienLocalHostException ex)
            {
                await error.WriteLineAsync("error: " + ex.Message);
                return CliRunner.UsageOrIoError;
            }
            catch (RequestFailedException ex)
            {
                await error.WriteLineAsync($"error: a storage request failed: {ex.Status} {ex.ErrorCode ?? ex.Message.Split('\n')[0]}. Is "
                    + $"Azurite (or the account) still running?");
                return CliRunner.UsageOrIoError;
            }
            catch (PortException ex)
            {
                await error.WriteLineAsync("error: " + ex.Message);
                return CliRunner.UsageOrIoError;
            }
        });
        return command;
    }
}
