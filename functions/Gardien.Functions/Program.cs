using Gardien.Functions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var host = new HostBuilder()
    .ConfigureFunctionsWebApplication()
    .ConfigureServices(services =>
    {
        services.AddGardienFunctions();
    })
    .Build();

GardienFunctionsRegistration.EnsurePortsRegistered(host.Services);
await host.RunAsync();
