using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Retention;

/// <param name="KeepUntil">The keep-until the case was opened for: a different registry date (an extension) refuses.</param>
/// <param name="PurgeNotBefore">Delete only: end of the grace period (phase 2 not before).</param>
/// <param name="At">Workflow time (replay-safe): the guard's "today" and every timestamp.</param>
public sealed record DisposeDatasetInput(
    string DmpId,
    string DatasetId,
    DateOnly KeepUntil,
    DateTimeOffset At,
    DateTimeOffset? PurgeNotBefore,
    string Actor);

public enum DisposalStepOutcome
{
    Done,
    AlreadyDone,
    Refused,
}

/// <param name="Decision">The guard's decision, re-evaluated here from fresh facts.</param>
/// <param name="Manifest">The container's content at this step (what a certificate reports).</param>
public sealed record DisposalStepResult(
    DisposalStepOutcome Outcome,
    DisposalDecision Decision,
    DisposalAction Action,
    ContainerManifest? Manifest,
    string Container,
    string Detail);

/// <summary>
/// Disposal phase 1, per the dataset's plan: Delete marks the container for deletion (data stays until the purge),
/// Archive moves every blob to the archive tier and keeps it, Publish records the hand-off to the repository.
/// Re-reads the registry and the hold status and runs <see cref="DisposalGuard"/> itself before touching storage: it
/// refuses (and audits the refusal) whatever the caller decided. Idempotent.
/// </summary>
public sealed class DisposeDatasetActivity(
    IGovernanceRegistry registry,
    IStorageProvisioner storage,
    IAuditLog audit) : Activity<DisposeDatasetInput, DisposalStepResult>
{
    public override async Task<DisposalStepResult> RunAsync(ActivityContext context, DisposeDatasetInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var dataset = await registry.GetDatasetAsync(input.DmpId, input.DatasetId, ct)
            ?? throw new PortNotFoundException(
                $"Dataset '{input.DatasetId}' of DMP '{input.DmpId}' is not in the registry; nothing can be disposed of.");
        var facts = await DisposalFactsReader.ReadAsync(registry, storage, dataset, input.KeepUntil, ct);
        var decision = DisposalGuard.Evaluate(facts, DateOnly.FromDateTime(input.At.UtcDateTime));
        var subject = AuditEntries.DatasetSubject(input.DmpId, input.DatasetId);

        // Phase 1 already done (a redelivery): report it, change nothing but the audit entry, appended again with its
        // key so that a crash between the registry write and the entry cannot lose it (the log keeps the first).
        if (dataset.State == DatasetState.MarkedForDeletion && dataset.Disposal == DisposalAction.Delete && decision.Allowed)
        {
            var marked = await storage.ComputeManifestAsync(dataset.Container, ct);
            await audit.AppendAsync(
                AuditEntries.Create(input.Actor, "dataset.marked_for_deletion", context.InstanceId, subject, input.At.UtcDateTime,
                    after: new
                    {
                        state = dataset.State.ToString(),
                        purgeNotBefore = input.PurgeNotBefore,
                        blobCount = marked.BlobCount,
                        totalBytes = marked.TotalBytes,
                        manifestSha256 = marked.ManifestSha256,
                    }),
                ct);
            return new DisposalStepResult(
                DisposalStepOutcome.AlreadyDone, decision, dataset.Disposal, marked, dataset.Container, "Already marked for deletion.");
        }

        // Archived or handed over for publication by this very request (a redelivery): the same, for its entry.
        if (dataset.State is DatasetState.Archived or DatasetState.Published && dataset.DisposedAt == input.At)
        {
            var done = await storage.ComputeManifestAsync(dataset.Container, ct);
            await audit.AppendAsync(
                AuditEntries.Create(
                    input.Actor,
                    dataset.State == DatasetState.Archived ? "dataset.archived" : "dataset.publication_handoff",
                    context.InstanceId,
                    subject,
                    input.At.UtcDateTime,
                    after: new
                    {
                        state = dataset.State.ToString(),
                        blobCount = done.BlobCount,
                        totalBytes = done.TotalBytes,
                        manifestSha256 = done.ManifestSha256,
                    }),
                ct);
            return new DisposalStepResult(
                DisposalStepOutcome.AlreadyDone,
                decision,
                dataset.Disposal,
                done,
                dataset.Container,
                $"Already {dataset.State.ToString().ToLowerInvariant()}.");
        }

        if (!decision.Allowed)
        {
            await audit.AppendAsync(
                AuditEntries.Create(input.Actor, "dataset.disposal_refused", context.InstanceId, subject, input.At.UtcDateTime,
                    before: new
                    {
                        state = dataset.State.ToString(),
                        keepUntil = dataset.KeepUntil,
                        legalHold = facts.RegistryLegalHold || facts.StorageLegalHold,
                        openCase = facts.OpenCaseId,
                    },
                    after: new
                    {
                        verdict = decision.Verdict.ToString(),
                        reason = decision.Reason,
                        missing = decision.MissingRoles,
                        step = "phase1",
                    }),
                ct);
            return new DisposalStepResult(
                decision.Verdict == DisposalVerdict.AlreadyDisposed ? DisposalStepOutcome.AlreadyDone : DisposalStepOutcome.Refused,
                decision, dataset.Disposal, null, dataset.Container, decision.Reason);
        }

        var manifest = await storage.ComputeManifestAsync(dataset.Container, ct);
        DatasetRecord updated;
        string action;
        object after;
        switch (dataset.Disposal)
        {
            case DisposalAction.Delete:
                var purgeNotBefore = input.PurgeNotBefore
                    ?? throw new NonRetryableActivityException("A deletion needs the end of its grace period (PurgeNotBefore).");
                await storage.MarkForDeletionAsync(
                    dataset.Container, purgeNotBefore, $"Retention ended {input.KeepUntil:yyyy-MM-dd}; case {context.InstanceId}", ct);
                updated = dataset with { State = DatasetState.MarkedForDeletion, UpdatedAt = input.At };
                action = "dataset.marked_for_deletion";
                after = new
                {
                    state = updated.State.ToString(),
                    purgeNotBefore,
                    blobCount = manifest.BlobCount,
                    totalBytes = manifest.TotalBytes,
                    manifestSha256 = manifest.ManifestSha256,
                };
                break;
            case DisposalAction.Archive:
                await storage.SetTierAsync(dataset.Container, StorageTier.Archive, ct);
                updated = dataset with { State = DatasetState.Archived, DisposedAt = input.At, UpdatedAt = input.At };
                action = "dataset.archived";
                after = new
                {
                    state = updated.State.ToString(),
                    tier = StorageTier.Archive.ToString(),
                    blobCount = manifest.BlobCount,
                    totalBytes = manifest.TotalBytes,
                    manifestSha256 = manifest.ManifestSha256,
                };
                break;
            default:
                // Publication itself happens in the repository: Gardien records the hand-off (what, which content) and keeps the data.
                updated = dataset with { State = DatasetState.Published, DisposedAt = input.At, UpdatedAt = input.At };
                action = "dataset.publication_handoff";
                after = new
                {
                    state = updated.State.ToString(),
                    handoff = new
                    {
                        dmpId = dataset.DmpId,
                        datasetId = dataset.DatasetId,
                        container = dataset.Container,
                        embargoUntil = dataset.EmbargoUntil,
                        blobCount = manifest.BlobCount,
                        totalBytes = manifest.TotalBytes,
                        manifestSha256 = manifest.ManifestSha256,
                    },
                };
                break;
        }

        await registry.UpsertDatasetAsync(updated with { ETag = null }, ct);
        await audit.AppendAsync(
            AuditEntries.Create(input.Actor, action, context.InstanceId, subject, input.At.UtcDateTime,
                before: new { state = dataset.State.ToString(), keepUntil = dataset.KeepUntil },
                after: after),
            ct);
        return new DisposalStepResult(DisposalStepOutcome.Done, decision, dataset.Disposal, manifest, dataset.Container, action);
    }
}

