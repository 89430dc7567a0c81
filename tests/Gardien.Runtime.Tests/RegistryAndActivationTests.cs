namespace Gardien.Runtime.Tests;

public sealed class RegistryAndActivationTests
{
    [Fact]
    public void Registry_OrdersVersionsNumerically_AndRejectsDuplicates()
    {
        var registry = new WorkflowRegistry()
            .AddWorkflow<string, string>("W", (_, s) => Task.FromResult(s), "9")
            .AddWorkflow<string, string>("W", (_, s) => Task.FromResult(s), "10");

        Assert.Equal("10", registry.LatestVersion("W"));
        Assert.Throws<ArgumentException>(() => registry.AddWorkflow<string, string>("W", (_, s) => Task.FromResult(s), "10"));
    }

    [Fact]
    public void Registry_UsesClassNameOrAttributeAsName()
    {
        var registry = new WorkflowRegistry().AddWorkflow<PlainWorkflow>().AddWorkflow<NamedWorkflow>().AddActivity<PlainActivity>();

        Assert.True(registry.IsWorkflowRegistered(nameof(PlainWorkflow), "1"));
        Assert.True(registry.IsWorkflowRegistered("Renamed", "3"));
        Assert.Contains(nameof(PlainActivity), registry.ActivityNames);
    }

    [Fact]
    public async Task ClassBasedWorkflowsAndActivities_AreResolvedWithConstructorInjection()
    {
        var services = new SimpleServices(new Greeting("bonjour"));
        await using var harness = await EngineHarness.StartFakeTimeAsync(
            r => r.AddWorkflow<PlainWorkflow>().AddActivity<PlainActivity>(),
            o => o with { Services = services });

        var done = await harness.CompletionAsync(await harness.Client.ScheduleNewAsync(nameof(PlainWorkflow), "Ana", "di-1"));

        Assert.Equal("bonjour Ana", done.ReadOutputAs<string>());
    }

    [Fact]
    public void NameBasedGuid_MatchesRfc4122Version5()
    {
        // RFC 4122 appendix example fixed by later errata: uuid5(DNS namespace, "python.org").
        var guid = Engine.WorkflowExecutor.NameBasedGuid(new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "python.org");

        Assert.Equal(new Guid("886313e1-3b8a-5372-9b90-0c9aee199e5d"), guid);
    }

    public sealed record Greeting(string Word);

    public sealed class PlainActivity(Greeting greeting) : Activity<string, string>
    {
        public override Task<string> RunAsync(ActivityContext context, string input) => Task.FromResult($"{greeting.Word} {input}");
    }

    public sealed class PlainWorkflow : Workflow<string, string>
    {
        public override Task<string> RunAsync(WorkflowContext context, string input) =>
            context.CallActivityAsync<string>(nameof(PlainActivity), input);
    }

    [Workflow("Renamed", Version = "3")]
    public sealed class NamedWorkflow : Workflow<string, string>
    {
        public override Task<string> RunAsync(WorkflowContext context, string input) => Task.FromResult(input);
    }

    private sealed class SimpleServices(Greeting greeting) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(Greeting) ? greeting : null;
    }
}
