using Gardien.Runtime;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Retention;

public sealed record LoadRetentionCaseInput(string DmpId, string DatasetId, DateOnly? ExpectedKeepUntil);

/// <param name="Found">False when the registry no longer knows the dataset.</param>
/// <param name="Facts">Everything <see cref="DisposalGuard"/> decides from, read now.</param>
/// <param name="PiEmail">The DMP's contact (notices go there).</param>
public sealed record RetentionCaseSnapshot(
    bool Found,
    DisposalFacts? Facts,
    string? PiEmail,
    string? Container,
    string? Title,
    DateOnly? EmbargoUntil);

/// <summary>
/// Reads the facts of a retention case: the registry's dataset (authoritative), the DMP contact, the storage's hold
/// status and the disposal approvals recorded for this keep-until. Read-only.
/// </summary>
public sealed class LoadRetentionCaseActivity(
    IGovernanceRegistry registry,
    IStorageProvisioner storage) : Activity<LoadRetentionCaseInput, RetentionCaseSnapshot>
{
    public override async Task<RetentionCaseSnapshot> RunAsync(ActivityContext context, LoadRetentionCaseInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var dataset = await registry.GetDatasetAsync(input.DmpId, input.DatasetId, ct);
        if (dataset is null)
        {
            return new RetentionCaseSnapshot(false, null, null, null, null, null);
        }

        var dmp = await registry.GetDmpAsync(input.DmpId, ct);
        var facts = await DisposalFactsReader.ReadAsync(registry, storage, dataset, input.ExpectedKeepUntil, ct);
        return new RetentionCaseSnapshot(true, facts, dmp?.ContactEmail, dataset.Container, dataset.Title, dataset.EmbargoUntil);
    }
}

/// <summary>Builds <see cref="DisposalFacts"/> from the ports; shared by the case loader and the disposal activities' re-check.</summary>
public static class DisposalFactsReader
{
    public static async Task<DisposalFacts> ReadAsync(
        IGovernanceRegistry registry,
        IStorageProvisioner storage,
        DatasetRecord dataset,
        DateOnly? expectedKeepUntil,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(dataset);

        // A container that is already gone cannot be held; any other storage failure propagates (retry, never assume "no hold").
        var storageHold = false;
        if (dataset.State is DatasetState.Provisioned or DatasetState.MarkedForDeletion
            && await storage.GetContainerAsync(dataset.Container, cancellationToken) is not null)
        {
            storageHold = (await storage.GetHoldStatusAsync(dataset.Container, cancellationToken)).LegalHold;
        }

        var approvals = await registry.ListApprovalsAsync(dataset.DmpId, null, cancellationToken);
        var subject = dataset.KeepUntil is { } keepUntil
            ? DisposalGuard.ApprovalSubject(dataset.DmpId, dataset.DatasetId, keepUntil)
            : null;
        var relevant = approvals
            .Where(a => subject is not null && string.Equals(a.Subject, subject, StringComparison.Ordinal))
            .Select(a => new ApprovalFact(a.Role, a.Decision, a.Subject, a.ApprovalId, a.DecidedBy, a.DecidedAt))
            .ToList();
        return new DisposalFacts(
            dataset.DmpId,
            dataset.DatasetId,
            dataset.State,
            dataset.KeepUntil,
            dataset.Disposal,
            dataset.LegalHold,
            dataset.OpenCaseId,
            storageHold,
            dataset.PersonalData,
            dataset.SensitiveData,
            relevant,
            expectedKeepUntil);
    }
}
