using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Intake;

public sealed record WriteBackDmpInput(string DmpId, string DatasetId, Uri Location, string Container, DateTimeOffset At, string Actor);

/// <summary>
/// Writes the provisioned location, storage type and backup frequency of one dataset back to the DMP tool. Idempotent
/// merge; audited on every run with the entry's idempotency key (the log keeps the first), so a crash after the merge
/// cannot lose the entry even though the next run finds nothing left to change.
/// </summary>
public sealed class WriteBackDmpActivity(
    IDmpToolClient dmpTool,
    IAuditLog audit,
    GardienWorkflowOptions options) : Activity<WriteBackDmpInput, OperationResult>
{
    public override async Task<OperationResult> RunAsync(ActivityContext context, WriteBackDmpInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var writeBack = new DmpWriteBack(
            input.DatasetId,
            input.Location,
            options.StorageType,
            options.BackupFrequency,
            input.Location.GetLeftPart(UriPartial.Authority) + "/" + input.Container);
        var result = await dmpTool.WriteBackAsync(input.DmpId, writeBack, context.CancellationToken);
        await audit.AppendAsync(
            AuditEntries.Create(
                input.Actor,
                "dmp.written_back",
                context.InstanceId,
                AuditEntries.DatasetSubject(input.DmpId, input.DatasetId),
                input.At.UtcDateTime,
                after: new { hostUrl = input.Location, storageType = writeBack.StorageType, backupFrequency = writeBack.BackupFrequency }),
            context.CancellationToken);
        return result;
    }
}
