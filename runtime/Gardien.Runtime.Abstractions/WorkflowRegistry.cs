using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Gardien.Runtime;

/// <summary>
/// The workflows and activities an engine can run. Names default to the class name (callers use <c>nameof</c>);
/// <see cref="WorkflowAttribute"/> / <see cref="ActivityAttribute"/> override them. Several versions of one workflow
/// name may be registered: new instances start on the highest version, running instances keep theirs.
/// Instances are created per use from the engine's <see cref="IServiceProvider"/> (constructor injection).
/// </summary>
public sealed class WorkflowRegistry
{
    private readonly Dictionary<string, SortedDictionary<string, Func<IServiceProvider, IWorkflow>>> _workflows = new(
        StringComparer.Ordinal);
    private readonly Dictionary<string, Func<IServiceProvider, IActivity>> _activities = new(StringComparer.Ordinal);

    /// <summary>The names of the registered workflows.</summary>
    public IEnumerable<string> WorkflowNames => _workflows.Keys;

    /// <summary>The names of the registered activities.</summary>
    public IEnumerable<string> ActivityNames => _activities.Keys;

    /// <summary>
    /// Registers <typeparamref name="TWorkflow"/> under the name and version of its <see cref="WorkflowAttribute"/> (default: class name,
    /// version 1).
    /// </summary>
    public WorkflowRegistry AddWorkflow<TWorkflow>()
        where TWorkflow : class, IWorkflow
    {
        var attribute = typeof(TWorkflow).GetCustomAttribute<WorkflowAttribute>();
        return AddWorkflow<TWorkflow>(attribute?.Name ?? typeof(TWorkflow).Name, attribute?.Version ?? WorkflowAttribute.DefaultVersion);
    }

    /// <summary>
    /// Registers <typeparamref name="TWorkflow"/> as <paramref name="name"/> at <paramref name="version"/>, created from the services per
    /// use.
    /// </summary>
    public WorkflowRegistry AddWorkflow<TWorkflow>(string name, string version = WorkflowAttribute.DefaultVersion)
        where TWorkflow : class, IWorkflow =>
        AddWorkflow(name, version, services => ActivatorUtilities.GetServiceOrCreateInstance<TWorkflow>(services));

    /// <summary>
    /// Registers the workflow <paramref name="factory"/> creates as <paramref name="name"/> at <paramref name="version"/>; a version
    /// registered twice throws.
    /// </summary>
    public WorkflowRegistry AddWorkflow(string name, string version, Func<IServiceProvider, IWorkflow> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        ArgumentNullException.ThrowIfNull(factory);
        if (!_workflows.TryGetValue(name, out var versions))
        {
            versions = new SortedDictionary<string, Func<IServiceProvider, IWorkflow>>(VersionComparer.Instance);
            _workflows[name] = versions;
        }

        if (!versions.TryAdd(version, factory))
        {
            throw new ArgumentException(
                $"Workflow '{name}' version '{version}' is already registered; give the new one another version.", nameof(version));
        }

        return this;
    }

    /// <summary>Registers a workflow written as a function (tests, small hosts).</summary>
    public WorkflowRegistry AddWorkflow<TInput, TOutput>(
        string name,
        Func<WorkflowContext, TInput, Task<TOutput>> run,
        string version = WorkflowAttribute.DefaultVersion)
    {
        ArgumentNullException.ThrowIfNull(run);
        var workflow = new FuncWorkflow<TInput, TOutput>(run);
        return AddWorkflow(name, version, _ => workflow);
    }

    /// <summary>
    /// Registers <typeparamref name="TActivity"/> under the name of its <see cref="ActivityAttribute"/> (default: class name).
    /// </summary>
    public WorkflowRegistry AddActivity<TActivity>()
        where TActivity : class, IActivity =>
        AddActivity<TActivity>(typeof(TActivity).GetCustomAttribute<ActivityAttribute>()?.Name ?? typeof(TActivity).Name);

