using Gardien.Workflows.Access;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;

namespace Gardien.Functions.Tests.Triggers;

public sealed class TimerFunctionsTests
{
    [Fact]
    public async Task RetentionSweepTimer_FiringTwiceTheSameDay_StartsOneSweep_AndTheNextDayAnother()
    {
        var host = new TriggerHost();

        await host.Timers.RetentionSweepAsync(null!, host.Durable.Client, CancellationToken.None);
        host.Time.Advance(TimeSpan.FromMinutes(10));
        await host.Timers.RetentionSweepAsync(null!, host.Durable.Client, CancellationToken.None);
        host.Time.Advance(TimeSpan.FromDays(1));
        await host.Timers.RetentionSweepAsync(null!, host.Durable.Client, CancellationToken.None);

        Assert.Equal(
            [
                RetentionSweepWorkflow.InstanceIdFor(new DateOnly(2030, 1, 1)),
                RetentionSweepWorkflow.InstanceIdFor(new DateOnly(2030, 1, 2)),
            ],
            host.Durable.Started.Keys.Order(StringComparer.Ordinal));
        Assert.All(host.Durable.Started.Values, s => Assert.Equal(nameof(RetentionSweepWorkflow), s.Name));
    }

    [Fact]
    public async Task AccessReviewTimer_StartsOneReviewPerActiveDmp_EvenWhenFiredTwice()
    {
        var host = new TriggerHost();
        host.Fakes.Dmps["dmp-a"] = new DmpRecord { DmpId = "dmp-a", State = DmpState.Active };
        host.Fakes.Dmps["dmp-b"] = new DmpRecord { DmpId = "dmp-b", State = DmpState.Active };
        host.Fakes.Dmps["dmp-old"] = new DmpRecord { DmpId = "dmp-old", State = DmpState.Disposed };

        await Task.WhenAll(
            host.Timers.AccessReviewsAsync(null!, host.Durable.Client, CancellationToken.None),
            host.Timers.AccessReviewsAsync(null!, host.Durable.Client, CancellationToken.None));

        Assert.Equal(
            new[] { AccessReviewWorkflow.InstanceIdFor("dmp-a"), AccessReviewWorkflow.InstanceIdFor("dmp-b") }.Order(
                StringComparer.Ordinal),
            host.Durable.Started.Keys.Order(StringComparer.Ordinal));
    }
}
