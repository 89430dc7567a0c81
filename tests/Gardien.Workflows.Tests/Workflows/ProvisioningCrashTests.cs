using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// A process that dies between creating a container and recording it: the rerun finds the container "already there",
/// and only the owner the store wrote into its metadata at creation says which run created it.
/// </summary>
public sealed class ProvisioningCrashTests
{
    private static readonly string Container =
        ContainerNaming.ContainerName(GovernancePolicy.Default.Storage.ContainerPrefix, DmpId, "ds-open");

    private static async Task<(IntakeDmpOutput Output, string InstanceId)> IntakeAsync(WorkflowTestEnvironment host, bool grantsFail)
    {
        var crashed = 0;
        host.FaultAfter = call => call == "Storage.EnsureContainer" && Interlocked.Exchange(ref crashed, 1) == 0
            ? new PortException("simulated crash right after the container was created", isTransient: true)
            : null;
        host.Fault = call => grantsFail && call is "Directory.AddMembers" or "Directory.AddMember" or "Directory.AssignRole"
            ? new PortRefusedException("the directory refused the change")
            : null;

        var submitted = await host.Submissions.SubmitAsync(Json(V1), "user:" + PiEmail);
        var decided = new HashSet<string>(StringComparer.Ordinal);
        await WorkflowTestEnvironment.WaitUntilAsync(
            async () =>
            {
                // The crashed step is retried after a backoff on the clock (seconds; reminders are days away).
                host.Time.Advance(TimeSpan.FromSeconds(5));
                foreach (var message in host.Sent.Where(m => m.Kind == NotificationKind.ApprovalRequest).ToList())
                {
                    if (decided.Add(message.DeduplicationKey))
                    {
                        await host.Decisions.SubmitAsync(
                            WorkflowTestEnvironment.TokenOf(message), "approve", null, "user:" + message.To[0]);
                    }
                }

                return await host.Client.GetInstanceAsync(submitted.InstanceId!) is { IsCompleted: true };
            },
            "the intake to complete");
        Assert.Equal(1, crashed);
        return ((await host.Client.GetInstanceAsync(submitted.InstanceId!))!.ReadOutputAs<IntakeDmpOutput>()!, submitted.InstanceId!);
    }

    [Fact]
    public async Task Intake_CrashAfterCreatingAContainer_TheRerunRecordsThisRunAsItsCreator()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();

        var (output, instanceId) = await IntakeAsync(host, grantsFail: false);

        Assert.Equal(IntakeState.Active, output.State);
        Assert.True(Assert.Single(output.Containers).CreatedByThisRun);
        Assert.Equal(instanceId, host.Datasets[(DmpId, "ds-open")].CreatedByInstanceId);
        var provisioned = Assert.Single(host.AuditEntries, e => e.Action == "container.provisioned");
        Assert.Equal(nameof(ProvisionOutcome.Created), provisioned.After!.Value.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Intake_CrashAfterCreatingAContainerThenAFailure_CompensationRemovesTheContainerAndMarksTheDatasetFailed()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();

        var (output, instanceId) = await IntakeAsync(host, grantsFail: true);

        Assert.Equal(IntakeState.Failed, output.State);
        Assert.Empty(output.CompensationIncomplete);
        Assert.False(host.Containers.ContainsKey(Container));
        Assert.Equal(instanceId, host.Datasets[(DmpId, "ds-open")].CreatedByInstanceId);
        Assert.Equal(DatasetState.Failed, host.Datasets[(DmpId, "ds-open")].State);
    }

    [Fact]
    public async Task Intake_ContainerAnotherRunCreated_IsRecordedAsTheirsAndKeptOnCompensation()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        host.Containers[Container] = "intake-earlier-run";

        var (output, _) = await IntakeAsync(host, grantsFail: true);

        Assert.Equal(IntakeState.Failed, output.State);
        Assert.True(host.Containers.ContainsKey(Container));
        Assert.Equal("intake-earlier-run", host.Datasets[(DmpId, "ds-open")].CreatedByInstanceId);
        Assert.NotEqual(DatasetState.Failed, host.Datasets[(DmpId, "ds-open")].State);
    }
}
