using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gardien.Functions;

/// <summary>The isolated worker's entry point.</summary>
internal static class Program
{
    public static async Task Main()
    {
        var host = new HostBuilder()
            .ConfigureFunctionsWebApplication()
            .ConfigureServices(services => services.AddGardienFunctions())
            .Build();

        GardienFunctionsRegistration.EnsurePortsRegistered(host.Services);
        await host.RunAsync().ConfigureAwait(false);
    }
}
