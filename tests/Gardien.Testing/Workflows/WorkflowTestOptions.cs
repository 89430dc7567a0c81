using Gardien.Runtime;
using Gardien.Runtime.Storage;
using Gardien.Workflows;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;

namespace Gardien.Testing.Workflows;

/// <summary>How a <see cref="WorkflowTestEnvironment"/> is composed; the defaults suit unit tests of the workflows.</summary>
public sealed class WorkflowTestOptions
{
    /// <summary>Environment variable that turns <see cref="Replay"/> on for every environment of a test run ("1" or "true").</summary>
    public const string ReplayVariable = "GARDIEN_TEST_REPLAY";

    /// <summary>Where the fake clock starts.</summary>
    public DateTimeOffset Start { get; set; } = WorkflowTestEnvironment.Epoch;

    /// <summary>
    /// The in-memory ports the activities use. Null together with <see cref="ConfigureServices"/> registering the ports
    /// (the local adapters, say) runs the workflows on those instead.
    /// </summary>
    public PortFakes? Ports { get; set; } = new();

    /// <summary>What the activities and host services are configured with (the approval links' base, the policy).</summary>
    public GardienWorkflowOptions Workflows { get; set; } = new() { ApprovalBaseUrl = new Uri("https://gardien.test/") };

    /// <summary>The engine's store, built on the environment's clock; null: an in-memory store.</summary>
    public Func<TimeProvider, IWorkflowStore>? Store { get; set; }

    /// <summary>More services, or the ports themselves when <see cref="Ports"/> is null; the clock is registered already.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>Workflows and activities registered besides Gardien's own.</summary>
    public Action<WorkflowRegistry>? Register { get; set; }

    /// <summary>
    /// The notifications sent, for <see cref="WorkflowTestEnvironment.Sent"/> when the ports are not <see cref="PortFakes"/>.
    /// </summary>
    public Func<IReadOnlyList<Notification>>? SentNotifications { get; set; }

    /// <summary>
    /// Turns the engine's execution cache off (<c>MaxCachedExecutions = 0</c>): every step of every workflow replays
    /// its whole history, so that a workflow whose replay diverges from what it recorded fails the test. Defaults to
    /// the <see cref="ReplayVariable"/> environment variable, which the second run of <c>test.sh</c> sets.
    /// </summary>
    public bool Replay { get; set; } = ReplayRequested();

    /// <summary>Whether the <see cref="ReplayVariable"/> environment variable asks for replay.</summary>
    public static bool ReplayRequested() =>
        Environment.GetEnvironmentVariable(ReplayVariable) is { } value
        && (value == "1" || string.Equals(value, "true", StringComparison.OrdinalIgnoreCase));
}
