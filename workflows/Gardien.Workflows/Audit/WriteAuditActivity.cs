using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Audit;

/// <summary>
/// Appends a decision or action to the audit trail. Idempotent: an entry without an idempotency key gets the activity's
/// own key, so a redelivered call never writes the entry twice.
/// </summary>
public sealed class WriteAuditActivity(IAuditLog audit) : Activity<AuditEntry, AuditReceipt>
{
    public override Task<AuditReceipt> RunAsync(ActivityContext context, AuditEntry input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var entry = input.IdempotencyKey is null ? input with { IdempotencyKey = context.IdempotencyKey } : input;
        return audit.AppendAsync(entry, context.CancellationToken);
    }
}
