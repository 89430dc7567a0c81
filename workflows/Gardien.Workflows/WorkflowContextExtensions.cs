using System.Runtime.CompilerServices;
using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Notifications;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows;

/// <summary>
/// What every Gardien workflow does through its context: read the replay-safe time, show its status, audit, and send
/// messages. The typed calls of each capability's activities (<c>context.ProvisionContainerAsync(input)</c>,
/// <c>context.GrantAccessBatchAsync(input)</c>…) live beside those activities, in the capability's <c>*Calls.cs</c>.
/// </summary>
public static class WorkflowContextExtensions
{
    // Like the last status (AuditTrail), the undelivered messages belong to one execution of the workflow code.
    private static readonly ConditionalWeakTable<WorkflowContext, List<NotificationFailure>> Undelivered = [];

    /// <summary>The replay-safe current time (the time the current step started).</summary>
    public static DateTimeOffset UtcNow(this WorkflowContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.CurrentUtcDateTime.AsUtc();
    }

    /// <summary>The replay-safe current date (UTC).</summary>
    public static DateOnly Today(this WorkflowContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return DateOnly.FromDateTime(context.CurrentUtcDateTime);
    }

    /// <summary>The start of a day (00:00 UTC), the instant the workflows' date-based timers fire.</summary>
    public static DateTime Midnight(this DateOnly date) => date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

    /// <summary>A workflow time (<see cref="WorkflowContext.CurrentUtcDateTime"/>, a timer's due time) as the UTC instant it is.</summary>
    public static DateTimeOffset AsUtc(this DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));

    /// <summary>"system:{workflow}": the actor of what the running workflow decides itself.</summary>
    public static string SystemActor(this WorkflowContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return GardienWorkflowOptions.SystemActor(context.Name);
    }

    /// <summary>Shows <paramref name="status"/> to hosts (and puts it back after a wait for the audit trail).</summary>
    public static void SetStatus(this WorkflowContext context, object status) => AuditTrail.SetStatus(context, status);

    /// <summary>
    /// Calls an activity that appends to the audit trail: while the trail is damaged the workflow waits for its repair
    /// instead of failing (<see cref="AuditTrail"/>), then runs the step again.
    /// </summary>
    public static Task<T> CallAuditedAsync<T>(this WorkflowContext context, string activity, object input, RetryPolicy retryPolicy) =>
        AuditTrail.CallAsync<T>(context, activity, input, retryPolicy);

    /// <summary>Appends an entry to the audit trail (waiting for the repair of a damaged trail).</summary>
    public static Task<AuditReceipt> AuditAsync(this WorkflowContext context, AuditEntry entry) =>
        context.CallAuditedAsync<AuditReceipt>(nameof(WriteAuditActivity), entry, ActivityRetryPolicies.Persistent);

    /// <summary>
    /// Appends "<paramref name="action"/> on <paramref name="subject"/>" at the workflow's time, by <paramref name="actor"/>
    /// (default: the workflow itself), with the idempotency key <c>{instance}:{action}:{subject}{discriminator}</c>.
    /// </summary>
    public static Task<AuditReceipt> AuditAsync(
        this WorkflowContext context,
        string action,
        string subject,
        object? before = null,
        object? after = null,
        string? actor = null,
        string? discriminator = null,
        string? correlationId = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.AuditAsync(AuditEntries.Create(
            actor ?? context.SystemActor(),
            action,
            context.InstanceId,
            subject,
            context.CurrentUtcDateTime,
            before,
            after,
            correlationId,
            discriminator));
    }

    /// <summary>
    /// Sends <paramref name="message"/> to <paramref name="to"/> (blank and repeated addresses dropped), deduplicated by
    /// <c>{instance}:{step}</c>. A message never fails the workflow: transient failures are retried, and a message that
    /// still cannot be delivered (or has nobody to go to) is audited <c>notification.failed</c> on
    /// <paramref name="about"/> (recipients, kind, subject, reason), remembered for <see cref="UndeliveredNotifications"/>,
    /// and the workflow carries on. Returns null when it was delivered, else why not.
    /// </summary>
    public static async Task<NotificationFailure?> NotifyAsync(
        this WorkflowContext context, Message message, IEnumerable<string?> to, string step, string about)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(to);
        var recipients = to.OfType<string>().Where(r => !string.IsNullOrWhiteSpace(r)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        string reason;
        if (recipients.Count == 0)
        {
            reason = "it has no recipient";
        }
        else
        {
            try
            {
                var notification = new Notification(
                    message.Kind,
                    recipients,
                    message.Subject,
                    message.Body,
                    message.Links,
                    context.InstanceId,
                    $"{context.InstanceId}:{step}",
                    message.Language);
                await context.CallActivityAsync<NotificationReceipt>(
                    nameof(SendNotificationActivity), notification, ActivityRetryPolicies.Transient);
                return null;
            }
            catch (WorkflowTaskFailedException ex)
            {
                reason = FailureMessages.ForUser(ex.FailureDetails);
            }
        }

        var failure = new NotificationFailure(message.Kind, recipients, message.Subject, step, reason);
        Undelivered.GetOrCreateValue(context).Add(failure);
        await context.AuditAsync(
            "notification.failed",
            about,
            after: new { to = recipients, kind = message.Kind.ToString(), subject = message.Subject, step, reason },
            discriminator: ":" + step);
        return failure;
    }

    /// <summary>The messages this execution could not deliver (each also audited), for the workflow's output and status.</summary>
    public static IReadOnlyList<NotificationFailure> UndeliveredNotifications(this WorkflowContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Undelivered.TryGetValue(context, out var failures) ? [.. failures] : [];
    }
}
