using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;

namespace Gardien.Workflows.Provisioning;

/// <param name="Date">The day swept: datasets whose lock day is on or before it are locked.</param>
public sealed record LockDueImmutabilityInput(DateOnly Date, DateTimeOffset At, string Actor);

/// <param name="Locked">Containers whose immutability policy is now locked.</param>
/// <param name="NotEnforced">Containers whose store cannot lock (recorded, not retried).</param>
/// <param name="Failed">Containers that could not be locked this time, with the reason; tried again on the next sweep.</param>
public sealed record LockDueImmutabilityResult(
    IReadOnlyList<string> Locked, IReadOnlyList<string> NotEnforced, IReadOnlyList<string> Failed);

/// <summary>
/// Locks the immutability policy of every provisioned dataset whose lock day (policy <c>lock_after_days</c> after its
/// provisioning) has come, and records the controls then in force. Idempotent: a locked container, or one whose store
/// already said it cannot lock, is skipped. One container failing does not stop the others.
/// </summary>
public sealed class LockDueImmutabilityActivity(IGovernanceRegistry registry, IStorageProvisioner storage, IAuditLog audit)
    : Activity<LockDueImmutabilityInput, LockDueImmutabilityResult>
{
    public override async Task<LockDueImmutabilityResult> RunAsync(ActivityContext context, LockDueImmutabilityInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var ct = context.CancellationToken;
        List<string> locked = [], notEnforced = [], failed = [];
        var dmps = await registry.ListDmpsAsync(DmpState.Active, ct);
        foreach (var dmp in dmps.OrderBy(d => d.DmpId, StringComparer.Ordinal))
        {
            var datasets = await registry.ListDatasetsAsync(dmp.DmpId, ct);
            foreach (var dataset in datasets.Where(d => IsDue(d, input.Date)).OrderBy(d => d.DatasetId, StringComparer.Ordinal))
            {
                try
                {
                    var result = await storage.LockImmutabilityAsync(dataset.Container, ct);
                    var controls = await storage.GetControlsAsync(dataset.Container, ct);
                    var record = dataset with { Controls = controls, ControlsReadAt = input.At, UpdatedAt = input.At };
                    await registry.UpsertDatasetAsync(record, ct);
                    (controls.ImmutabilityLocked ? locked : notEnforced).Add(dataset.Container);
                    var action = controls.ImmutabilityLocked ? "container.immutability_locked" : "container.immutability_lock_not_enforced";
                    await audit.AppendAsync(
                        AuditEntries.Create(
                            input.Actor, action, context.InstanceId, AuditEntries.ContainerSubject(dataset.Container), input.At.UtcDateTime,
                            after: new
                            {
                                dmpId = dataset.DmpId,
                                datasetId = dataset.DatasetId,
                                lockDue = dataset.ImmutabilityLockDue,
                                changed = result.Changed,
                                immutabilityDays = controls.ImmutabilityDays,
                                locked = controls.ImmutabilityLocked,
                                notEnforced = result.NotEnforcedLocally,
                            }),
                        ct);
                }
                catch (PortException ex)
                {
                    failed.Add($"{dataset.Container}: {ex.Message}");
                }
            }
        }

        return new LockDueImmutabilityResult(locked, notEnforced, failed);
    }

    // Due, provisioned, not locked yet, and not already reported unlockable by its store since the lock day.
    private static bool IsDue(DatasetRecord dataset, DateOnly date) =>
        dataset is { State: DatasetState.Provisioned, ImmutabilityLockDue: { } due } && due <= date
        && dataset.Controls is not { ImmutabilityLocked: true }
        && !(dataset.ControlsReadAt is { } read && DateOnly.FromDateTime(read.UtcDateTime) >= due
            && dataset.Controls is { } controls && controls.NotEnforced.Any(f => f.Feature == GovernanceFeatures.Immutability));
}
