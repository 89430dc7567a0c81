using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Core.Pipeline;
using WireMock.Logging;
using WireMock.Server;
using WireMock.Settings;

namespace Gardien.Azure.Tests.Fakes;

/// <summary>
/// A WireMock server on 127.0.0.1 speaking HTTPS with a throw-away self-signed certificate: Azure.Core's bearer-token
/// policy refuses plain HTTP, so fakes of token-protected Azure services must be HTTPS. Only tests trust the certificate
/// (<see cref="Transport"/>).
/// </summary>
public sealed class FakeServer : IDisposable
{
    private static readonly Lazy<X509Certificate2> Certificate = new(CreateCertificate);

    private FakeServer(WireMockServer server, bool https)
    {
        Server = server;
        Https = https;
    }

    public WireMockServer Server { get; }

    public bool Https { get; }

    public Uri Uri => new(Server.Urls[0].TrimEnd('/') + "/");

    /// <summary>An HTTP transport that trusts the fake's certificate and nothing else.</summary>
    public HttpClientTransport Transport => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, cert, _, errors) =>
            errors == System.Net.Security.SslPolicyErrors.None || cert?.Thumbprint == Certificate.Value.Thumbprint,
    });

    public static FakeServer StartHttps() => Start(https: true);

    public static FakeServer StartHttp() => Start(https: false);

    private static FakeServer Start(bool https)
    {
        var port = FreePort();
        var settings = new WireMockServerSettings
        {
            Urls = [$"{(https ? "https" : "http")}://127.0.0.1:{port}"],
            Logger = new WireMockNullLogger(),
            StartAdminInterface = false,
        };
        if (https)
        {
            settings.UseSSL = true;
            settings.CertificateSettings = new WireMockCertificateSettings { X509Certificate = Certificate.Value };
        }

        return new FakeServer(WireMockServer.Start(settings), https);
    }

    /// <summary>Requests received, oldest first.</summary>
    public IReadOnlyList<WireMock.Logging.ILogEntry> Requests => [.. Server.LogEntries.OrderBy(e => e.RequestMessage.DateTime)];

    public void Dispose() => Server.Stop();

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

/// <summary>A token credential that hands out a fixed token, so tests can assert the exact Authorization header.</summary>
public sealed class StaticTokenCredential(string token = StaticTokenCredential.DefaultToken) : TokenCredential
{
    public const string DefaultToken = "test-token";

    public List<string[]> RequestedScopes { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        lock (RequestedScopes)
        {
            RequestedScopes.Add(requestContext.Scopes);
        }

        return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
