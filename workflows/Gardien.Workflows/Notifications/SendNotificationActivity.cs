using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Notifications;

/// <summary>Sends one message. Idempotent through <see cref="Notification.DeduplicationKey"/> (an activity retry never spams).</summary>
public sealed class SendNotificationActivity(INotifier notifier) : Activity<Notification, NotificationReceipt>
{
    public override Task<NotificationReceipt> RunAsync(ActivityContext context, Notification input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return notifier.SendAsync(input, context.CancellationToken);
    }
}
