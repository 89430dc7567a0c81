using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gardien.Local.Hosting;
using Gardien.Local.Serve;
using Gardien.Local.Tests.Hosting;
using Gardien.Workflows.Http;

namespace Gardien.Local.Tests.Serve;

/// <summary>A real <c>gardien serve</c> on a free loopback port over a sandbox's state, with an HTTP client (no key) and the key.</summary>
internal sealed class ServeHarness : IAsyncDisposable
{
    // A hang guard for waits on the workflows, never an assertion on time.
    public static readonly TimeSpan Guard = TimeSpan.FromMinutes(3);

    private ServeHarness(LocalHostSandbox sandbox, GardienService service)
    {
        Sandbox = sandbox;
        Service = service;
        Http = new HttpClient { BaseAddress = service.Url, Timeout = Guard };
        Keyed = new HttpClient { BaseAddress = service.Url, Timeout = Guard };
        Keyed.DefaultRequestHeaders.Add(ServiceDiscovery.KeyHeader, service.ApiKey);
    }

    public LocalHostSandbox Sandbox { get; }

    public GardienService Service { get; }

    /// <summary>A client without the key (a browser, a stranger on this machine).</summary>
    public HttpClient Http { get; }

    /// <summary>A client with the key (the CLI, a script).</summary>
    public HttpClient Keyed { get; }

    public static async Task<ServeHarness> StartAsync(LocalHostSandbox sandbox, IEnumerable<KeyValuePair<string,
        string?>>? overrides = null) =>
        new(sandbox, await GardienService.StartAsync(GardienLocalConfiguration.Build(sandbox.ConfigPath, overrides)));

    public async Task<HttpResponseMessage> SubmitAsync(string? json = null) =>
        await Keyed.PostAsync(GardienRoutes.Dmps, new StringContent(json ?? await File.ReadAllTextAsync(Sandbox.DmpPath), Encoding.UTF8,
            "application/json"));

    public async Task<JsonElement> DmpAsync() =>
        JsonDocument.Parse(await Http.GetStringAsync(GardienRoutes.DmpPath(Sandbox.DmpId))).RootElement;

    /// <summary>Polls the DMP until <paramref name="done"/> holds (within <see cref="Guard"/>).</summary>
    public async Task<JsonElement> WaitForDmpAsync(Func<JsonElement, bool> done)
    {
        using var guard = new CancellationTokenSource(Guard);
        while (true)
        {
            using var response = await Http.GetAsync(GardienRoutes.DmpPath(Sandbox.DmpId), guard.Token);
            if (response.IsSuccessStatusCode)
            {
                var dmp = JsonDocument.Parse(await response.Content.ReadAsStringAsync(guard.Token)).RootElement;
                if (done(dmp))
                {
                    return dmp;
                }
            }

            await Task.Delay(250, guard.Token);
        }
    }

    /// <summary>The open approval requests of the inbox, once there are <paramref name="count"/> of them.</summary>
    public async Task<IReadOnlyList<JsonElement>> WaitForOpenRequestsAsync(int count)
    {
        using var guard = new CancellationTokenSource(Guard);
        while (true)
        {
            var open = JsonDocument.Parse(await Http.GetStringAsync("/api/inbox?open=true",
                guard.Token)).RootElement.EnumerateArray().ToList();
            if (open.Count >= count)
            {
                return open;
            }

            await Task.Delay(250, guard.Token);
        }
    }

    public static string LinkOf(JsonElement message, string decision) =>
        message.GetProperty("links").EnumerateArray().Select(l => l.GetProperty("url").GetString()!).First(u =>
            u.Contains("decision=" + decision, StringComparison.Ordinal));

    /// <summary>Decides with the key, as the CLI does, in the addressee's name.</summary>
    public async Task<HttpResponseMessage> DecideAsync(JsonElement message, string decision, string? comment = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(LinkOf(message, decision)).PathAndQuery)
        {
            Content = JsonContent.Create(new { comment, @as = message.GetProperty("to").GetString() }),
        };
        request.Headers.Accept.ParseAdd("application/json");
        return await Keyed.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Keyed.Dispose();
        await Service.DisposeAsync();
    }
}
