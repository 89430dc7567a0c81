using System.Runtime.CompilerServices;
using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Audit;

/// <summary>
/// Audited steps when the audit trail is damaged. The log refuses to append after a damaged tail
/// (<see cref="AuditTrailDamagedException"/>), and nothing may happen unaudited, so the workflow neither fails nor goes on:
/// it shows <see cref="WaitingStage"/> with what to repair, waits until a host has verified the repaired trail and raised
/// <see cref="RepairedEventName"/> (checking again on its own every <see cref="RecheckEvery"/> as a fallback), then runs
/// the same step again. The step's side effects are idempotent and its entries carry idempotency keys, so the rerun
/// completes it exactly once.
/// </summary>
public static class AuditTrail
{
    /// <summary>Raised by hosts on every waiting instance once the trail verifies again.</summary>
    public const string RepairedEventName = "AuditTrailRepaired";

    /// <summary>The custom-status stage of an instance waiting for the trail (intake, update and approval statuses all carry a Stage).</summary>
    public const string WaitingStage = "waiting-for-audit-trail";

    /// <summary>How often a waiting instance tries again when no host tells it the trail was repaired.</summary>
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromHours(6);

    private static readonly ConditionalWeakTable<WorkflowContext, object> LastStatus = [];

    /// <summary>Sets the instance's custom status and remembers it, so that a wait for the audit trail can put it back.</summary>
    public static void SetStatus(WorkflowContext context, object status)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(status);
        LastStatus.AddOrUpdate(context, status);
        context.SetCustomStatus(status);
    }

    /// <summary>The status last set with <see cref="SetStatus"/>, if any.</summary>
    public static object? LastStatusOf(WorkflowContext context) =>
        LastStatus.TryGetValue(context, out var status) ? status : null;

    /// <summary>
    /// Calls an activity that appends to the audit trail; while the trail is damaged, shows <paramref name="waiting"/>
    /// (given the log's message: where the damage is, how to repair it), waits for the repair and calls the activity
    /// again, then puts back the status last set with <see cref="SetStatus"/>.
    /// </summary>
    public static async Task<T> CallAsync<T>(WorkflowContext context, string activity, object input, RetryPolicy retryPolicy, Func<string, object> waiting)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(waiting);
        while (true)
        {
            try
            {
                return await context.CallActivityAsync<T>(activity, input, retryPolicy);
            }
            catch (WorkflowTaskFailedException ex) when (ex.FailureDetails.IsCausedBy<AuditTrailDamagedException>())
            {
                context.SetCustomStatus(waiting(Damage(ex.FailureDetails)));
                using var stop = new CancellationTokenSource();
                var repaired = context.WaitForExternalEvent<object?>(RepairedEventName, stop.Token);
                var recheck = context.CreateTimer(RecheckEvery, stop.Token);
                await Task.WhenAny(repaired, recheck);
                stop.Cancel();
                if (LastStatus.TryGetValue(context, out var before))
                {
                    context.SetCustomStatus(before);
                }
            }
        }
    }

    /// <summary>The log's own message (where the damage is, how to repair it).</summary>
    private static string Damage(TaskFailureDetails failure) =>
        failure.ErrorType == typeof(AuditTrailDamagedException).FullName || failure.InnerFailure is null ? failure.ErrorMessage : Damage(failure.InnerFailure);
}
