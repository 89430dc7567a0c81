using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Gardien.Functions.Durable;
using Gardien.Runtime;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Logging;
using CoreDataConverter = DurableTask.Core.Serializing.DataConverter;

namespace Gardien.Functions.Tests.Backend;

/// <summary>
/// The classic Durable Task Framework on its Azure Storage provider, the backend Durable Functions runs on, hosting the
/// Gardien workflows through the Functions app's adapter (<see cref="DurableTaskShimFactory"/> turns the SDK-style
/// orchestrators into framework orchestrations). Settings as a competent user would choose them.
/// </summary>
public sealed class DtfAzureStorageBackend : IAsyncDisposable
{
    private readonly AzureStorageOrchestrationService _service;
    private readonly TaskHubWorker _worker;

    private DtfAzureStorageBackend(AzureStorageOrchestrationService service, TaskHubWorker worker, DurableWorkflowClient client)
    {
        _service = service;
        _worker = worker;
        Client = client;
    }

    public DurableWorkflowClient Client { get; }

    /// <param name="wrap">Wraps each orchestration context (tests: a logical clock).</param>
    /// <param name="policy">Sees every storage request (benchmarks: a request counter).</param>
    public static async Task<DtfAzureStorageBackend> StartAsync(
        string connectionString, string taskHub, WorkflowRegistry registry, Func<Func<IWorkflowClient>, IServiceProvider> services,
        bool extendedSessions = false,
        Func<TaskOrchestrationContext, TaskOrchestrationContext>? wrap = null,
        HttpPipelinePolicy? policy = null,
        ILoggerFactory? loggerFactory = null)
    {
        loggerFactory ??= LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = taskHub,
            StorageAccountClientProvider = new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(connectionString, WithPolicy(new BlobClientOptions(), policy)),
                StorageServiceClientProvider.ForQueue(connectionString, WithPolicy(new QueueClientOptions(), policy)),
                StorageServiceClientProvider.ForTable(connectionString, WithPolicy(new TableClientOptions(), policy))),
            PartitionCount = 4,
            MaxConcurrentTaskActivityWorkItems = 32,
            MaxQueuePollingInterval = TimeSpan.FromSeconds(1),

            // The default (64) pauses dequeuing while a fan-in's responses wait in the buffer.
            ControlQueueBufferThreshold = 256,
            ExtendedSessionsEnabled = extendedSessions,
            LoggerFactory = loggerFactory,
        };
        var service = new AzureStorageOrchestrationService(settings);
        await service.CreateIfNotExistsAsync().ConfigureAwait(false);

        DurableWorkflowClient? client = null;
        var serializer = JsonWorkflowSerializer.Default;
        var host = new DurableWorkflowHost(
            registry, services(() => client ?? throw new InvalidOperationException("The backend is starting.")), serializer);
        var shims = new DurableTaskShimFactory(
            new DurableTaskWorkerOptions { DataConverter = new WorkflowDataConverter(serializer) }, loggerFactory);
        var worker = new TaskHubWorker(service, loggerFactory) { ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails };
        worker.AddTaskOrchestrations(
            [.. registry.WorkflowNames.Select(name => (ObjectCreator<TaskOrchestration>)new Creator<TaskOrchestration>(name, () =>
            shims.CreateOrchestration(name, new RegistryOrchestrator(host, name, wrap), parent: null)))]);
        worker.AddTaskActivities(
            [.. registry.ActivityNames.Select(name => (ObjectCreator<TaskActivity>)new Creator<TaskActivity>(name, () =>
            shims.CreateActivity(name, new RegistryActivity(host, name))))]);
        await worker.StartAsync().ConfigureAwait(false);

        var hubClient = new TaskHubClient(service, new SystemTextJsonCoreConverter(serializer), loggerFactory);
        client = host.CreateClient(new TaskHubDurableClient(hubClient, new WorkflowDataConverter(serializer)));
        return new DtfAzureStorageBackend(service, worker, client);
    }

    public async ValueTask DisposeAsync()
    {
        await _worker.StopAsync(isForced: true).ConfigureAwait(false);
        await _service.DeleteAsync().ConfigureAwait(false);
        _worker.Dispose();
    }

    private static T WithPolicy<T>(T options, HttpPipelinePolicy? policy)
        where T : ClientOptions
    {
        if (policy is not null)
        {
            options.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        }

        return options;
    }

    private sealed class Creator<T> : ObjectCreator<T>
    {
        private readonly Func<T> _create;

        public Creator(string name, Func<T> create)
        {
            Name = name;
            Version = string.Empty;
            _create = create;
        }

        public override T Create() => _create();
    }

    private sealed class RegistryOrchestrator(
        DurableWorkflowHost host,
        string name,
        Func<TaskOrchestrationContext, TaskOrchestrationContext>? wrap) : ITaskOrchestrator
    {
        public Type InputType => typeof(object);

        public Type OutputType => typeof(object);

        public Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
            host.RunWorkflowAsync(wrap?.Invoke(context) ?? context, name, input);
    }

    private sealed class RegistryActivity(DurableWorkflowHost host, string name) : ITaskActivity
    {
        public Type InputType => typeof(ActivityInvocation);

        public Type OutputType => typeof(object);

        public Task<object?> RunAsync(TaskActivityContext context, object? input) =>
            host.RunActivityAsync(name, (ActivityInvocation)input!, null, CancellationToken.None);
    }

    /// <summary>
    /// The framework's client-side converter: System.Text.Json through the workflow serializer (the SDK's own shim is internal).
    /// </summary>
    private sealed class SystemTextJsonCoreConverter(IWorkflowSerializer serializer) : CoreDataConverter
    {
        public override string Serialize(object value) => serializer.Serialize(value)!;

        public override string Serialize(object value, bool formatted) => serializer.Serialize(value)!;

        public override object Deserialize(string data, Type objectType) => serializer.Deserialize(data, objectType)!;
    }
}
