using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gardien.Functions;

/// <summary>The isolated worker's entry point.</summary>
internal static class Program
{
    public static async Task Main()
    {
        var host = CreateHostBuilder().Build();
        GardienFunctionsRegistration.EnsurePortsRegistered(host.Services);
        await host.RunAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The app's host: the Azure adapters behind the ports, then the workflows, their Durable host and the host services.
    /// </summary>
    internal static IHostBuilder CreateHostBuilder() =>
        new HostBuilder()
            .ConfigureFunctionsWebApplication()
            .ConfigureServices(services => services.AddGardienAzureAdapters().AddGardienFunctions());
}