public sealed record PurgeDatasetInput(string DmpId, string DatasetId, DateOnly KeepUntil, DateTimeOffset At, string Actor);

/// <summary>
/// Disposal phase 2 (Delete only): after the grace period, re-checks everything (<see cref="DisposalGuard"/>, the
/// dataset must still be marked) and purges the container; the registry records Disposed. The storage port refuses
/// again on its own (not marked, too early, held). Idempotent: a container already gone reports the recorded manifest.
/// </summary>
public sealed class PurgeDatasetActivity(
    IGovernanceRegistry registry,
    IStorageProvisioner storage,
    IAuditLog audit) : Activity<PurgeDatasetInput, DisposalStepResult>
{
    public override async Task<DisposalStepResult> RunAsync(ActivityContext context, PurgeDatasetInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var dataset = await registry.GetDatasetAsync(input.DmpId, input.DatasetId, ct)
            ?? throw new PortNotFoundException(
                $"Dataset '{input.DatasetId}' of DMP '{input.DmpId}' is not in the registry; nothing can be purged.");
        var subject = AuditEntries.DatasetSubject(input.DmpId, input.DatasetId);
        if (dataset.State == DatasetState.Disposed)
        {
            if (dataset.DisposedAt == input.At)
            {
                // Purged by this very request (a redelivery): its entry is appended again with its key.
                await audit.AppendAsync(
                    AuditEntries.Create(input.Actor, "dataset.purged", context.InstanceId, subject, input.At.UtcDateTime,
                        after: new { state = DatasetState.Disposed.ToString(), outcome = PurgeOutcome.AlreadyGone.ToString() }),
                    ct);
            }

            return new DisposalStepResult(
                DisposalStepOutcome.AlreadyDone,
                new DisposalDecision(DisposalVerdict.AlreadyDisposed, "Already purged.", []),
                dataset.Disposal,
                null,
                dataset.Container,
                "Already purged.");
        }

        var facts = await DisposalFactsReader.ReadAsync(registry, storage, dataset, input.KeepUntil, ct);
        var decision = DisposalGuard.Evaluate(facts, DateOnly.FromDateTime(input.At.UtcDateTime));
        if (!decision.Allowed || dataset.State != DatasetState.MarkedForDeletion || dataset.Disposal != DisposalAction.Delete)
        {
            var reason = decision.Allowed
                ? $"The dataset is {dataset.State} (disposal {dataset.Disposal}), not marked for deletion."
                : decision.Reason;
            await audit.AppendAsync(
                AuditEntries.Create(input.Actor, "dataset.disposal_refused", context.InstanceId, subject, input.At.UtcDateTime,
                    before: new { state = dataset.State.ToString(), keepUntil = dataset.KeepUntil },
                    after: new { verdict = decision.Verdict.ToString(), reason, step = "phase2" }),
                ct);
            return new DisposalStepResult(
                DisposalStepOutcome.Refused, decision with { Reason = reason }, dataset.Disposal, null, dataset.Container, reason);
        }

        var purge = await storage.PurgeAsync(dataset.Container, input.At, ct);
        if (purge.Outcome is not (PurgeOutcome.Purged or PurgeOutcome.AlreadyGone))
        {
            await audit.AppendAsync(
                AuditEntries.Create(input.Actor, "dataset.disposal_refused", context.InstanceId, subject, input.At.UtcDateTime,
                    after: new { verdict = purge.Outcome.ToString(), reason = purge.Detail, step = "phase2-storage" }),
                ct);
            return new DisposalStepResult(
                DisposalStepOutcome.Refused,
                new DisposalDecision(DisposalVerdict.Held, purge.Detail, []),
                dataset.Disposal,
                purge.Manifest,
                dataset.Container,
                purge.Detail);
        }

        await registry.UpsertDatasetAsync(
            dataset with { State = DatasetState.Disposed, DisposedAt = input.At, UpdatedAt = input.At, ETag = null }, ct);
        await audit.AppendAsync(
            AuditEntries.Create(input.Actor, "dataset.purged", context.InstanceId, subject, input.At.UtcDateTime,
                before: new { state = dataset.State.ToString() },
                after: new
                {
                    state = DatasetState.Disposed.ToString(),
                    outcome = purge.Outcome.ToString(),
                    blobCount = purge.Manifest?.BlobCount,
                    totalBytes = purge.Manifest?.TotalBytes,
                    manifestSha256 = purge.Manifest?.ManifestSha256,
                }),
            ct);
        return new DisposalStepResult(
            DisposalStepOutcome.Done, decision, dataset.Disposal, purge.Manifest, dataset.Container, purge.Detail);
    }
}

