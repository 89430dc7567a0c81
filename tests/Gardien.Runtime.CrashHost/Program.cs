using System.Globalization;
using Gardien.Runtime;
using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Engine;

// Usage: Gardien.Runtime.CrashHost <connection-string> <task-hub> <side-effect-log> <instance-count>
// Runs FileChain instances "crash-0".."crash-{n-1}" (scheduling is idempotent, so a restart re-runs the same command)
// and exits 0 once all completed. Every activity appends "instance|taskId|idempotencyKey" to the log: the side effect
// the test counts after killing this process with SIGKILL and starting it again.
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: Gardien.Runtime.CrashHost <connection-string> <task-hub> <side-effect-log> <instance-count>");
    return 2;
}

var (connectionString, hub, logPath) = (args[0], args[1], args[2]);
var instanceCount = int.Parse(args[3], CultureInfo.InvariantCulture);
var logGate = new object();

var store = new AzureStorageWorkflowStore(AzureStorageStoreOptions.ForConnectionString(connectionString, hub) with
{
    PartitionCount = 2,
    MaxPollingInterval = TimeSpan.FromMilliseconds(100),
});

var registry = new WorkflowRegistry()
    .AddActivity<int, int>("AppendLine", async (ctx, x) =>
    {
        lock (logGate)
        {
            File.AppendAllText(logPath, $"{ctx.InstanceId}|{ctx.TaskId}|{ctx.IdempotencyKey}\n");
        }

        // Widens the window in which the kill can land between the side effect and its persisted completion.
        await Task.Delay(30, CancellationToken.None);
        return x + 1;
    })
    .AddWorkflow<int, int>("FileChain", async (ctx, x) =>
    {
        for (var i = 0; i < 6; i++)
        {
            x = await ctx.CallActivityAsync<int>("AppendLine", x);
        }

        var fan = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => ctx.CallActivityAsync<int>("AppendLine", i)));
        return x + fan.Sum();
    });

await using var engine = new WorkflowEngine(store, registry, new WorkflowEngineOptions
{
    LockDuration = TimeSpan.FromSeconds(5),
    ReceiveTimeout = TimeSpan.FromSeconds(2),
    MaxConcurrentActivities = 4,
});
await engine.StartAsync();

var ids = Enumerable.Range(0, instanceCount).Select(i => "crash-" + i.ToString(CultureInfo.InvariantCulture)).ToList();
foreach (var id in ids)
{
    await engine.Client.ScheduleNewAsync("FileChain", 0, id);
}

Console.WriteLine("STARTED");
using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
foreach (var id in ids)
{
    var result = await engine.Client.WaitForCompletionAsync(id, cancellationToken: guard.Token);
    if (result.Status != WorkflowStatus.Completed)
    {
        Console.Error.WriteLine($"{id} ended {result.Status}");
        return 1;
    }
}

Console.WriteLine("ALL DONE");
await engine.StopAsync();
await store.DisposeAsync();
return 0;
