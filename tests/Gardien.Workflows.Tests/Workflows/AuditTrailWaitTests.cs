using Gardien.Runtime;
using Gardien.Workflows.Audit;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Moq;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>The retention workflows wait for a damaged audit trail to be repaired, as intake, approval and update do.</summary>
public sealed class AuditTrailWaitTests
{
    private const string Damage = "audit/0.jsonl line 3 was changed after it was written: restore it, then run gardien audit verify";

    [Fact]
    public async Task Sweep_AuditTrailDamaged_WaitsShowingWhatToRepair_ThenCompletesOnceRepaired()
    {
        var fakes = new PortFakes();
        fakes.AddDataset("https://doi.org/10.1234/health-study", "mri-raw", WorkflowTestEnvironment.Today.AddDays(20));
        fakes.Audit.Setup(a => a.AppendAsync(It.IsAny<AuditEntry>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new AuditTrailDamagedException(Damage));
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await host.Client.ScheduleNewAsync(
            nameof(RetentionSweepWorkflow),
            new RetentionSweepInput(WorkflowTestEnvironment.Today, Settings: WorkflowTestEnvironment.Settings),
            RetentionSweepWorkflow.InstanceIdFor(WorkflowTestEnvironment.Today));

        WorkflowStage? waiting = null;
        await host.RunUntilAsync(id, async () =>
        {
            waiting = (await host.Client.GetInstanceAsync(id))?.ReadCustomStatusAs<WorkflowStage>();
            return waiting?.Stage == AuditTrail.WaitingStage;
        });

        Assert.Equal(Damage, waiting!.Detail);
        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetInstanceAsync(id))!.Status);

        var repaired = new List<AuditEntry>();
        fakes.Audit.Setup(a => a.AppendAsync(It.IsAny<AuditEntry>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((AuditEntry entry, CancellationToken _) =>
        {
            lock (repaired)
            {
                repaired.Add(entry);
                return new AuditReceipt(repaired.Count, "h" + repaired.Count, "audit/1", false);
            }
        });
        await host.Client.RaiseEventAsync(id, AuditTrail.RepairedEventName);
        var done = await host.RunToCompletionAsync(id);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(1, done.ReadOutputAs<RetentionSweepReport>()!.CasesStarted);
        Assert.Single(repaired, e => e.Action == "retention.sweep_completed");
        Assert.Equal("completed", done.ReadCustomStatusAs<WorkflowStage>()!.Stage);
    }
}
