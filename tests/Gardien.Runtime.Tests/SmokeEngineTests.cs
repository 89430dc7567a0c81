namespace Gardien.Runtime.Tests;

public sealed class SmokeEngineTests
{
    [Fact]
    public async Task SequentialActivities_CompleteWithChainedOutput()
    {
        await using var harness = await EngineHarness.StartFakeTimeAsync(r => r
            .AddActivity<int, int>("AddOne", (_, x) => Task.FromResult(x + 1))
            .AddWorkflow<int, int>("Chain", async (ctx, x) =>
            {
                for (var i = 0; i < 5; i++)
                {
                    x = await ctx.CallActivityAsync<int>("AddOne", x);
                }

                return x;
            }));

        var id = await harness.Client.ScheduleNewAsync("Chain", 10);
        var result = await harness.CompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal(15, result.ReadOutputAs<int>());
    }
}