    /// <summary>Registers <typeparamref name="TActivity"/> as <paramref name="name"/>, created from the services per call.</summary>
    public WorkflowRegistry AddActivity<TActivity>(string name)
        where TActivity : class, IActivity =>
        AddActivity(name, services => ActivatorUtilities.GetServiceOrCreateInstance<TActivity>(services));

    /// <summary>
    /// Registers the activity <paramref name="factory"/> creates as <paramref name="name"/>; a name registered twice throws.
    /// </summary>
    public WorkflowRegistry AddActivity(string name, Func<IServiceProvider, IActivity> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (!_activities.TryAdd(name, factory))
        {
            throw new ArgumentException($"Activity '{name}' is already registered.", nameof(name));
        }

        return this;
    }

    /// <summary>Registers an activity written as a function (tests, small hosts).</summary>
    public WorkflowRegistry AddActivity<TInput, TOutput>(string name, Func<ActivityContext, TInput, Task<TOutput>> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var activity = new FuncActivity<TInput, TOutput>(run);
        return AddActivity(name, _ => activity);
    }

    /// <summary>Highest registered version of <paramref name="name"/>, or null.</summary>
    public string? LatestVersion(string name) =>
        _workflows.TryGetValue(name, out var versions) && versions.Count > 0 ? versions.Keys.Last() : null;

    /// <summary>Whether <paramref name="name"/> is registered (at <paramref name="version"/>, when given).</summary>
    public bool IsWorkflowRegistered(string name, string? version = null) =>
        _workflows.TryGetValue(name, out var versions) && (version is null || versions.ContainsKey(version));

    /// <summary>
    /// Creates the registered workflow <paramref name="name"/> at <paramref name="version"/> (null: the latest) from
    /// <paramref name="services"/>, for hosts that run workflows on another engine (Durable Functions); null when not registered.
    /// </summary>
    public IWorkflow? ResolveWorkflow(string name, string? version, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var resolved = string.IsNullOrEmpty(version) ? LatestVersion(name) : version;
        return resolved is null ? null : CreateWorkflow(name, resolved, services);
    }

    /// <summary>
    /// Creates the registered activity <paramref name="name"/> from <paramref name="services"/>; null when not registered.
    /// </summary>
    public IActivity? ResolveActivity(string name, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return CreateActivity(name, services);
    }

    internal IWorkflow? CreateWorkflow(string name, string version, IServiceProvider services) =>
        _workflows.TryGetValue(name, out var versions) && versions.TryGetValue(version, out var factory) ? factory(services) : null;

    internal IActivity? CreateActivity(string name, IServiceProvider services) =>
        _activities.TryGetValue(name, out var factory) ? factory(services) : null;

    internal string DescribeWorkflowVersions(string name) =>
        _workflows.TryGetValue(name, out var versions) ? string.Join(", ", versions.Keys) : "none";

    private sealed class FuncWorkflow<TInput, TOutput>(Func<WorkflowContext, TInput, Task<TOutput>> run) : Workflow<TInput, TOutput>
    {
        public override Task<TOutput> RunAsync(WorkflowContext context, TInput input) => run(context, input);
    }

    private sealed class FuncActivity<TInput, TOutput>(Func<ActivityContext, TInput, Task<TOutput>> run) : Activity<TInput, TOutput>
    {
        public override Task<TOutput> RunAsync(ActivityContext context, TInput input) => run(context, input);
    }

    /// <summary>Numeric-aware ordering so that "10" is newer than "9" and "1.10" newer than "1.9".</summary>
    private sealed class VersionComparer : IComparer<string>
    {
        public static VersionComparer Instance { get; } = new();

        public int Compare(string? x, string? y)
        {
            if (System.Version.TryParse(Normalize(x), out var vx) && System.Version.TryParse(Normalize(y), out var vy))
            {
                var byVersion = vx.CompareTo(vy);
                return byVersion != 0 ? byVersion : string.CompareOrdinal(x, y);
            }

            return string.CompareOrdinal(x, y);
        }

        private static string? Normalize(string? v) => v is not null && !v.Contains('.', StringComparison.Ordinal) ? v + ".0" : v;
    }
}