public sealed record CancelDeletionInput(string DmpId, string DatasetId, string Reason, DateTimeOffset At, string Actor);

/// <summary>
/// Stops a deletion during its grace period (the PI stopped it, a hold arrived): unmarks the container and returns the dataset to
/// Provisioned. Idempotent, audited.
/// </summary>
public sealed class CancelDeletionActivity(
    IGovernanceRegistry registry,
    IStorageProvisioner storage,
    IAuditLog audit) : Activity<CancelDeletionInput, bool>
{
    public override async Task<bool> RunAsync(ActivityContext context, CancelDeletionInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var dataset = await registry.GetDatasetAsync(input.DmpId, input.DatasetId, ct);
        if (dataset is not { State: DatasetState.MarkedForDeletion })
        {
            if (dataset is { State: DatasetState.Provisioned } && dataset.UpdatedAt == input.At)
            {
                // Cancelled by this very request (a redelivery): its entry is appended again with its key.
                await AppendCancelledAsync(context, input, ct);
            }

            return false;
        }

        await storage.UnmarkForDeletionAsync(dataset.Container, ct);
        await registry.UpsertDatasetAsync(dataset with { State = DatasetState.Provisioned, UpdatedAt = input.At, ETag = null }, ct);
        await AppendCancelledAsync(context, input, ct);
        return true;
    }

    private Task<AuditReceipt> AppendCancelledAsync(ActivityContext context, CancelDeletionInput input, CancellationToken ct) =>
        audit.AppendAsync(
            AuditEntries.Create(
                input.Actor,
                "dataset.deletion_cancelled",
                context.InstanceId,
                AuditEntries.DatasetSubject(input.DmpId, input.DatasetId),
                input.At.UtcDateTime,
                before: new { state = DatasetState.MarkedForDeletion.ToString() },
                after: new { state = DatasetState.Provisioned.ToString(), reason = input.Reason }),
            ct);
}
