using System.Text.Json;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Text;

namespace Gardien.Local.Serve;

/// <summary>
/// The README's main job on a running service, over its HTTP API: submit the sample DMP and, with <c>--once</c>, approve
/// every open request from the inbox over HTTP AS ITS ADDRESSEE (a demo shortcut, labelled as such), wait until the DMP
/// is Active, and check its containers on Azurite and the audit chain.
/// </summary>
public static class ServeDemo
{
    /// <summary>Submits the document; the DMP's id, or null (the reason written) when it was refused.</summary>
    public static async Task<string?> SubmitAsync(GardienServiceClient service, string dmpJson, TextWriter output,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(output);
        var answer = await service.SubmitAsync(dmpJson, "user:demo@gardien.local", cancellationToken).ConfigureAwait(false);
        if (!answer.IsSuccess)
        {
            await output.WriteLineAsync($"The sample DMP was refused ({answer.Status}): "
                + $"{UntrustedText.Console(answer.Problem)}").ConfigureAwait(false);
            return null;
        }

        await output.WriteLineAsync($"Submitted {UntrustedText.Console(answer.Body.GetProperty("dmpId").GetString())}: "
            + UntrustedText.Console(answer.Body.GetProperty("message").GetString())).ConfigureAwait(false);
        return answer.Body.GetProperty("dmpId").GetString();
    }

    /// <summary>Approves what the inbox holds until the DMP is Active; true when it is, with its containers present and the audit chain
    /// intact.</summary>
    public static async Task<bool> RunToActiveAsync(GardienServiceClient service, string dmpId, TextWriter output, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(output);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var decided = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (true)
            {
                var dmp = await service.GetDmpAsync(dmpId, deadline.Token).ConfigureAwait(false);
                var state = dmp.IsSuccess ? dmp.Body.GetProperty("dmp").GetProperty("state").GetString() : null;
                if (state is "Active" or "Rejected" or "Failed")
                {
                    return await ReportAsync(service, dmp, output, deadline.Token).ConfigureAwait(false);
                }

                var inbox = await service.InboxAsync(null, openOnly: true, deadline.Token).ConfigureAwait(false);
                foreach (var message in inbox.IsSuccess ? inbox.Body.EnumerateArray() : Enumerable.Empty<JsonElement>())
                {
                    var link = message.GetProperty("links").EnumerateArray()
                        .Select(l => l.GetProperty("url").GetString()!)
                        .FirstOrDefault(u => u.Contains("decision=approve", StringComparison.Ordinal));
                    if (link is null || !decided.Add(link))
                    {
                        continue;
                    }

                    var addressee = message.GetProperty("to").GetString();
                    var result = await service.DecideAsync(link, null, "Approved in the local demo (gardien serve --once).", addressee,
                        deadline.Token).ConfigureAwait(false);
                    await output.WriteLineAsync($"[demo] approving over HTTP as {UntrustedText.Console(addressee)}: "
                        + UntrustedText.Console(result.Body.ValueKind == JsonValueKind.Object && result.Body.TryGetProperty("message",
                            out var m) ? m.GetString() : result.Problem))
                        .ConfigureAwait(false);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync($"The DMP did not become Active within {timeout}.").ConfigureAwait(false);
            return false;
        }
    }

    private static async Task<bool> ReportAsync(GardienServiceClient service, ServiceAnswer dmp, TextWriter output,
        CancellationToken cancellationToken)
    {
        var body = dmp.Body;
        var state = body.GetProperty("dmp").GetProperty("state").GetString();
        await output.WriteLineAsync($"The DMP is {state}.").ConfigureAwait(false);
        var datasets = body.GetProperty("datasets").EnumerateArray().ToList();
        foreach (var dataset in datasets)
        {
            await output.WriteLineAsync($"  container {dataset.GetProperty("container").GetString()}: "
                + (dataset.GetProperty("containerExists").GetBoolean() ? "present on Azurite" : "MISSING")).ConfigureAwait(false);
        }

        var grants = body.GetProperty("grants").EnumerateArray().Count(g => g.GetProperty("state").GetString() == "Active");
        await output.WriteLineAsync($"  {grants} active grant(s).").ConfigureAwait(false);
        var audit = await service.VerifyAuditAsync(cancellationToken).ConfigureAwait(false);
        var intact = audit.IsSuccess && audit.Body.GetProperty("intact").GetBoolean();
        await output.WriteLineAsync(intact
            ? $"Audit chain intact ({audit.Body.GetProperty("entriesChecked").GetInt64()} entries)." : "Audit chain BROKEN.")
            .ConfigureAwait(false);
        return state == "Active" && datasets.Count > 0 && datasets.All(d =>
            d.GetProperty("containerExists").GetBoolean()) && grants > 0 && intact;
    }
}
