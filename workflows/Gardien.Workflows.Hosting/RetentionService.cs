using System.Runtime.CompilerServices;
using System.Text.Json;
using Gardien.Runtime;
using Gardien.Workflows.Access;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;

namespace Gardien.Workflows.Hosting;

/// <summary>A deletion certificate as stored in the audit trail (the entry's sequence and chain hash locate and vouch for it).</summary>
public sealed record StoredDeletionCertificate(long Sequence, string Hash, string Location, DeletionCertificate Certificate);

/// <summary>
/// Host-side entry points of the retention and access-review workflows (CLI, local host, Functions triggers):
/// start or run a sweep (optionally dry), start the daily schedule and access reviews, read deletion certificates.
/// Never throws for a missing dataset or certificate (returns null); a sweep that fails throws
/// <see cref="InvalidOperationException"/> saying which instance failed and why.
/// </summary>
public sealed class RetentionService(IWorkflowClient client, IGovernanceRegistry registry, IAuditLog audit)
{
    /// <summary>
    /// Starts the sweep of <paramref name="date"/> and returns its instance id. A real sweep has one id per date (a second
    /// start joins the first); a dry run gets a fresh id each time (it changes nothing and may be repeated at will).
    /// </summary>
    public async Task<string> StartSweepAsync(DateOnly date, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var instanceId = dryRun
            ? RetentionSweepWorkflow.DryRunInstanceIdFor(date, Guid.NewGuid().ToString("N")[..12])
            : RetentionSweepWorkflow.InstanceIdFor(date);
        return await client.ScheduleNewAsync(
            nameof(RetentionSweepWorkflow),
            new RetentionSweepInput(date, dryRun),
            instanceId,
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the sweep (see <see cref="StartSweepAsync"/>) and waits for its report; a dry run's instance is purged
    /// afterwards. Cases a real sweep opens run on their own.
    /// </summary>
    public async Task<RetentionSweepReport> RunSweepAsync(DateOnly date, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var instanceId = await StartSweepAsync(date, dryRun, cancellationToken).ConfigureAwait(false);
        var done = await client.WaitForCompletionAsync(instanceId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (done.Status != WorkflowStatus.Completed || done.ReadOutputAs<RetentionSweepReport>() is not { } report)
        {
            throw new InvalidOperationException(
                $"Retention sweep '{instanceId}' ended {done.Status}: {done.FailureDetails?.ToString() ?? "no report"}. "
                + "See the instance's history; fix the cause and run the sweep again (it is idempotent).");
        }

        if (dryRun)
        {
            // A dry run leaves nothing behind, not even its own instance.
            await client.PurgeAsync(instanceId, cancellationToken).ConfigureAwait(false);
        }

        return report;
    }

    /// <summary>
    /// Starts the eternal daily schedule (<see cref="RetentionScheduleWorkflow"/>, which also starts the access reviews)
    /// unless it runs; returns its instance id. Hosts call it at every start: a running schedule is left alone, a failed one
    /// is started afresh (its history is purged), and one an operator terminated stays stopped until purged.
    /// </summary>
    public async Task<string> EnsureScheduleAsync(RetentionScheduleInput? input = null, CancellationToken cancellationToken = default)
    {
        var existing = await client
            .GetInstanceAsync(RetentionScheduleWorkflow.InstanceId, getInputsAndOutputs: false, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (existing is { Status: WorkflowStatus.Failed })
        {
            await client.PurgeAsync(RetentionScheduleWorkflow.InstanceId, cancellationToken).ConfigureAwait(false);
        }

        return await client
            .ScheduleNewAsync(
                nameof(RetentionScheduleWorkflow), input ?? new RetentionScheduleInput(), RetentionScheduleWorkflow.InstanceId,
                cancellationToken: cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Starts the periodic access review of one DMP (one instance per DMP, idempotent); returns its instance id.</summary>
    public Task<string> StartAccessReviewAsync(string dmpId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        return client.ScheduleNewAsync(
            nameof(AccessReviewWorkflow),
            new AccessReviewInput(dmpId),
            AccessReviewWorkflow.InstanceIdFor(dmpId),
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// The deletion certificate of a dataset: the audit entry whose sequence the registry recorded on the dataset, or, when
    /// that is missing, the latest certificate entry for the dataset in the audit trail. Null when there is none.
    /// </summary>
    public async Task<StoredDeletionCertificate?> GetCertificateAsync(
        string dmpId,
        string datasetId,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dmpId);
        ArgumentException.ThrowIfNullOrWhiteSpace(datasetId);
        var dataset = await registry.GetDatasetAsync(dmpId, datasetId, cancellationToken).ConfigureAwait(false);
        if (dataset?.DeletionCertificateSequence is { } sequence)
        {
            await foreach (var stored in ListCertificatesAsync(sequence, cancellationToken).ConfigureAwait(false))
            {
                if (stored.Sequence == sequence && stored.Certificate.DmpId == dmpId && stored.Certificate.DatasetId == datasetId)
                {
                    return stored;
                }

                break;
            }
        }

        StoredDeletionCertificate? latest = null;
        await foreach (var stored in ListCertificatesAsync(1, cancellationToken).ConfigureAwait(false))
        {
            if (stored.Certificate.DmpId == dmpId && stored.Certificate.DatasetId == datasetId)
            {
                latest = stored;
            }
        }

        return latest;
    }

    /// <summary>Every deletion certificate in the audit trail from <paramref name="fromSequence"/>, in chain order.</summary>
    public async IAsyncEnumerable<StoredDeletionCertificate> ListCertificatesAsync(
        long fromSequence = 1,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var record in audit.ReadAsync(fromSequence, cancellationToken).ConfigureAwait(false))
        {
            if (record.Entry.Action == WriteDeletionCertificateActivity.AuditAction
                && ReadCertificate(record.Entry.After) is { } certificate)
            {
                yield return new StoredDeletionCertificate(record.Sequence, record.Hash, record.Location, certificate);
            }
        }
    }

    private static DeletionCertificate? ReadCertificate(JsonElement? after)
    {
        if (after is not { ValueKind: JsonValueKind.Object } element)
        {
            return null;
        }

        try
        {
            return DeletionCertificate.FromJson(element);
        }
        catch (JsonException)
        {
            // An entry that claims to be a certificate but is not readable: skip it (audit verify reports tampering).
            return null;
        }
    }
}
