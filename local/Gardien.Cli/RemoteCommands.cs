using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Gardien.Local.Hosting;
using Gardien.Local.Serve;
using Gardien.Workflows.Http;
using Gardien.Workflows.Retention;
using Gardien.Workflows.Text;
using Spectre.Console;

namespace Gardien.Cli;

/// <summary>
/// The workflow commands when a <c>gardien serve</c> runs on the same state folder: they ask the service over its HTTP
/// API instead of starting a second engine on the same task hub (which would compete with the service for its work).
/// Without a service they run standalone as before.
/// </summary>
internal static class RemoteCommands
{
    /// <summary>
    /// Runs <paramref name="action"/> against the service of the configuration's state folder (<c>Serve:StateDirectory</c>)
    /// when one answers; null when none runs (the caller then runs standalone).
    /// </summary>
    public static async Task<int?> ViaServiceAsync(
        ParseResult parse, Option<string?> config, Func<GardienServiceClient, TextWriter, TextWriter, Task<int>> action,
            CancellationToken cancellationToken)
    {
        string state;
        try
        {
            state = GardienLocalConfiguration.Build(parse.GetValue(config))[$"{GardienServeOptions.SectionName}:StateDirectory"]
                ?? new GardienServeOptions().StateDirectory;
        }
        catch (GardienLocalHostException)
        {
            return null;
        }

        if (await ServiceDiscovery.FindAsync(state, cancellationToken) is not { } endpoint)
        {
            return null;
        }

        var error = parse.InvocationConfiguration.Error;
        using var service = new GardienServiceClient(endpoint);
        await error.WriteLineAsync($"note: using the running service at {endpoint.Url.AbsoluteUri.TrimEnd('/')} ('gardien serve').");
        try
        {
            return await action(service, parse.InvocationConfiguration.Output, error);
        }
        catch (HttpRequestException ex)
        {
            await error.WriteLineAsync($"error: the service at {endpoint.Url} stopped answering ({ex.Message}). Start it again, or stop "
                + $"it to work standalone.");
            return CliRunner.UsageOrIoError;
        }
    }

