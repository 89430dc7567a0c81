using System.Globalization;
using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Retention;

/// <param name="RunAt">Time of day (UTC) of the daily run.</param>
/// <param name="NextRunOn">Day of the next run; null on the first start: today if <see cref="RunAt"/> is still ahead, else
/// tomorrow.</param>
/// <param name="StartAccessReviews">Also start the <see cref="AccessReviewWorkflow"/> of every active DMP that has none.</param>
/// <param name="Runs">Runs so far (carried over ContinueAsNew).</param>
public sealed record RetentionScheduleInput
{
    public TimeOnly RunAt { get; init; } = new(2, 0);

    public DateOnly? NextRunOn { get; init; }

    public bool StartAccessReviews { get; init; } = true;

    public int Runs { get; init; }
}

/// <summary>One daily run (the output of each execution before it continues as new).</summary>
/// <param name="Sweep">Null when starting the sweep failed after retries (see <paramref name="Failures"/>).</param>
public sealed record RetentionScheduleRun(
    DateOnly SweptOn, StartedInstance? Sweep, AccessReviewsEnsured? AccessReviews, int Runs, IReadOnlyList<string> Failures);

/// <summary>What <c>SetCustomStatus</c> shows.</summary>
public sealed record RetentionScheduleStatus(string Stage, DateTime NextRunAt, int Runs, string? Detail = null) : IWorkflowStatus
{
    public IWorkflowStatus WaitingForAuditTrail(string damage) => this with { Stage = AuditTrail.WaitingStage, Detail = damage };
}

/// <summary>
/// The daily timer of the retention sweep, as an eternal workflow (the schedule seam for hosts without a timer trigger:
/// the local host starts it once with <see cref="InstanceId"/>; Azure Functions may use a timer trigger calling
/// <see cref="RetentionService.StartSweepAsync"/> instead). Each day at <see cref="RetentionScheduleInput.RunAt"/> it starts
/// that day's <see cref="RetentionSweepWorkflow"/> (own instance, id per date, so a manual sweep the same day joins it),
/// makes sure every active DMP has its access review, and continues as new (history stays one day long).
/// A host that was down sweeps once when it comes back, for the current day: the sweep looks at everything due up to
/// the notice horizon, so missed days lose nothing.
/// </summary>
public sealed class RetentionScheduleWorkflow : Workflow<RetentionScheduleInput, RetentionScheduleRun>
{
    /// <summary>The single schedule instance.</summary>
    public const string InstanceId = "retention-schedule";

    public override async Task<RetentionScheduleRun> RunAsync(WorkflowContext context, RetentionScheduleInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var now = context.CurrentUtcDateTime;
        var today = DateOnly.FromDateTime(now);
        var day = input.NextRunOn ?? (TimeOnly.FromDateTime(now) <= input.RunAt ? today : today.AddDays(1));
        var runAt = day.ToDateTime(input.RunAt, DateTimeKind.Utc);
        context.SetStatus(new RetentionScheduleStatus("waiting", runAt, input.Runs));
        if (runAt > now)
        {
            await context.CreateTimer(runAt, CancellationToken.None);
        }

        var sweptOn = context.Today();
        context.SetStatus(new RetentionScheduleStatus("starting-sweep", runAt, input.Runs));
        var failures = new List<string>();
        var sweep = await TryAsync(() => context.StartRetentionSweepAsync(sweptOn), failures);
        var reviews = input.StartAccessReviews ? await TryAsync(context.EnsureAccessReviewsAsync, failures) : null;
        if (failures.Count > 0)
        {
            // The schedule must outlive a bad day: report and try again tomorrow (the next sweep catches up on everything due).
            await TryAsync(
                () => context.AuditAsync("retention.schedule_run_failed", "retention:schedule", after: new { date = sweptOn, failures },
                    discriminator: ":" + sweptOn.ToString("yyyyMMdd", CultureInfo.InvariantCulture)),
                failures);
        }

        var runs = input.Runs + 1;
        context.ContinueAsNew(input with { NextRunOn = sweptOn.AddDays(1), Runs = runs });
        return new RetentionScheduleRun(sweptOn, sweep, reviews, runs, failures);
    }

    private static async Task<T?> TryAsync<T>(Func<Task<T>> call, List<string> failures)
        where T : class
    {
        try
        {
            return await call();
        }
        catch (WorkflowTaskFailedException ex)
        {
            failures.Add(ex.Message);
            return null;
        }
    }
}
