namespace Gardien.Functions.Tests.Conformance;

/// <summary>
/// The same scenario definitions on the embedded engine and on Durable Task (through the Functions adapter): same
/// outcomes, same side effects, same audit entries. Sequential: each Durable Task test host binds a loopback port.
/// </summary>
[Collection(DurableHostCollection.Name)]
public sealed class DurableConformanceTests
{
    [Fact]
    public Task Intake_ApprovedByAllRoles_ProvisionsGrantsAndWritesBackAlike() => CompareAsync(Scenarios.IntakeApprovedAsync);

    [Fact]
    public Task Intake_RejectedBySteward_EndsAlikeWithNothingProvisioned() => CompareAsync(Scenarios.IntakeRejectedAsync);

    [Fact]
    public Task Intake_GrantFailure_CompensatesAlike() => CompareAsync(Scenarios.IntakeFailureCompensatesAsync);

    [Fact]
    public Task Approval_WithoutDecision_RemindsEscalatesAndExpiresAlike() => CompareAsync(Scenarios.ApprovalExpiresAsync);

    [Fact]
    public Task Approval_EscalatedThenApprovedByDelegate_EndsAlike() => CompareAsync(Scenarios.ApprovalEscalatedThenApprovedAsync);

    [Fact]
    public Task Update_NewDatasetApproved_IsAppliedAlike() => CompareAsync(Scenarios.DmpUpdateAsync);

    [Fact]
    public Task Retention_NoticesApprovalAndTwoPhaseDeletion_WithCertificateAlike() => CompareAsync(Scenarios.RetentionDisposalAsync);

    [Fact]
    public Task Retention_LegalHold_StopsThenDisposesAlike() => CompareAsync(Scenarios.RetentionLegalHoldAsync);

    [Fact]
    public Task BlobEvents_TaggedDuplicateAndUnknownContainer_HandledAlike() => CompareAsync(Scenarios.BlobEventsAsync);

    private static async Task CompareAsync(Func<ScenarioEngine, ConformanceWorld, Task<ScenarioRecord>> scenario)
    {
        var embedded = await RunAsync(EmbeddedScenarioEngine.StartAsync, scenario);
        var durable = await RunAsync(DurableScenarioEngine.StartAsync, scenario);

        Same("instances", embedded.Instances, durable.Instances);
        Same("notifications", embedded.Notifications, durable.Notifications);
        Same("audit entries", embedded.Audit, durable.Audit);
        Same("port state", embedded.State, durable.State);
        Assert.NotEmpty(embedded.Audit);
    }

    private static void Same(string what, IReadOnlyList<string> embedded, IReadOnlyList<string> durable)
    {
        var onlyEmbedded = embedded.Except(durable).ToList();
        var onlyDurable = durable.Except(embedded).ToList();
        Assert.True(
            embedded.SequenceEqual(durable),
            $"The engines differ in {what} ({embedded.Count} vs {durable.Count}).\nOnly on the embedded engine:\n"
            + $"{string.Join("\n", onlyEmbedded)}\nOnly on Durable Task:\n{string.Join("\n", onlyDurable)}");
    }

    private static async Task<ScenarioRecord> RunAsync(
        Func<ConformanceWorld, Action<Gardien.Runtime.WorkflowRegistry>?, Task<ScenarioEngine>> start,
        Func<ScenarioEngine, ConformanceWorld, Task<ScenarioRecord>> scenario)
    {
        var world = new ConformanceWorld();
        await using var engine = await start(world, null);
        return await scenario(engine, world);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DurableHostCollection
{
    public const string Name = "Durable Task hosts";
}