    public static async Task<int> SubmitAsync(GardienServiceClient service, string dmpJson, string submittedBy, bool json,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var answer = await service.SubmitAsync(dmpJson, submittedBy, cancellationToken);
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(answer.Body, LocalHostCommand.Json));
        }

        if (!answer.IsSuccess)
        {
            await error.WriteLineAsync($"error: "
                + $"{(answer.Status == 409 ? "stale version: " : string.Empty)}{UntrustedText.ConsoleBlock(answer.Problem)}");
            return answer.Status is 400 or 409 or 422 ? CliRunner.Invalid : CliRunner.UsageOrIoError;
        }

        if (!json)
        {
            var body = answer.Body;
            await output.WriteLineAsync(UntrustedText.Console($"Submitted {body.GetProperty("dmpId").GetString()} "
                + $"({body.GetProperty("outcome").GetString()}): {body.GetProperty("message").GetString()}."));
            await output.WriteLineAsync("Next: 'gardien inbox' (or the service's /inbox page) shows the approval requests.");
        }

        return CliRunner.Ok;
    }

    public static async Task<int> StatusAsync(GardienServiceClient service, string? dmpId, bool json, TextWriter output, TextWriter error,
        CancellationToken cancellationToken)
    {
        if (dmpId is null)
        {
            var list = await service.ListDmpsAsync(cancellationToken);
            if (json)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(list.Body, LocalHostCommand.Json));
                return list.IsSuccess ? CliRunner.Ok : CliRunner.UsageOrIoError;
            }

            var items = list.Body.GetProperty("items").EnumerateArray().ToList();
            if (items.Count == 0)
            {
                await output.WriteLineAsync("No DMP yet: 'gardien submit FILE' submits one.");
                return CliRunner.Ok;
            }

            var table = new Table().Title("DMPs").AddColumn("DMP").AddColumn("Title").AddColumn("State").AddColumn("Version");
            foreach (var item in items)
            {
                table.AddRow(LocalHostViews.Cell(item.GetProperty("dmpId").GetString()), LocalHostViews.Cell(Text(item, "title")),
                    LocalHostViews.Cell(Text(item, "state")), LocalHostViews.Cell(Text(item, "modified")));
            }

            LocalHostCommand.Console(output).Write(table);
            return CliRunner.Ok;
        }

        var detail = await service.GetDmpAsync(dmpId, cancellationToken);
        if (detail.Status == 404)
        {
            await error.WriteLineAsync($"error: {UntrustedText.Console(detail.Problem)}");
            return CliRunner.Invalid;
        }

        if (json || !detail.IsSuccess)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(detail.Body, LocalHostCommand.Json));
            return detail.IsSuccess ? CliRunner.Ok : CliRunner.UsageOrIoError;
        }

        var dmp = detail.Body;
        var console = LocalHostCommand.Console(output);
        console.WriteLine(UntrustedText.Console($"DMP {dmp.GetProperty("dmp").GetProperty("dmpId").GetString()}: "
            + $"{Text(dmp.GetProperty("dmp"), "title")}"));
        console.WriteLine(UntrustedText.Console($"State: {Text(dmp.GetProperty("dmp"), "state")}"
            + (dmp.TryGetProperty("workflow",
                out var workflow)
                    ? $"; {Text(workflow, "instanceId")} {Text(workflow, "status")} - {Text(workflow, "stage")}" : string.Empty)));
        foreach (var pending in dmp.GetProperty("pendingApprovals").EnumerateArray())
        {
            console.WriteLine(UntrustedText.Console($"Awaiting {Text(pending, "role")}: "
                + $"{string.Join(", ", pending.GetProperty("awaiting").EnumerateArray().Select(a => a.GetString()))}"));
        }

        var datasets = new Table().Title("Datasets and their "
            + "containers").AddColumn("Dataset").AddColumn(new TableColumn("Container").NoWrap()).AddColumn("State")
            .AddColumn("Keep until").AddColumn("Not enforced locally");
        foreach (var d in dmp.GetProperty("datasets").EnumerateArray())
        {
            datasets.AddRow(LocalHostViews.Cell(Text(d, "title")), LocalHostViews.Cell(Text(d,
                "container") + (d.GetProperty("containerExists").GetBoolean() ? string.Empty : " (missing)")),
                LocalHostViews.Cell(Text(d, "state")), LocalHostViews.Cell(Text(d, "keepUntil")),
                LocalHostViews.Cell(string.Join(", ", d.GetProperty("notEnforcedLocally").EnumerateArray().Select(f => Text(f,
                    "feature")))));
        }

        console.Write(datasets);
        var grants = dmp.GetProperty("grants").EnumerateArray().Count(g => Text(g, "state") == "Active");
        console.WriteLine($"{grants} active grant(s); 'gardien status {dmpId} --json' has every record.");
        return CliRunner.Ok;
    }

    public static async Task<int> InboxAsync(GardienServiceClient service, string? to, bool openOnly, bool json, TextWriter output,
        CancellationToken cancellationToken)
    {
        var answer = await service.InboxAsync(to, openOnly, cancellationToken);
        if (json || !answer.IsSuccess)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(answer.Body, LocalHostCommand.Json));
            return answer.IsSuccess ? CliRunner.Ok : CliRunner.UsageOrIoError;
        }

        var n = 0;
        foreach (var message in answer.Body.EnumerateArray())
        {
            var open = message.TryGetProperty("requestOpen", out var o) && o.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? (o.GetBoolean() ? " [open]" : " [closed]") : string.Empty;
            await output.WriteLineAsync(UntrustedText.Console($"#{++n} {Text(message, "sentAt")} {Text(message, "kind")} to "
                + $"{Text(message, "to")}{open}"));
            await output.WriteLineAsync("   " + UntrustedText.Console(Text(message, "subject")));
            if (open == " [open]")
            {
                foreach (var link in message.GetProperty("links").EnumerateArray())
                {
                    await output.WriteLineAsync(UntrustedText.Console($"   {Text(link, "label")}: {Text(link, "url")}"));
                }
            }
        }

        await output.WriteLineAsync($"{n} message(s); the inbox page: {service.Endpoint.Url}inbox");
        return CliRunner.Ok;
    }

    public static async Task<int> ApproveAsync(
        GardienServiceClient service, string link, string? decision, string? comment, string? actor, bool json, TextWriter output,
            TextWriter error, CancellationToken cancellationToken)
    {
        var answer = await service.DecideAsync(link, decision, comment, actor, cancellationToken);
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(answer.Body, LocalHostCommand.Json));
        }

        var message = answer.Body.ValueKind == JsonValueKind.Object && answer.Body.TryGetProperty("message",
            out var m) ? m.GetString() : answer.Problem;
        if (answer.IsSuccess)
        {
            if (!json)
            {
                await output.WriteLineAsync(UntrustedText.Console(message));
            }

            return CliRunner.Ok;
        }

        await error.WriteLineAsync($"refused: {UntrustedText.Console(message)}");
        var failure = answer.Body.ValueKind == JsonValueKind.Object && answer.Body.TryGetProperty("failure",
            out var f) ? f.GetString() : null;
        return failure is "DecisionContradictsLink" or "NotALink"
            || answer.Status is 415 or 401 ? CliRunner.UsageOrIoError : CliRunner.Invalid;
    }

    public static async Task<int> SweepAsync(GardienServiceClient service, DateOnly date, bool dryRun, bool json, TextWriter output,
        TextWriter error, CancellationToken cancellationToken)
    {
        var answer = await service.SweepAsync(date, dryRun, cancellationToken);
        if (!answer.IsSuccess)
        {
            await error.WriteLineAsync($"error: the sweep failed: {UntrustedText.Console(answer.Problem)}");
            return CliRunner.UsageOrIoError;
        }

        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(answer.Body, LocalHostCommand.Json));
        }
        else if (answer.Body.Deserialize<RetentionSweepReport>(HttpAnswer.JsonOptions) is { } report)
        {
            SweepCommand.Render(LocalHostCommand.Console(output), report);
        }

        return CliRunner.Ok;
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind == JsonValueKind.String
                ? value.GetString() : value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? null : value.ToString()
            : null;

    internal static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
