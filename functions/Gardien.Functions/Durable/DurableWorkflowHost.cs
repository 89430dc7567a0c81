using System.Collections.Concurrent;
using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Hosting;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Gardien.Functions.Durable;

/// <summary>
/// What an activity call carries on Durable Task: the calling instance, a key stable across redeliveries and the
/// serialized input. Durable Functions gives activities neither the task id nor the instance id in a portable way,
/// so <see cref="DurableWorkflowContext"/> sends them along.
/// </summary>
public sealed record ActivityInvocation(string InstanceId, string IdempotencyKey, int TaskId, string? Input);

/// <summary>
/// Runs the registered Gardien workflows and activities for a Durable Task host (the Functions shims, the Durable Task
/// test host, the classic Durable Task Framework): each orchestrator or activity of a given name runs the registry's
/// workflow or activity of the same name.
/// </summary>
public sealed class DurableWorkflowHost(WorkflowRegistry registry, IServiceProvider services, IWorkflowSerializer? serializer = null)
{
    public WorkflowRegistry Registry { get; } = registry;

    public IWorkflowSerializer Serializer { get; } = serializer ?? JsonWorkflowSerializer.Default;

    /// <summary>
    /// Runs workflow <paramref name="name"/> (at the instance's version, or the latest for an instance started without one)
    /// with <paramref name="input"/> as Durable Task deserialized it (a <see cref="JsonElement"/>, or already typed).
    /// </summary>
    public Task<object?> RunWorkflowAsync(TaskOrchestrationContext context, string name, object? input)
    {
        ArgumentNullException.ThrowIfNull(context);
        var version = string.IsNullOrEmpty(context.Version) ? Registry.LatestVersion(name) : context.Version;
        var workflow = Registry.ResolveWorkflow(name, version, services)
            ?? throw new InvalidOperationException(
                $"Workflow '{name}' version '{version ?? "none"}' is not registered in this app; "
                + "deploy the version the instance started with.");
        var typed = Convert(input, workflow.InputType);
        return workflow.RunAsync(new DurableWorkflowContext(context, typed, version!, Serializer), typed);
    }

    /// <summary>
    /// Runs activity <paramref name="name"/> for one <see cref="ActivityInvocation"/> sent by <see cref="DurableWorkflowContext"/>;
    /// with <paramref name="client"/>, the activity's <see cref="IWorkflowClient"/> is that client (Durable Functions binds one per
    /// invocation).
    /// </summary>
    public Task<object?> RunActivityAsync(
        string name,
        ActivityInvocation invocation,
        DurableTaskClient? client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var provider = client is null ? services : WithClient(CreateClient(client));
        var activity = Registry.ResolveActivity(name, provider)
            ?? throw new InvalidOperationException($"Activity '{name}' is not registered in this app.");
        var input = Serializer.Deserialize(invocation.Input, activity.InputType);
        return activity.RunAsync(new DurableActivityContext(name, invocation, cancellationToken), input);
    }

    /// <summary>The workflow client port over <paramref name="client"/>, with this host's serializer and registry (versions).</summary>
    public DurableWorkflowClient CreateClient(DurableTaskClient client) => new(client, Serializer, Registry);

    /// <summary>The app's services, except that <see cref="IWorkflowClient"/> is <paramref name="client"/>.</summary>
    public IServiceProvider WithClient(IWorkflowClient client) => new ClientServices(services, client);

    /// <summary>
    /// Creates <typeparamref name="T"/> (a host service such as <c>DmpEventRouter</c>) over <paramref name="client"/>;
    /// always a new instance, since the registered one would resolve its client from the app, which has none.
    /// </summary>
    public T Create<T>(IWorkflowClient client)
        where T : notnull => ActivatorUtilities.CreateInstance<T>(WithClient(client));

    private object? Convert(object? input, Type type) => input switch
    {
        null => null,
        JsonElement { ValueKind: JsonValueKind.Undefined or JsonValueKind.Null } => null,
        JsonElement element => Serializer.Deserialize(element.GetRawText(), type),
        _ when type.IsInstanceOfType(input) => input,
        _ => Serializer.Deserialize(Serializer.Serialize(input), type),
    };

    private sealed class ClientServices(IServiceProvider root, IWorkflowClient client) : IServiceProvider, IServiceProviderIsService
    {
        private static readonly ConcurrentDictionary<Type, bool> ClientDependents = new();

        public object? GetService(Type serviceType) =>
            serviceType == typeof(IWorkflowClient) || serviceType == typeof(WorkflowClient) ? client
            : serviceType == typeof(IServiceProviderIsService) ? this
            : NeedsClient(serviceType) ? ActivatorUtilities.CreateInstance(this, serviceType)
            : root.GetService(serviceType);

        // A host service built on another that needs the client (the approval endpoint on the decision service) must be
        // built here too: the app's registration would build the inner one from the app's services, which have no client.
        private static bool NeedsClient(Type type) => ClientDependents.GetOrAdd(type, t => DependsOnClient(t, 0));

        private static bool DependsOnClient(Type type, int depth) =>
            depth < 4 && type.IsClass && !type.IsAbstract && type.Assembly == typeof(DmpEventRouter).Assembly
            && type.GetConstructors().Any(c => c.GetParameters()
                .Any(p => p.ParameterType == typeof(IWorkflowClient) || DependsOnClient(p.ParameterType, depth + 1)));

        public bool IsService(Type serviceType) =>
            serviceType == typeof(IWorkflowClient)
                || serviceType == typeof(WorkflowClient)
                || (root.GetService<IServiceProviderIsService>()?.IsService(serviceType) ?? false);
    }

    private sealed class DurableActivityContext(
        string name,
        ActivityInvocation invocation,
        CancellationToken cancellationToken) : ActivityContext
    {
        public override string Name => name;

        public override string InstanceId => invocation.InstanceId;

        public override int TaskId => invocation.TaskId;

        public override string IdempotencyKey => invocation.IdempotencyKey;

        public override CancellationToken CancellationToken => cancellationToken;
    }
}

/// <summary>Durable Task's <see cref="DataConverter"/> over the workflow serializer, so both engines store the same JSON.</summary>
public sealed class WorkflowDataConverter(IWorkflowSerializer serializer) : DataConverter
{
    public override string? Serialize(object? value) => serializer.Serialize(value);

    public override object? Deserialize(string? data, Type targetType) => serializer.Deserialize(data, targetType);
}
