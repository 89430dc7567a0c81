using Gardien.Functions.Durable;
using Gardien.Functions.Events;
using Gardien.Functions.Http;
using Gardien.Runtime;
using Gardien.Testing.Logging;
using Gardien.Workflows;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Hosting.Events;
using Gardien.Workflows.Http;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace Gardien.Functions.Tests.Triggers;

/// <summary>The trigger functions as the app builds them (its own registration), over the workflow tests' port fakes.</summary>
public sealed class TriggerHost
{
    public TriggerHost(DateTimeOffset? now = null)
    {
        Time = new FakeTimeProvider(now ?? new DateTimeOffset(2030, 1, 1, 2, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton(Fakes.Registry.Object);
        services.AddSingleton(Fakes.Audit.Object);
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton<IWorkflowSerializer>(JsonWorkflowSerializer.Default);
        services.AddSingleton(new WorkflowRegistry().AddGardienWorkflows());
        services.AddSingleton(sp => new DurableWorkflowHost(sp.GetRequiredService<WorkflowRegistry>(), sp));
        services.AddSingleton(Fakes.Storage.Object);
        services.AddSingleton(Fakes.Secrets.Object);
        services.AddSingleton(DmpTool.Object);
        services.AddSingleton(sp => new ApprovalTokenService(Fakes.Secrets.Object, Fakes.Registry.Object, new ApprovalTokenSettings(),
            Time));
        services.AddGardienHostServices();
        services.AddGardienHttp(http => http.RequireSignIn = true);
        Services = services.BuildServiceProvider();
    }

    public PortFakes Fakes { get; } = new();

    public Mock<IDmpToolClient> DmpTool { get; } = new();

    public FakeTimeProvider Time { get; }

    public ServiceProvider Services { get; }

    public DurableClientFake Durable { get; } = new();

    public List<string> Logged { get; } = [];

    public EventQueueFunctions Events =>
        new(Services.GetRequiredService<DurableWorkflowHost>(), new ListLogger<EventQueueFunctions>(Logged));

    public HttpFunctions Http => ActivatorUtilities.CreateInstance<HttpFunctions>(Services);

    public TimerFunctions Timers =>
        new(Services.GetRequiredService<DurableWorkflowHost>(), Fakes.Registry.Object, Time, NullLogger<TimerFunctions>.Instance);
}
