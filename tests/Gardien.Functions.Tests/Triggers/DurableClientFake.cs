using System.Collections.Concurrent;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Moq;

namespace Gardien.Functions.Tests.Triggers;

/// <summary>
/// A <see cref="DurableTaskClient"/> mock standing in for the <c>[DurableClient]</c> binding: it records the instances
/// scheduled (and refuses a second start of an id, as Durable Task does with dedupe statuses) and serves them back with
/// their input, as the client does when asked for inputs.
/// </summary>
public sealed class DurableClientFake
{
    public DurableClientFake()
    {
        Mock.Setup(
            c => c.ScheduleNewOrchestrationInstanceAsync(
                It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .Returns((TaskName name, object? input, StartOrchestrationOptions? options, CancellationToken _) =>
            {
                var id = options?.InstanceId ?? Guid.NewGuid().ToString("N");
                if (!Started.TryAdd(id, (name.Name, input)))
                {
                    throw new InvalidOperationException($"An instance with ID '{id}' already exists.");
                }

                return Task.FromResult(id);
            });
        Mock.Setup(c => c.GetInstancesAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .Returns((string id, bool _, CancellationToken _) => Task.FromResult(
                Started.TryGetValue(id, out var started)
                    ? new OrchestrationMetadata(started.Name, id)
                    {
                        RuntimeStatus = OrchestrationRuntimeStatus.Running,
                        SerializedInput = System.Text.Json.JsonSerializer.Serialize(started.Input),
                    }
                    : null));
    }

    public Mock<DurableTaskClient> Mock { get; } = new("test-hub") { CallBase = true };

    public DurableTaskClient Client => Mock.Object;

    /// <summary>Instance id → (orchestrator name, input) of every start that happened.</summary>
    public ConcurrentDictionary<string, (string Name, object? Input)> Started { get; } = new();
}
