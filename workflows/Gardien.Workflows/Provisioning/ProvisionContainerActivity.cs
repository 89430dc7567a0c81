using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;
using PortDisposal = Gardien.Workflows.Ports.DisposalAction;
using PortTier = Gardien.Workflows.Ports.StorageTier;

namespace Gardien.Workflows.Provisioning;

/// <summary>What to provision for one dataset (a flattened <see cref="DatasetPlan"/>, small enough for history).</summary>
public sealed record ProvisionContainerInput
{
    public required string DmpId { get; init; }
    public required string DatasetId { get; init; }
    public required string Container { get; init; }
    public string? Title { get; init; }
    public PortTier Tier { get; init; } = PortTier.Hot;
    public string? EncryptionScope { get; init; }
    public int? ImmutabilityDays { get; init; }

    /// <summary>Days after the first provisioning at which the immutability policy is locked; null: never.</summary>
    public int? LockImmutabilityAfterDays { get; init; }
    public long? QuotaBytes { get; init; }
    public DateOnly? KeepUntil { get; init; }
    public PortDisposal Disposal { get; init; } = PortDisposal.Delete;
    public DateOnly? EmbargoUntil { get; init; }
    public required string Classification { get; init; }
    public bool PersonalData { get; init; }
    public bool SensitiveData { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string Actor { get; init; }

    /// <summary>The dataset plan as an activity input.</summary>
    public static ProvisionContainerInput FromPlan(string dmpId, DatasetPlan dataset, DateTimeOffset at, string actor)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new ProvisionContainerInput
        {
            DmpId = dmpId,
            DatasetId = dataset.Key,
            Container = dataset.Storage.ContainerName,
            Title = dataset.Title,
            Tier = Enum.Parse<PortTier>(dataset.Storage.Tier.ToString()),
            EncryptionScope = dataset.Storage.EncryptionScope,
            ImmutabilityDays = dataset.Storage.ImmutabilityDays,
            LockImmutabilityAfterDays = dataset.Storage.ImmutabilityDays is null ? null : dataset.Storage.LockImmutabilityAfterDays,
            QuotaBytes = dataset.Storage.QuotaBytes,
            KeepUntil = dataset.Retention.KeepUntil,
            Disposal = Enum.Parse<PortDisposal>(dataset.Retention.Disposal.ToString()),
            EmbargoUntil = dataset.Retention.EmbargoUntil,
            Classification = dataset.Classification.Classification.ToString(),
            PersonalData = dataset.Classification.PersonalData,
            SensitiveData = dataset.Classification.SensitiveData,
            At = at,
            Actor = actor,
        };
    }
}

/// <param name="Outcome">Created by this call or found (a redelivery, or a container an earlier run made).</param>
/// <param name="Controls">The controls in force on the container afterwards, read back from the store.</param>
public sealed record ProvisionedContainer(
    string DatasetId,
    string Container,
    ProvisionOutcome Outcome,
    Uri Location,
    IReadOnlyList<string> EnforcedFeatures,
    IReadOnlyList<NotEnforcedFeature> NotEnforcedLocally,
    ContainerControls? Controls = null);

