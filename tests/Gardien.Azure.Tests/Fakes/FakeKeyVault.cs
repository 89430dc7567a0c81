using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests.Fakes;

/// <summary>
/// A fake Key Vault (secrets API 7.x) over HTTPS on 127.0.0.1: an unauthenticated request gets the 401 bearer challenge
/// the SDK expects, then secrets, their versions and version lists are served from memory. <see cref="Fail"/> queues faults.
/// </summary>
public sealed partial class FakeKeyVault : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, List<Version>> _secrets = new(StringComparer.OrdinalIgnoreCase);
    private readonly Queue<Func<ResponseMessage>> _faults = new();

    public FakeKeyVault()
    {
        Loopback = Loopback.Https();
        Loopback.Server.Given(Request.Create().WithPath(new WildcardMatcher("/*"))).AtPriority(10)
            .RespondWith(Response.Create().WithCallback(Handle));
    }

    public Loopback Loopback { get; }

    public Uri VaultUri => Loopback.Uri;

    public IReadOnlyList<IRequestMessage> Requests => Loopback.Requests;

    /// <summary>Requests that carried the bearer token (the challenge round trips left out).</summary>
    public IReadOnlyList<IRequestMessage> AuthenticatedRequests =>
        [.. Requests.Where(r => Loopback.Header(r, "Authorization") is not null)];

    /// <summary>Adds a new version (it becomes the current one). Returns its id.</summary>
    public string SetSecret(string name, string value, DateTimeOffset created, bool enabled = true, DateTimeOffset? expires = null)
    {
        lock (_gate)
        {
            var version = Guid.NewGuid().ToString("N");
            if (!_secrets.TryGetValue(name, out var versions))
            {
                _secrets[name] = versions = [];
            }

            versions.Add(new Version(version, value, created, enabled, expires));
            return version;
        }
    }

    /// <summary>The next authenticated requests get these answers instead, in order.</summary>
    public void Fail(params Func<ResponseMessage>[] responses)
    {
        lock (_gate)
        {
            foreach (var response in responses)
            {
                _faults.Enqueue(response);
            }
        }
    }

    public static ResponseMessage Error(int status, string code, string message, params (string Name, string Value)[] headers) =>
        Loopback.Json(
            status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }.ToJsonString(), headers);

    public void Dispose() => Loopback.Dispose();

    private ResponseMessage Handle(IRequestMessage request)
    {
        lock (_gate)
        {
            if (Loopback.Header(request, "Authorization") is not { } auth)
            {
                return Loopback.Json(
                    401, """{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}""",
                    (
                        "WWW-Authenticate",
                        "Bearer authorization=\"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47\", "
                        + "resource=\"https://vault.azure.net\""));
            }

            if (auth != "Bearer " + FixedTokenCredential.Token)
            {
                return Error(401, "Unauthorized", "AKV10032: Invalid issuer.");
            }

            if (_faults.TryDequeue(out var fault))
            {
                return fault();
            }

            if (!Loopback.Query(request).ContainsKey("api-version"))
            {
                return Error(400, "BadParameter", "The api-version query parameter is required.");
            }

            var path = Uri.UnescapeDataString(request.Path);
            var m = SecretPath().Match(path);
            if (request.Method != "GET" || !m.Success)
            {
                return Error(400, "BadParameter", "Unsupported request.");
            }

            var name = m.Groups["name"].Value;
            if (!_secrets.TryGetValue(name, out var versions))
            {
                return Error(404, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
            }

            var rest = m.Groups["rest"].Value;
            if (rest == "/versions")
            {
                var value = new JsonArray(
                    [.. versions.Select(v => (JsonNode)new JsonObject { ["id"] = Id(name, v.Id), ["attributes"] = Attributes(v) })]);
                return Loopback.Json(200, new JsonObject { ["value"] = value, ["nextLink"] = null }.ToJsonString());
            }

            var version = rest.Length == 0 ? versions[^1] : versions.FirstOrDefault(v => v.Id == rest.TrimStart('/'));
            if (version is null)
            {
                return Error(404, "SecretNotFound", $"A secret with (name/id) {name}{rest} was not found in this key vault.");
            }

            if (!version.Enabled)
            {
                return Error(403, "Forbidden", "Operation get is not allowed on a disabled secret.");
            }

            return Loopback.Json(
                200,
                new JsonObject
                {
                    ["value"] = version.Value,
                    ["id"] = Id(name, version.Id),
                    ["attributes"] = Attributes(version),
                }.ToJsonString());
        }
    }

    private string Id(string name, string version) => $"{VaultUri.AbsoluteUri.TrimEnd('/')}/secrets/{name}/{version}";

    private static JsonObject Attributes(Version version)
    {
        var attributes = new JsonObject
        {
            ["enabled"] = version.Enabled,
            ["created"] = version.Created.ToUnixTimeSeconds(),
            ["updated"] = version.Created.ToUnixTimeSeconds(),
            ["recoveryLevel"] = "Recoverable+Purgeable",
        };
        if (version.Expires is { } expires)
        {
            attributes["exp"] = expires.ToUnixTimeSeconds();
        }

        return attributes;
    }

    [GeneratedRegex(@"^/secrets/(?<name>[A-Za-z0-9-]+)(?<rest>/versions|/[0-9a-f]{32})?/?$")]
    private static partial Regex SecretPath();

    private sealed record Version(string Id, string Value, DateTimeOffset Created, bool Enabled, DateTimeOffset? Expires);
}
