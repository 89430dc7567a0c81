using System.Text.Json.Nodes;
using Gardien.Azure.Arm;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests.Fakes;

/// <summary>A fake Azure Resource Manager (HTTPS on loopback) for the research account of <see cref="Options"/>.</summary>
public sealed class FakeArm : IDisposable
{
    public const string SubscriptionId = "00000000-1111-2222-3333-444444444444";
    public const string ResourceGroup = "rg-gardien";
    public const string Account = "research01";
    public const string AccountId =
        $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.Storage/storageAccounts/{Account}";

    public FakeArm() => Fake = Loopback.Https();

    public Loopback Fake { get; }

    public WireMock.Server.WireMockServer Server => Fake.Server;

    public ResearchStorageOptions Options => new() { ResourceId = AccountId, ResourceManagerEndpoint = Fake.Uri };

    /// <summary>Fast retries so that throttling tests stay short; the network timeout is small for timeout tests.</summary>
    public ArmClientOptions ClientOptions(int maxRetries = 2, TimeSpan? networkTimeout = null)
    {
        var options = new ArmClientOptions { Transport = Fake.Transport };
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(20);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(200);
        options.Retry.NetworkTimeout = networkTimeout ?? TimeSpan.FromSeconds(20);
        return options;
    }

    public static string ContainerId(string container) => $"{AccountId}/blobServices/default/containers/{container}";

    public IReadOnlyList<ILogEntry> Requests => Fake.Log;

    public IReadOnlyList<ILogEntry> RequestsOf(string method) => [.. Requests.Where(r => r.RequestMessage.Method == method)];

    public void Reply(
        string method,
        string path,
        int status,
        JsonNode? body = null,
        string? state = null,
        string? nextState = null,
        string scenario = "arm",
        IDictionary<string, string>? headers = null,
        TimeSpan? delay = null)
    {
        var request = Request.Create().WithPath(path).UsingMethod(method);
        var response = Response.Create().WithStatusCode(status);
        if (body is not null)
        {
            response = response.WithHeader("Content-Type", "application/json").WithBody(body.ToJsonString());
        }

        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            response = response.WithHeader(key, value);
        }

        if (delay is { } d)
        {
            response = response.WithDelay(d);
        }

        var given = Server.Given(request);
        if (state is not null || nextState is not null)
        {
            var inScenario = given.InScenario(scenario);
            var when = state is null ? inScenario : inScenario.WhenStateIs(state);
            (nextState is null ? when : when.WillSetStateTo(nextState)).RespondWith(response);
        }
        else
        {
            given.RespondWith(response);
        }
    }

    public void ReplyText(string method, string path, int status, string text) =>
        Server.Given(Request.Create().WithPath(path).UsingMethod(method))
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(text));

    public static JsonObject Error(string code, string message = "failed") =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };

    public void Dispose() => Fake.Dispose();
}