/// <summary>
/// Creates (or confirms) a dataset's container with its governance metadata and records the dataset as Provisioned,
/// with the controls the store reports in force afterwards (read back, not assumed from the plan). The immutability
/// policy is locked once its lock day (first provisioning + the policy's <c>lock_after_days</c>) has come; until then
/// it stays unlocked and the daily sweep locks it (<see cref="LockDueImmutabilityActivity"/>). The container remembers
/// the creating instance, which lets compensation delete only what this run created.
/// </summary>
public sealed class ProvisionContainerActivity(
    IStorageProvisioner storage,
    IGovernanceRegistry registry,
    IAuditLog audit) : Activity<ProvisionContainerInput, ProvisionedContainer>
{
    public override async Task<ProvisionedContainer> RunAsync(ActivityContext context, ProvisionContainerInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [GovernanceMetadata.DmpId] = GovernanceMetadata.Value(input.DmpId),
            [GovernanceMetadata.DatasetId] = GovernanceMetadata.Value(input.DatasetId),
            [GovernanceMetadata.Classification] = input.Classification,
            [GovernanceMetadata.Disposal] = input.Disposal.ToString(),
            [GovernanceMetadata.PersonalData] = input.PersonalData ? "true" : "false",
            [GovernanceMetadata.SensitiveData] = input.SensitiveData ? "true" : "false",
        };
        if (input.KeepUntil is { } keepUntil)
        {
            metadata[GovernanceMetadata.KeepUntil] = GovernanceMetadata.Date(keepUntil);
        }

        if (input.EmbargoUntil is { } embargo)
        {
            metadata[GovernanceMetadata.EmbargoUntil] = GovernanceMetadata.Date(embargo);
        }

        var existing = await registry.GetDatasetAsync(input.DmpId, input.DatasetId, ct);
        var today = DateOnly.FromDateTime(input.At.UtcDateTime);
        var lockDue = input.ImmutabilityDays is null ? null
            : existing?.ImmutabilityLockDue ?? (input.LockImmutabilityAfterDays is { } days ? today.AddDays(days) : null);
        var result = await storage.EnsureContainerAsync(
            new ContainerSpec
            {
                Name = input.Container,
                Metadata = metadata,
                Tier = input.Tier,
                EncryptionScope = input.EncryptionScope,
                ImmutabilityDays = input.ImmutabilityDays,
                LockImmutability = lockDue is { } due && due <= today,
                QuotaBytes = input.QuotaBytes,
                OwnerInstanceId = context.InstanceId,
            },
            ct);

        var (outcome, creator) = await CreatorAsync(context.InstanceId, input.Container, result.Outcome, existing, ct);
        var controls = await storage.GetControlsAsync(input.Container, ct);
        var record = (existing
            ?? new DatasetRecord
            {
                DmpId = input.DmpId,
                DatasetId = input.DatasetId,
                Container = input.Container,
                State = DatasetState.Provisioned,
            }) with
        {
            Container = input.Container,
            State = existing?.State is DatasetState.Provisioned or DatasetState.MarkedForDeletion
                ? existing.State
                : DatasetState.Provisioned,
            Title = input.Title,
            KeepUntil = input.KeepUntil,
            Disposal = input.Disposal,
            PersonalData = input.PersonalData,
            SensitiveData = input.SensitiveData,
            EmbargoUntil = input.EmbargoUntil,
            QuotaBytes = input.QuotaBytes,
            CreatedByInstanceId = creator,
            UpdatedAt = input.At,
            NotEnforcedLocally = result.NotEnforcedLocally,
            ImmutabilityDays = input.ImmutabilityDays,
            ImmutabilityLockDue = lockDue,
            Controls = controls,
            ControlsReadAt = input.At,
        };
        await registry.UpsertDatasetAsync(record, ct);
        await audit.AppendAsync(
            AuditEntries.Create(
                input.Actor,
                "container.provisioned",
                context.InstanceId,
                AuditEntries.ContainerSubject(input.Container),
                input.At.UtcDateTime,
                before: existing is null ? null : new { state = existing.State.ToString() },
                after: new
                {
                    dmpId = input.DmpId,
                    datasetId = input.DatasetId,
                    outcome = outcome.ToString(),
                    location = result.Location,
                    tier = input.Tier.ToString(),
                    keepUntil = input.KeepUntil,
                    classification = input.Classification,
                    enforced = result.EnforcedFeatures,
                    notEnforcedLocally = result.NotEnforcedLocally,
                    controlsInForce = controls.Enforced,
                    immutabilityLocked = controls.ImmutabilityLocked,
                    immutabilityLockDue = lockDue,
                }),
            ct);
        return new ProvisionedContainer(
            input.DatasetId, input.Container, outcome, result.Location, result.EnforcedFeatures, result.NotEnforcedLocally, controls);
    }

    /// <summary>
    /// Which run created the container, which is what compensation deletes by. A container this call created is this
    /// run's. One found already there is whoever the registry says; when the registry says nobody (this run, or another,
    /// died between creating it and recording it), the owner the store wrote into the container's metadata at creation.
    /// Found and owned by this run, it is reported as created, as on the first attempt.
    /// </summary>
    private async Task<(ProvisionOutcome Outcome, string? Creator)> CreatorAsync(
        string me, string container, ProvisionOutcome outcome, DatasetRecord? existing, CancellationToken ct)
    {
        if (outcome == ProvisionOutcome.Created)
        {
            return (outcome, me);
        }

        var creator = existing?.CreatedByInstanceId;
        if (creator is null)
        {
            var info = await storage.GetContainerAsync(container, ct);
            creator = string.IsNullOrEmpty(info?.OwnerInstanceId) ? null : info.OwnerInstanceId;
        }

        return (creator == me ? ProvisionOutcome.Created : outcome, creator);
    }
}
