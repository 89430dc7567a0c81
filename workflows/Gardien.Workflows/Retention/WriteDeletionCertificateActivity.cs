using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Retention;

/// <param name="Sequence">Audit sequence of the certificate entry (also recorded on the dataset).</param>
public sealed record CertificateReceipt(long Sequence, string Hash, string Location, string CertificateId);

/// <summary>
/// Writes the deletion certificate to the audit trail (action <c>dataset.disposal_certificate</c>, the certificate
/// as the entry's <c>After</c>; the hash chain makes it tamper-evident) and records its sequence on the dataset.
/// Idempotent by the certificate id.
/// </summary>
public sealed class WriteDeletionCertificateActivity(
    IAuditLog audit,
    IGovernanceRegistry registry) : Activity<DeletionCertificate, CertificateReceipt>
{
    public const string AuditAction = "dataset.disposal_certificate";

    public override async Task<CertificateReceipt> RunAsync(ActivityContext context, DeletionCertificate input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var receipt = await audit.AppendAsync(
            new AuditEntry(
                input.Actor,
                AuditAction,
                input.InstanceId,
                AuditEntries.DatasetSubject(input.DmpId, input.DatasetId),
                input.IssuedAt,
                After: input.ToJsonElement(),
                IdempotencyKey: "certificate:" + input.CertificateId),
            ct);
        var dataset = await registry.GetDatasetAsync(input.DmpId, input.DatasetId, ct);
        if (dataset is not null && dataset.DeletionCertificateSequence != receipt.Sequence)
        {
            await registry.UpsertDatasetAsync(dataset with { DeletionCertificateSequence = receipt.Sequence, ETag = null }, ct);
        }

        return new CertificateReceipt(receipt.Sequence, receipt.Hash, receipt.Location, input.CertificateId);
    }
}
