using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gardien.Runtime.Engine;

/// <summary>Names of the engine's traces and metrics (subscribe with OpenTelemetry: AddSource / AddMeter).</summary>
public static class WorkflowEngineTelemetry
{
    /// <summary>ActivitySource and Meter name.</summary>
    public const string Name = "Gardien.Runtime";

    public const string WorkflowStepSpan = "gardien.workflow.step";
    public const string ActivitySpan = "gardien.activity";
    public const string StartedCounter = "gardien.workflow.started";
    public const string CompletedCounter = "gardien.workflow.completed";
    public const string FailedCounter = "gardien.workflow.failed";
    public const string ActivityDurationHistogram = "gardien.activity.duration";
    public const string QueueDepthGauge = "gardien.queue.depth";

    public const string InstanceIdTag = "gardien.instance_id";
    public const string WorkflowNameTag = "gardien.workflow.name";
    public const string ActivityNameTag = "gardien.activity.name";
    public const string QueueTag = "gardien.queue";

    internal static readonly ActivitySource Source = new(Name);
}

internal sealed class WorkflowEngineMetrics : IDisposable
{
    private readonly Meter _meter = new(WorkflowEngineTelemetry.Name);
    private long _workflowQueueDepth;
    private long _activityQueueDepth;

    public WorkflowEngineMetrics()
    {
        Started = _meter.CreateCounter<long>(WorkflowEngineTelemetry.StartedCounter, "{instance}", "Workflow executions started.");
        Completed = _meter.CreateCounter<long>(
            WorkflowEngineTelemetry.CompletedCounter, "{instance}", "Workflow executions completed successfully.");
        Failed = _meter.CreateCounter<long>(WorkflowEngineTelemetry.FailedCounter, "{instance}", "Workflow executions failed.");
        ActivityDuration = _meter.CreateHistogram<double>(
            WorkflowEngineTelemetry.ActivityDurationHistogram, "ms", "Activity execution time.");
        _meter.CreateObservableGauge(
            WorkflowEngineTelemetry.QueueDepthGauge,
            () => new[]
            {
                new Measurement<long>(
                    Interlocked.Read(ref _workflowQueueDepth),
                    new KeyValuePair<string, object?>(WorkflowEngineTelemetry.QueueTag, "workflow")),
                new Measurement<long>(
                    Interlocked.Read(ref _activityQueueDepth),
                    new KeyValuePair<string, object?>(WorkflowEngineTelemetry.QueueTag, "activity")),
            },
            "{message}",
            "Messages waiting in the store (last refresh).");
    }

    public Counter<long> Started { get; }

    public Counter<long> Completed { get; }

    public Counter<long> Failed { get; }

    public Histogram<double> ActivityDuration { get; }

    public void SetQueueDepth(long workflow, long activity)
    {
        Interlocked.Exchange(ref _workflowQueueDepth, workflow);
        Interlocked.Exchange(ref _activityQueueDepth, activity);
    }

    public void Dispose() => _meter.Dispose();
}
