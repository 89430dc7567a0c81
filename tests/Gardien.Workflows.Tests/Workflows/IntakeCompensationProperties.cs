using FsCheck;
using FsCheck.Xunit;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// Safety of the intake saga: whichever port call fails (once, for good), what remains is either the whole approved
/// plan or nothing: no directory membership without an active grant, no active grant without approved approvals,
/// and after a failure no grant and no container this run created.
/// </summary>
public sealed class IntakeCompensationProperties
{
    /// <summary>More than the faultable port calls of the intake below, so that some runs see no fault at all.</summary>
    private const int FaultableCalls = 110;

    [Property(MaxTest = 20)]
    public bool Intake_AnySingleFailure_LeavesNoGrantWithoutItsApprovals(PositiveInt failAt)
    {
        var nth = (failAt.Get % FaultableCalls) + 1;
        // Off any synchronization context: the property itself is synchronous.
        return Task.Run(() => RunAsync(nth)).GetAwaiter().GetResult();
    }

    private static async Task<bool> RunAsync(int nth)
    {
        // Messages are left out: one that cannot be delivered never fails the intake (an undelivered approval request just
        // waits, see NotificationFailureTests), so it is no failure of the saga.
        var calls = 0;
        await using var host = await WorkflowTestEnvironment.StartAsync(h => h.Fault = call =>
            call != "Notifier.Send" && Interlocked.Increment(ref calls) == nth
                ? new PortNotFoundException($"injected failure of {call} (call {nth})")
                : null);

        // Two datasets (one closed: the steward approves too), the PI and a data manager on each: four grants.
        var submitted = await host.Submissions.SubmitAsync(
            Json(datasets: [new DatasetSpec("ds-a"), new DatasetSpec("ds-b", Access: "closed")]));
        var done = await host.ApproveAllUntilCompletedAsync(submitted.InstanceId!);
        var state = done.ReadOutputAs<IntakeDmpOutput>()?.State ?? IntakeState.Failed;

        var active = host.Grants.Values.Where(g => g.State == GrantState.Active).ToList();
        var everyGrantApproved = active.All(g => g.ApprovalIds.Count > 0
            && g.ApprovalIds.All(
                id => host.Approvals.TryGetValue((g.DmpId, id), out var approval) && approval.Decision == ApprovalDecision.Approved));
        var everyMemberGranted = host.Memberships.Keys.All(m => active.Any(g =>
            g.PrincipalId == m.UserId
                && m.GroupId.StartsWith("g-" + host.Datasets[(g.DmpId, g.DatasetId)].Container + "-", StringComparison.Ordinal)));
        var nothingLeftOnFailure = state == IntakeState.Active
            || (active.Count == 0 && host.Memberships.IsEmpty && !host.Containers.Values.Contains(submitted.InstanceId));
        var wholePlanWhenActive = state != IntakeState.Active || active.Count == 4;
        return everyGrantApproved && everyMemberGranted && nothingLeftOnFailure && wholePlanWhenActive;
    }
}
