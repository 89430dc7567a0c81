using Gardien.Testing;

namespace Gardien.Runtime.Tests.AzureStorage;

[Collection(AzuriteCollection.Name)]
public sealed class AzureEngineSmokeTests(AzuriteFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task SequentialAndFanOut_OnAzurite_CompleteWithTheRightOutput()
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture);
        await using var harness = await EngineHarness.StartAsync(store, TimeProvider.System, r => r
            .AddActivity<int, int>("AddOne", (_, x) => Task.FromResult(x + 1))
            .AddWorkflow<int, int>("ChainThenFan", async (ctx, x) =>
            {
                for (var i = 0; i < 3; i++)
                {
                    x = await ctx.CallActivityAsync<int>("AddOne", x);
                }

                var fan = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => ctx.CallActivityAsync<int>("AddOne", i)));
                return x + fan.Sum();
            }));

        var id = await harness.Client.ScheduleNewAsync("ChainThenFan", 10);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        WorkflowMetadata result;
        try
        {
            result = await harness.Client.WaitForCompletionAsync(id, cancellationToken: cts.Token);
        }
        catch (OperationCanceledException)
        {
            var inst = await store.GetInstanceAsync(id);
            output.WriteLine($"status {inst?.Status} {inst?.FailureDetails}");
            foreach (var e in await store.GetHistoryAsync(id))
            {
                output.WriteLine(e.ToString());
            }

            var depth = await store.GetQueueDepthAsync();
            output.WriteLine($"depth {depth}");
            throw;
        }

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal(13 + 15, result.ReadOutputAs<int>());
    }
}
