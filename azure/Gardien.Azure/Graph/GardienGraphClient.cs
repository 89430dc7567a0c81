using Azure.Core;
using Microsoft.Graph;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;

namespace Gardien.Azure.Graph;

/// <summary>Builds the <see cref="GraphServiceClient"/> the adapters share.</summary>
public static class GardienGraphClient
{
    /// <summary>
    /// A Graph client authenticated with <paramref name="credential"/> (token scope <see cref="GraphOptions.Scope"/>, sent
    /// only to the configured Graph host). The SDK's own retry handler is left out: the adapters retry themselves, with
    /// bounded waits and replication-aware rules.
    /// </summary>
    /// <param name="finalHandler">Tests only: the HTTP handler reaching the fake Graph.</param>
    public static GraphServiceClient Create(GraphOptions options, TokenCredential credential, HttpMessageHandler? finalHandler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        var handlers = GraphClientFactory.CreateDefaultHandlers().Where(h => h is not RetryHandler).ToList();
        var http = GraphClientFactory.Create(handlers, finalHandler: finalHandler ?? new HttpClientHandler());
        http.Timeout = options.RequestTimeout;
        var authentication = new AzureIdentityAuthenticationProvider(
            credential, [options.BaseUrl.Host], null, isCaeEnabled: true, options.Scope);
        return new GraphServiceClient(http, authentication, options.BaseUrl.AbsoluteUri.TrimEnd('/'));
    }
}
