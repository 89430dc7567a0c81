using Gardien.Workflows.Workflows;
using Xunit.Abstractions;
namespace Gardien.Workflows.Tests.Workflows;
public sealed class IntakeScratchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Scratch()
    {
        await using var host = await IntakeTestHost.StartAsync();
        var submitted = await host.Submissions.SubmitAsync(IntakeTestDmps.Json());
        await Task.Delay(3000);
        var i = await host.Client.GetInstanceAsync(submitted.InstanceId!, getHistory: true);
        output.WriteLine($"{i?.Status} {i?.FailureDetails} {i?.SerializedCustomStatus} {i?.SerializedOutput}");
        foreach (var e in i?.History ?? []) output.WriteLine($"{e} {e.FailureDetails} {e.Result}");
        var sub = await host.Client.GetInstanceAsync(submitted.InstanceId + "-approval-pi", getHistory: true);
        output.WriteLine($"SUB {sub?.Status} {sub?.FailureDetails}");
        foreach (var e in sub?.History ?? []) output.WriteLine($"{e} {e.FailureDetails} {e.Result}");
    }
}
