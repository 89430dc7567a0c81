using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Madmp;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;
using Gardien.Workflows.Tests.Governance;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// The whole intake over generated DMPs (repeated, "#n"-suffixed, case and punctuation variants of ids): a DMP that
/// is taken in gets one container per dataset, labelled with that dataset's own classification and recorded under its
/// own key; a DMP that is refused provisions nothing.
/// </summary>
public sealed class IntakeDatasetKeyProperties
{
    [Fact]
    public async Task Intake_RepeatedIdBesideLiteralHashSuffix_IsInvalidAndProvisionsNothing()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json(
            datasets: [new DatasetSpec("x", "yes", "yes", "closed"), new DatasetSpec("x", "yes", "yes", "closed"), new DatasetSpec("x#2")]);

        var submitted = await host.Submissions.SubmitAsync(json, "user:" + PiEmail);
        var output = (await host.CompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(IntakeState.Invalid, output.State);
        Assert.Contains("/dmp/dataset/1/dataset_id/identifier", output.Reason, StringComparison.Ordinal);
        Assert.Empty(host.Containers);
        Assert.Empty(host.Grants);
    }

    [Property(MaxTest = 10)]
    public Property Intake_GeneratedDmps_LabelEachContainerWithItsOwnDatasetsClassification() =>
        Prop.ForAll(Arb.From(DatasetKeyTests.DatasetsGen()), facts => Task.Run(() => RunAsync(facts)).GetAwaiter().GetResult());

    private static async Task<bool> RunAsync(DatasetKeyTests.DatasetFacts[] facts)
    {
        var json = Json(
            datasets: [.. facts.Select(
                f => new DatasetSpec(f.Id, Answer(f.Personal), Answer(f.Sensitive), f.Access.ToString().ToLowerInvariant()))]);
        var expected = EvaluateDmpActivity.Evaluate(
            null, json, DateOnly.FromDateTime(WorkflowTestEnvironment.Epoch.UtcDateTime), GovernancePolicy.Default);
        await using var host = await WorkflowTestEnvironment.StartAsync();

        var submitted = await host.Submissions.SubmitAsync(json, "user:" + PiEmail);
        var output = (await host.ApproveAllUntilCompletedAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        if (expected.Plan is not { } plan)
        {
            return output.State == IntakeState.Invalid && host.Containers.IsEmpty && host.Grants.IsEmpty;
        }

        var specs = host.Storage.Invocations
            .Where(i => i.Method.Name == nameof(IStorageProvisioner.EnsureContainerAsync))
            .Select(i => (ContainerSpec)i.Arguments[0])
            .GroupBy(s => s.Name, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key, g => g.Select(s => s.Metadata[GovernanceMetadata.Classification]).Distinct().ToList(), StringComparer.Ordinal);
        var ownLabels = plan.Datasets.Select((d, i) =>
            specs.TryGetValue(d.Storage.ContainerName, out var labels) && labels.SequenceEqual([facts[i].Expected.ToString()])
            && host.Datasets.TryGetValue((DmpId, d.Key), out var record) && record.Container == d.Storage.ContainerName).All(ok => ok);
        return output.State == IntakeState.Active
            && specs.Count == facts.Length
            && host.Datasets.Count == facts.Length
            && ownLabels;
    }

    private static string Answer(YesNoUnknown answer) => answer.ToString().ToLowerInvariant();
}
