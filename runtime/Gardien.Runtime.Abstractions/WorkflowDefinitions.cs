namespace Gardien.Runtime;

/// <summary>Untyped view of a workflow, used by engines and adapters.</summary>
public interface IWorkflow
{
    /// <summary>The type the input is deserialized to.</summary>
    Type InputType { get; }

    /// <summary>The type of the output.</summary>
    Type OutputType { get; }

    /// <summary>Runs the workflow code over <paramref name="context"/>; deterministic (see <see cref="WorkflowContext"/>).</summary>
    Task<object?> RunAsync(WorkflowContext context, object? input);
}

/// <summary>A workflow; mirrors Durable Task's <c>ITaskOrchestrator</c>.</summary>
public interface IWorkflow<in TInput, TOutput>
{
    /// <summary>Runs the workflow code over <paramref name="context"/>; deterministic (see <see cref="WorkflowContext"/>).</summary>
    Task<TOutput> RunAsync(WorkflowContext context, TInput input);
}

/// <summary>Base class of workflows; mirrors Durable Task's <c>TaskOrchestrator&lt;TInput, TOutput&gt;</c>.</summary>
public abstract class Workflow<TInput, TOutput> : IWorkflow<TInput, TOutput>, IWorkflow
{
    Type IWorkflow.InputType => typeof(TInput);

    Type IWorkflow.OutputType => typeof(TOutput);

    /// <inheritdoc/>
    public abstract Task<TOutput> RunAsync(WorkflowContext context, TInput input);

    async Task<object?> IWorkflow.RunAsync(WorkflowContext context, object? input) => await RunAsync(context, (TInput)input!);
}

/// <summary>Untyped view of an activity.</summary>
public interface IActivity
{
    /// <summary>The type the input is deserialized to.</summary>
    Type InputType { get; }

    /// <summary>The type of the output.</summary>
    Type OutputType { get; }

    /// <summary>Runs the activity once (it may run again: make its side effects idempotent).</summary>
    Task<object?> RunAsync(ActivityContext context, object? input);
}

/// <summary>An activity; mirrors Durable Task's <c>ITaskActivity</c>.</summary>
public interface IActivity<in TInput, TOutput>
{
    /// <summary>
    /// Runs the activity once (it may run again: make its side effects idempotent, see <see cref="ActivityContext.IdempotencyKey"/>).
    /// </summary>
    Task<TOutput> RunAsync(ActivityContext context, TInput input);
}

/// <summary>
/// Base class of activities; mirrors Durable Task's <c>TaskActivity&lt;TInput, TOutput&gt;</c>. Activities are resolved from DI.
/// </summary>
public abstract class Activity<TInput, TOutput> : IActivity<TInput, TOutput>, IActivity
{
    Type IActivity.InputType => typeof(TInput);

    Type IActivity.OutputType => typeof(TOutput);

    /// <inheritdoc/>
    public abstract Task<TOutput> RunAsync(ActivityContext context, TInput input);

    async Task<object?> IActivity.RunAsync(ActivityContext context, object? input) => await RunAsync(context, (TInput)input!);
}

/// <summary>Overrides the registered name (default: the class name) and sets the version (default: "1") of a workflow.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class WorkflowAttribute(string? name = null) : Attribute
{
    /// <summary>The registered name; null: the class name.</summary>
    public string? Name { get; } = name;

    /// <summary>The version (default <see cref="DefaultVersion"/>); running instances keep the version they started with.</summary>
    public string Version { get; set; } = DefaultVersion;

    /// <summary>The version of a workflow that does not name one.</summary>
    public const string DefaultVersion = "1";
}

/// <summary>Overrides the registered name (default: the class name) of an activity.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ActivityAttribute(string? name = null) : Attribute
{
    /// <summary>The registered name; null: the class name.</summary>
    public string? Name { get; } = name;
}
