using Gardien.Functions.Durable;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Gardien.Functions;

/// <summary>
/// The schedules. Each start is idempotent per period (the sweep has one instance id per date, an access review one per
/// DMP), so a timer that fires twice, or on two instances of the app, starts nothing twice. They replace the local
/// host's eternal <c>RetentionScheduleWorkflow</c>; both may run side by side without doubling a sweep.
/// </summary>
public sealed class TimerFunctions(
    DurableWorkflowHost host,
    IGovernanceRegistry registry,
    TimeProvider time,
    ILogger<TimerFunctions> logger)
{
    /// <summary>Every day at 02:00 UTC.</summary>
    public const string RetentionSweepSchedule = "0 0 2 * * *";

    /// <summary>Every day at 02:30 UTC, after the sweep.</summary>
    public const string AccessReviewSchedule = "0 30 2 * * *";

    [Function("RetentionSweepTimer")]
    public async Task RetentionSweepAsync(
        [TimerTrigger(RetentionSweepSchedule)] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var retention = host.Create<RetentionService>(host.CreateClient(client));
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var instanceId = await retention.StartSweepAsync(today, cancellationToken: cancellationToken).ConfigureAwait(false);
        logger.LogInformation(
            "Retention sweep of {Date} is {InstanceId} (late timer: {IsPastDue}).", today, instanceId, timer?.IsPastDue ?? false);
    }

    [Function("AccessReviewTimer")]
    public async Task AccessReviewsAsync(
        [TimerTrigger(AccessReviewSchedule)] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var retention = host.Create<RetentionService>(host.CreateClient(client));
        var active = await registry.ListDmpsAsync(DmpState.Active, cancellationToken).ConfigureAwait(false);
        foreach (var dmp in active.OrderBy(d => d.DmpId, StringComparer.Ordinal))
        {
            await retention.StartAccessReviewAsync(dmp.DmpId, cancellationToken).ConfigureAwait(false);
        }

        logger.LogInformation(
            "Access reviews ensured for {Count} active DMPs (late timer: {IsPastDue}).", active.Count, timer?.IsPastDue ?? false);
    }
}
