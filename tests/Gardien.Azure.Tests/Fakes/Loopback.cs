using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using WireMock;
using WireMock.Logging;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;

namespace Gardien.Azure.Tests.Fakes;

/// <summary>
/// A WireMock server on 127.0.0.1, plain HTTP or HTTPS with a throw-away self-signed certificate only the tests trust:
/// Azure.Core's bearer-token policy refuses plain HTTP, so fakes of token-protected Azure services must be HTTPS.
/// </summary>
public sealed class Loopback : IDisposable
{
    private static readonly Lazy<X509Certificate2> Certificate = new(CreateCertificate);

    private Loopback(WireMockServer server) => Server = server;

    public WireMockServer Server { get; }

    public Uri Uri => new(Server.Urls[0].TrimEnd('/') + "/");

    public static Loopback Http() => Start(https: false);

    public static Loopback Https() => Start(https: true);

    /// <summary>A handler trusting the fake's certificate and nothing else.</summary>
    public static HttpClientHandler TrustingHandler() => new()
    {
        ServerCertificateCustomValidationCallback = (_, cert, _, errors) => errors == SslPolicyErrors.None
            || cert?.Thumbprint == Certificate.Value.Thumbprint,
    };

    /// <summary>An Azure SDK transport trusting the fake's certificate and nothing else.</summary>
    public HttpClientTransport Transport => new(TrustingHandler());

    /// <summary>Requests received, oldest first.</summary>
    public IReadOnlyList<IRequestMessage> Requests => [.. Server.LogEntries.Select(e => e.RequestMessage).OrderBy(r => r.DateTime)];

    /// <summary>Requests received with the responses given, oldest first.</summary>
    public IReadOnlyList<ILogEntry> Log => [.. Server.LogEntries.OrderBy(e => e.RequestMessage.DateTime)];

    public void Dispose() => Server.Stop();

    public static ResponseMessage Json(int status, string json, params (string Name, string Value)[] headers)
    {
        var response = new ResponseMessage
        {
            StatusCode = status,
            BodyData = new BodyData { BodyAsString = json, DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
        };
        response.AddHeader("Content-Type", "application/json");
        foreach (var (name, value) in headers)
        {
            response.AddHeader(name, value);
        }

        return response;
    }

    public static ResponseMessage Empty(int status, params (string Name, string Value)[] headers)
    {
        var response = new ResponseMessage { StatusCode = status };
        foreach (var (name, value) in headers)
        {
            response.AddHeader(name, value);
        }

        return response;
    }

    public static string? Header(IRequestMessage request, string name) =>
        request.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

    /// <summary>The query string decoded into name → value (one value per name).</summary>
    public static IReadOnlyDictionary<string, string> Query(IRequestMessage request)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (request.RawQuery ?? string.Empty).TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            result[Uri.UnescapeDataString(parts[0].Replace('+', ' '))] = parts.Length == 2
                ? Uri.UnescapeDataString(parts[1].Replace('+', ' '))
                : string.Empty;
        }

        return result;
    }

    private static Loopback Start(bool https)
    {
        var settings = new WireMockServerSettings
        {
            Urls = [$"{(https ? "https" : "http")}://127.0.0.1:{FreePort()}"],
            Logger = new WireMockNullLogger(),
            StartAdminInterface = false,
        };
        if (https)
        {
            settings.UseSSL = true;
            settings.CertificateSettings = new WireMockCertificateSettings { X509Certificate = Certificate.Value };
        }

        return new Loopback(WireMockServer.Start(settings));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }
}

/// <summary>Hands out a fixed token so that tests can assert the exact Authorization header; records the scopes asked for.</summary>
public sealed class FixedTokenCredential(string token = FixedTokenCredential.Token) : TokenCredential
{
    public const string Token = "test-token";

    public List<string> Scopes { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        lock (Scopes)
        {
            Scopes.AddRange(requestContext.Scopes);
        }

        return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}

/// <summary>Records the waits an adapter asks for instead of sleeping.</summary>
public sealed class RecordedDelays
{
    public List<TimeSpan> Waits { get; } = [];

    public Task Wait(TimeSpan delay, CancellationToken cancellationToken)
    {
        lock (Waits)
        {
            Waits.Add(delay);
        }

        return Task.CompletedTask;
    }
}
