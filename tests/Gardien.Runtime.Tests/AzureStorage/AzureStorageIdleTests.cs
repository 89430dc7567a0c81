using Azure.Core;
using Azure.Core.Pipeline;
using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Engine;
using Gardien.Testing;

namespace Gardien.Runtime.Tests.AzureStorage;

/// <summary>
/// <see cref="WorkflowEngine.WaitForIdleAsync"/> and <see cref="WorkflowEngine.StopAsync"/> while the store holds a
/// message the queue has already leased to it but the engine has not got yet. An HTTP pipeline policy holds the
/// storage response at exactly that point, so the window is as long as the test wants.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStorageIdleTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task WaitForIdle_ControlMessageReceivedButNotYetBuffered_IsNotIdleUntilItIsProcessed()
    {
        var gate = new PausingPolicy();
        await using var harness = await StartAsync(gate);
        using var releaseOnFailure = gate;
        await harness.Client.ScheduleNewAsync("AwaitGo", null, "idle-receive");
        await harness.Engine.WaitForIdleAsync().WaitAsync(EngineHarness.HangGuard);

        gate.Arm(PausingPolicy.IsNonEmptyReceiveFrom("-control-"));
        await harness.Client.RaiseEventAsync("idle-receive", "go", 7);
        await gate.Paused.WaitAsync(EngineHarness.HangGuard);

        // The queue has leased the event to this store; nothing is visible in the queue or in the buffers.
        Assert.True(await harness.Store.HasReadyWorkAsync());
        var idle = harness.Engine.WaitForIdleAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.False(idle.IsCompleted, "WaitForIdleAsync reported idle while a received event had not reached the engine.");

        gate.Release();
        await idle.WaitAsync(EngineHarness.HangGuard);
        var instance = await harness.Client.GetInstanceAsync("idle-receive");
        Assert.Equal(WorkflowStatus.Completed, instance!.Status);
        Assert.Equal(7, instance.ReadOutputAs<int>());
    }

    [Fact]
    public async Task WaitForIdle_InstanceTakenFromBufferWhileItsHistoryIsRead_IsNotIdleUntilItIsProcessed()
    {
        var gate = new PausingPolicy();
        await using var harness = await StartAsync(gate);
        using var releaseOnFailure = gate;
        await harness.Engine.WaitForIdleAsync().WaitAsync(EngineHarness.HangGuard);

        // A first step reads the instance's History partition (nothing cached yet): hold that read.
        gate.Arm(m => m.Request.Method == RequestMethod.Get && m.Request.Uri.Query.Contains("filter", StringComparison.OrdinalIgnoreCase)
            && m.Request.Uri.Path.Contains("History", StringComparison.Ordinal));
        await harness.Client.ScheduleNewAsync("AwaitGo", null, "idle-build");
        await gate.Paused.WaitAsync(EngineHarness.HangGuard);

        Assert.True(await harness.Store.HasReadyWorkAsync());
        var idle = harness.Engine.WaitForIdleAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.False(idle.IsCompleted, "WaitForIdleAsync reported idle while an instance's work item was being built.");

        gate.Release();
        await idle.WaitAsync(EngineHarness.HangGuard);
        Assert.Equal(WorkflowStatus.Running, (await harness.Client.GetInstanceAsync("idle-build"))!.Status);
    }

    [Fact]
    public async Task Stop_WhileAReceivedMessageIsNotYetHandedOver_MakesItVisibleAgainAtOnce()
    {
        var gate = new PausingPolicy();
        await using var harness = await StartAsync(gate);
        using var releaseOnFailure = gate;
        var store = (AzureStorageWorkflowStore)harness.Store;
        await harness.Client.ScheduleNewAsync("AwaitGo", null, "stop-receive");
        await harness.Engine.WaitForIdleAsync().WaitAsync(EngineHarness.HangGuard);

        gate.Arm(PausingPolicy.IsNonEmptyReceiveFrom("-control-"));
        await harness.Client.RaiseEventAsync("stop-receive", "go", 1);
        await gate.Paused.WaitAsync(EngineHarness.HangGuard);
        var stopping = harness.Engine.StopAsync();
        gate.Release();
        await stopping.WaitAsync(EngineHarness.HangGuard);

        // Leased for the engine's 5-minute lock, yet visible again: the next process does not wait for the lease.
        var visible = await store.Clients.ControlQueueFor("stop-receive").PeekMessagesAsync(32);
        Assert.Contains(visible.Value, m => m.MessageText.Contains("\"go\"", StringComparison.Ordinal));

        await using var next = await EngineHarness.StartAsync(
            await AzureStoreTestHubs.CreateStoreAsync(fixture, options: OptionsWith(store.Names.TaskHubName, gate)),
            TimeProvider.System,
            Register);
        Assert.Equal(WorkflowStatus.Completed, (await next.CompletionAsync("stop-receive")).Status);
    }

    private AzureStorageStoreOptions OptionsWith(string hub, PausingPolicy gate) =>
        AzureStoreTestHubs.Options(fixture, hub) with { AdditionalPolicies = [gate] };

    private async Task<EngineHarness> StartAsync(PausingPolicy gate)
    {
        var store = await AzureStoreTestHubs.CreateStoreAsync(fixture, options: OptionsWith(AzureStoreTestHubs.NewHubName(), gate));
        return await EngineHarness.StartAsync(
            store,
            TimeProvider.System,
            Register,
            o => o with { LockDuration = TimeSpan.FromMinutes(5), IdlePollInterval = TimeSpan.FromMilliseconds(10) });
    }

    private static void Register(WorkflowRegistry registry) =>
        registry.AddWorkflow<object?, int>("AwaitGo", async (ctx, _) => await ctx.WaitForExternalEvent<int>("go"));

    /// <summary>Holds the first response matching the armed condition (after the service has acted on it) until released.</summary>
    private sealed class PausingPolicy : HttpPipelinePolicy, IDisposable
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Func<HttpMessage, bool>? _when;

        public Task Paused => _paused.Task;

        public static Func<HttpMessage, bool> IsNonEmptyReceiveFrom(string queueNamePart) => m =>
            m.Request.Method == RequestMethod.Get
            && m.Request.Uri.Path.Contains(queueNamePart, StringComparison.Ordinal)
            && m.Request.Uri.Path.EndsWith("/messages", StringComparison.Ordinal)
            && !m.Request.Uri.Query.Contains("peekonly", StringComparison.OrdinalIgnoreCase)
            && m.Response.Content.ToString().Contains("<MessageId>", StringComparison.Ordinal);

        public void Arm(Func<HttpMessage, bool> when) => Volatile.Write(ref _when, when);

        public void Release()
        {
            Volatile.Write(ref _when, null);
            _released.TrySetResult();
        }

        /// <summary>Releases a held response, so that a failed test does not leave an engine stuck in a request.</summary>
        public void Dispose() => Release();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (ShouldPause(message))
            {
                await _released.Task;
            }
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            if (ShouldPause(message))
            {
                _released.Task.GetAwaiter().GetResult();
            }
        }

        private bool ShouldPause(HttpMessage message)
        {
            var when = Volatile.Read(ref _when);
            if (when is null || !when(message) || Interlocked.CompareExchange(ref _when, null, when) != when)
            {
                return false;
            }

            _paused.TrySetResult();
            return true;
        }
    }
}
