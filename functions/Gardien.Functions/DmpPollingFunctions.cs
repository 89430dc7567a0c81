using Gardien.Workflows.Hosting.DmpPolling;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Gardien.Functions;

/// <summary>
/// DMP tools send no webhooks: on its own schedule (<c>DmpPolling__Schedule</c>, NCRONTAB) the poller asks each tool for
/// plans changed since its checkpoint and publishes one CloudEvent per new version to the DMP topic, which delivers them
/// to the <c>gardien-dmp-events</c> queue and so to <c>OnDmpEvent</c>. Two timers firing at once cannot move a
/// checkpoint past what either published (optimistic writes); a version published twice starts nothing twice.
/// </summary>
public sealed class DmpPollingFunctions(DmpToolPoller poller, ILogger<DmpPollingFunctions> logger)
{
    /// <summary>The app setting holding the schedule (the timer reads it as <c>%DmpPolling__Schedule%</c>).</summary>
    public const string ScheduleSetting = "DmpPolling__Schedule";

    [Function("DmpToolPollTimer")]
    public async Task PollAsync([TimerTrigger("%" + ScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        // A tool that fails stops only itself and keeps its checkpoint (the poller logs why); the next tick starts there.
        var results = await poller.PollAsync(cancellationToken).ConfigureAwait(false);
        foreach (var result in results)
        {
            logger.LogInformation(
                "DMP tool {Tool}: {Published} versions published, {Skipped} skipped, checkpoint {Watermark}{Error} (late: {IsPastDue}).",
                result.Tool,
                result.Published.Count,
                result.Skipped.Count,
                result.Watermark,
                result.Error is null ? string.Empty : ", stopped: " + result.Error,
                timer?.IsPastDue ?? false);
        }
    }
}
