using Gardien.Workflows.Approvals;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// An intake that crashes right after each of its side effects in turn (registry write, audit append, container,
/// group, membership, role assignment, message, write-back, token use), as a process killed at that instant would: the
/// step's activity runs again from the start, and the audit trail must still hold every entry of the intake, once.
/// </summary>
public sealed class IntakeAuditCrashTests
{
    private sealed record Run(IntakeState? State, IReadOnlyList<string> AuditKeys, int SideEffects, string? CrashedAfter);

    [Fact]
    public async Task Intake_CrashRightAfterEachSideEffect_AuditsEveryStepExactlyOnce()
    {
        var baseline = await RunAsync(crashAt: null);
        Assert.Equal(IntakeState.Active, baseline.State);
        Assert.Equal(baseline.AuditKeys.Count, baseline.AuditKeys.Distinct(StringComparer.Ordinal).Count());
        foreach (var action in new[]
        {
            "dmp.recorded",
            "intake.started",
            "approval.requested",
            "approval.decided",
            "container.provisioned",
            "grant.created",
            "dmp.state_changed",
            "dmp.written_back",
        })
        {
            Assert.Contains(baseline.AuditKeys, key => key.Contains(":" + action + ":", StringComparison.Ordinal));
        }

        var crashedAfter = new HashSet<string>(StringComparer.Ordinal);
        for (var step = 1; step <= baseline.SideEffects; step++)
        {
            var run = await RunAsync(crashAt: step);

            Assert.True(run.CrashedAfter is not null, $"step {step}: no crash happened");
            crashedAfter.Add(run.CrashedAfter!);
            Assert.True(run.State == IntakeState.Active, $"step {step} (after {run.CrashedAfter}): the intake ended {run.State}");
            Assert.True(baseline.AuditKeys.SequenceEqual(run.AuditKeys, StringComparer.Ordinal),
                $"step {step} (after {run.CrashedAfter}): missing [{string.Join(", ", baseline.AuditKeys.Except(run.AuditKeys))}], "
                + $"extra [{string.Join(", ", run.AuditKeys.Except(baseline.AuditKeys))}], "
                + $"{run.AuditKeys.Count} entries for {baseline.AuditKeys.Count}");
        }

        Assert.Superset(
            new HashSet<string>(
                [
                    "Registry.UpsertDmp",
                    "Registry.UpsertDataset",
                    "Registry.UpsertGrant",
                    "Registry.UpsertApproval",
                    "Registry.TryConsumeToken",
                    "Audit.Append",
                    "Notifier.Send",
                    "Storage.EnsureContainer",
                    "Directory.AddMembers",
                    "DmpTool.WriteBack",
                ]),
            crashedAfter);
    }

    private static async Task<Run> RunAsync(int? crashAt)
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var sideEffects = 0;
        string? crashedAfter = null;
        host.FaultAfter = call =>
        {
            if (Interlocked.Increment(ref sideEffects) != crashAt)
            {
                return null;
            }

            crashedAfter = call;
            return new PortException($"simulated crash right after {call}", isTransient: true);
        };

        var submitted = await host.Submissions.SubmitAsync(
            Json(V1, datasets: new DatasetSpec("ds-cohort", PersonalData: "yes", SensitiveData: "yes", Access: "closed")),
            "user:" + PiEmail);
        var decided = new HashSet<string>(StringComparer.Ordinal);
        await WorkflowTestEnvironment.WaitUntilAsync(
            async () =>
            {
                // Retries of a crashed activity wait on the clock (seconds); reminders are days away.
                host.Time.Advance(TimeSpan.FromSeconds(5));
                foreach (var message in host.Sent.Where(m => m.Kind == NotificationKind.ApprovalRequest).ToList())
                {
                    if (!decided.Contains(message.DeduplicationKey)
                        && await host.Decisions.SubmitAsync(
                            WorkflowTestEnvironment.TokenOf(message),
                            "approve",
                            null,
                            "user:" + message.To[0]) is { Accepted: true } or { Failure: not ApprovalTokenFailure.None })
                    {
                        // A decision refused because the backend "crashed" is simply made again, as a person would.
                        decided.Add(message.DeduplicationKey);
                    }
                }

                return await host.Client.GetInstanceAsync(submitted.InstanceId!) is { IsCompleted: true };
            },
            "the intake to complete");

        var output = (await host.Client.GetInstanceAsync(submitted.InstanceId!))!.ReadOutputAs<IntakeDmpOutput>();
        return new Run(
            output?.State, [.. host.AuditEntries.Select(e => e.IdempotencyKey!).Order(StringComparer.Ordinal)], sideEffects, crashedAfter);
    }
}
