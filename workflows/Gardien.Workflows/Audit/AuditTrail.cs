using System.Runtime.CompilerServices;
using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Audit;

/// <summary>
/// A custom status that can show, in its own shape, that the workflow waits for the audit trail (hosts look for
/// <see cref="AuditTrail.WaitingStage"/> in <c>Stage</c> and read what to repair from <c>Detail</c> or <c>LastRefusal</c>).
/// </summary>
public interface IWorkflowStatus
{
    string Stage { get; }

    /// <summary>This status, showing the wait for the audit trail and the log's message (<paramref name="damage"/>).</summary>
    IWorkflowStatus WaitingForAuditTrail(string damage);
}

/// <summary>The status of a workflow whose own status has no such shape (a plain stage string, or none yet).</summary>
public sealed record WorkflowStage(string Stage, string? Detail = null) : IWorkflowStatus
{
    public IWorkflowStatus WaitingForAuditTrail(string damage) => new WorkflowStage(AuditTrail.WaitingStage, damage);
}

/// <summary>
/// Audited steps when the audit trail is damaged. The log refuses to append after a damaged tail
/// (<see cref="AuditTrailDamagedException"/>), and nothing may happen unaudited, so the workflow neither fails nor goes on:
/// it shows <see cref="WaitingStage"/> with what to repair, waits until a host has verified the repaired trail and raised
/// <see cref="RepairedEventName"/> (checking again on its own every <see cref="RecheckEvery"/> as a fallback), then runs
/// the same step again. The step's side effects are idempotent and its entries carry idempotency keys, so the rerun
/// completes it exactly once. Every workflow goes through here (<c>context.AuditAsync</c> and the typed calls of the
/// activities that audit).
/// </summary>
public static class AuditTrail
{
    /// <summary>Raised by hosts on every waiting instance once the trail verifies again.</summary>
    public const string RepairedEventName = "AuditTrailRepaired";

    /// <summary>The custom-status stage of an instance waiting for the trail (every Gardien status carries a Stage).</summary>
    public const string WaitingStage = "waiting-for-audit-trail";

    /// <summary>How often a waiting instance tries again when no host tells it the trail was repaired.</summary>
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromHours(6);

    // Workflow code is replayed on one context per execution: the status it last set is part of that execution's state.
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
    /// Calls an activity that appends to the audit trail; while the trail is damaged, shows the wait (the last status's
    /// own <see cref="IWorkflowStatus.WaitingForAuditTrail"/>, or a <see cref="WorkflowStage"/>), waits for the repair and
    /// calls the activity again, then puts back the status last set with <see cref="SetStatus"/>.
    /// </summary>
    public static async Task<T> CallAsync<T>(WorkflowContext context, string activity, object input, RetryPolicy retryPolicy)
    {
        ArgumentNullException.ThrowIfNull(context);
        while (true)
        {
            try
            {
                return await context.CallActivityAsync<T>(activity, input, retryPolicy);
            }
            catch (WorkflowTaskFailedException ex) when (ex.FailureDetails.IsCausedBy<AuditTrailDamagedException>())
            {
                var damage = Damage(ex.FailureDetails);
                var before = LastStatusOf(context);
                context.SetCustomStatus(
                    before is IWorkflowStatus status ? status.WaitingForAuditTrail(damage) : new WorkflowStage(WaitingStage, damage));
                using var stop = new CancellationTokenSource();
                var repaired = context.WaitForExternalEvent<object?>(RepairedEventName, stop.Token);
                var recheck = context.CreateTimer(RecheckEvery, stop.Token);
                await Task.WhenAny(repaired, recheck);
                stop.Cancel();
                if (before is not null)
                {
                    context.SetCustomStatus(before);
                }
            }
        }
    }

    /// <summary>The log's own message (where the damage is, how to repair it).</summary>
    private static string Damage(TaskFailureDetails failure) =>
        failure.ErrorType == typeof(AuditTrailDamagedException).FullName || failure.InnerFailure is null
            ? failure.ErrorMessage
            : Damage(failure.InnerFailure);
}
