using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gardien.Runtime.Engine;

namespace Gardien.Runtime.Tests;

public sealed class ObservabilityTests
{
    [Fact]
    public async Task Engine_EmitsStepAndActivitySpans_AndStartedCompletedFailedCountersAndActivityLatency()
    {
        var spans = new ConcurrentBag<Activity>();
        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => source.Name == WorkflowEngineTelemetry.Name,
            Sample = (ref ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(tracing);
        var measurements = new ConcurrentBag<(string Name, double Value, string? Workflow)>();
        using var metrics = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == WorkflowEngineTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        metrics.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Add((i.Name, v, Tag(tags))));
        metrics.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Add((i.Name, v, Tag(tags))));
        metrics.Start();

        await using var harness = await EngineHarness.StartFakeTimeAsync(r => r
            .AddActivity<string, string>("Echo", (_, s) => Task.FromResult(s))
            .AddWorkflow<string, string>("ObservedOk", (ctx, s) => ctx.CallActivityAsync<string>("Echo", s))
            .AddWorkflow<string, string>("ObservedFail", (_, _) => throw new InvalidOperationException("nope")));
        var ok = await harness.Client.ScheduleNewAsync("ObservedOk", "x", "obs-ok");
        await harness.CompletionAsync(ok);
        await harness.CompletionAsync(await harness.Client.ScheduleNewAsync("ObservedFail", "x", "obs-fail"));
        metrics.RecordObservableInstruments();

        Assert.Contains(measurements, m => m.Name == WorkflowEngineTelemetry.StartedCounter && m.Workflow == "ObservedOk");
        Assert.Contains(measurements, m => m.Name == WorkflowEngineTelemetry.CompletedCounter && m.Workflow == "ObservedOk");
        Assert.Contains(measurements, m => m.Name == WorkflowEngineTelemetry.FailedCounter && m.Workflow == "ObservedFail");
        Assert.Contains(measurements, m => m.Name == WorkflowEngineTelemetry.ActivityDurationHistogram);
        Assert.Contains(measurements, m => m.Name == WorkflowEngineTelemetry.QueueDepthGauge);
        Assert.Contains(
            spans,
            s => s.OperationName == WorkflowEngineTelemetry.WorkflowStepSpan
                && (string?)s.GetTagItem(WorkflowEngineTelemetry.InstanceIdTag) == ok);
        Assert.Contains(
            spans,
            s => s.OperationName == WorkflowEngineTelemetry.ActivitySpan
                && (string?)s.GetTagItem(WorkflowEngineTelemetry.ActivityNameTag) == "Echo");
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == WorkflowEngineTelemetry.WorkflowNameTag)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
