using FsCheck;
using FsCheck.Xunit;
using Gardien.Runtime;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Moq;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// Safety properties of disposal over generated registry states, dates, holds and approvals: never before keep-until,
/// never under a hold or an open case, never without the approvals the policy requires — for the pure
/// <see cref="DisposalGuard"/> and for the disposal activities that re-check it before touching storage.
/// </summary>
public sealed class RetentionDisposalGuardProperties
{
    private static readonly DateOnly Base = new(2031, 6, 15);
    private static readonly DatasetState[] States = Enum.GetValues<DatasetState>();
    private static readonly DisposalAction[] Actions = Enum.GetValues<DisposalAction>();
    private static readonly ApprovalDecision[] Decisions = Enum.GetValues<ApprovalDecision>();
    private static readonly string[] Roles = [DisposalGuard.StewardRole, DisposalGuard.DpoRole, DisposalGuard.PiRole];

    /// <summary>One generated world: registry record, storage hold, approvals (some for the wrong keep-until), today.</summary>
    private sealed record World(DatasetRecord Dataset, bool StorageHold, IReadOnlyList<ApprovalRecord> Approvals, DateOnly Today)
    {
        public bool Held => Dataset.LegalHold || StorageHold || Dataset.OpenCaseId is not null;

        public bool DueByDate => Dataset.KeepUntil is { } k && Today >= k;

        public bool Approved()
        {
            if (Dataset.KeepUntil is not { } keepUntil)
            {
                return false;
            }

            var subject = DisposalGuard.ApprovalSubject(Dataset.DmpId, Dataset.DatasetId, keepUntil);
            return DisposalGuard.RequiredRoles(Dataset.Disposal, Dataset.PersonalData, Dataset.SensitiveData).All(role =>
                Approvals.Any(a => a.Role == role && a.Subject == subject && a.Decision == ApprovalDecision.Approved)
                && !Approvals.Any(a => a.Role == role && a.Subject == subject && a.Decision == ApprovalDecision.Rejected));
        }
    }

    private static World Make(
        int keepOffset,
        int todayOffset,
        byte state,
        byte action,
        bool regHold,
        bool storageHold,
        bool openCase,
        bool personal,
        bool sensitive,
        bool noKeepUntil,
        byte[] approvalSeeds)
    {
        var keepUntil = Base.AddDays(keepOffset % 400);
        var dataset = new DatasetRecord
        {
            DmpId = "dmp-1",
            DatasetId = "ds-1",
            Container = "gardien-ds-1",
            State = States[state % States.Length],
            KeepUntil = noKeepUntil ? null : keepUntil,
            Disposal = Actions[action % Actions.Length],
            LegalHold = regHold,
            OpenCaseId = openCase ? "case-7" : null,
            PersonalData = personal,
            SensitiveData = sensitive,
        };
        var approvals = (approvalSeeds ?? []).Take(6).Select((seed, i) => new ApprovalRecord
        {
            DmpId = "dmp-1",
            ApprovalId = "a" + i,
            InstanceId = "case",
            Role = Roles[seed % Roles.Length],
            Decision = Decisions[(seed / 3) % Decisions.Length],

            // One in four approvals is for another keep-until (a stale approval must never count).
            Subject = DisposalGuard.ApprovalSubject("dmp-1", "ds-1", seed % 4 == 0 ? keepUntil.AddDays(-365) : keepUntil),
            DecidedBy = "someone@uni.example",
        }).ToList();
        return new World(dataset, storageHold, approvals, Base.AddDays(todayOffset % 400));
    }

    private static DisposalFacts Facts(World world) => new(
        world.Dataset.DmpId,
        world.Dataset.DatasetId,
        world.Dataset.State,
        world.Dataset.KeepUntil,
        world.Dataset.Disposal,
        world.Dataset.LegalHold,
        world.Dataset.OpenCaseId,
        world.StorageHold,
        world.Dataset.PersonalData,
        world.Dataset.SensitiveData,
        [.. world.Approvals.Select(a => new ApprovalFact(a.Role, a.Decision, a.Subject))]);

    [Property(MaxTest = 500)]
    public bool DisposalGuard_Allows_OnlyWhenDueUnheldAndApproved(
        int keepOffset,
        int todayOffset,
        byte state,
        byte action,
        bool regHold,
        bool storageHold,
        bool openCase,
        bool personal,
        bool sensitive,
        bool noKeepUntil,
        byte[] approvals)
    {
        var world = Make(
            keepOffset, todayOffset, state, action, regHold, storageHold, openCase, personal, sensitive, noKeepUntil, approvals);
        var decision = DisposalGuard.Evaluate(Facts(world), world.Today);
        return !decision.Allowed
            || (world.DueByDate
                && !world.Held
                && world.Approved()
                && world.Dataset.State is DatasetState.Provisioned or DatasetState.MarkedForDeletion);
    }

    [Property(MaxTest = 300)]
    public bool DisposalGuard_AllowsWhenEverythingHolds(int keepOffset, byte extraDays, byte action, bool personal, bool sensitive)
    {
        var keepUntil = Base.AddDays(keepOffset % 400);
        var disposal = Actions[action % Actions.Length];
        var approvals = DisposalGuard.RequiredRoles(disposal, personal, sensitive)
            .Select(role => new ApprovalFact(role, ApprovalDecision.Approved, DisposalGuard.ApprovalSubject("d", "s", keepUntil)))
            .ToList();
        var facts = new DisposalFacts(
            "d", "s", DatasetState.Provisioned, keepUntil, disposal, false, null, false, personal, sensitive, approvals, keepUntil);
        return DisposalGuard.Evaluate(facts, keepUntil.AddDays(extraDays)).Allowed;
    }

    [Property(MaxTest = 200)]
    public bool DisposeActivity_TouchesStorage_OnlyWhenGuardConditionsHold(
        int keepOffset,
        int todayOffset,
        byte state,
        byte action,
        bool regHold,
        bool storageHold,
        bool openCase,
        bool personal,
        bool sensitive,
        bool noKeepUntil,
        byte[] approvals)
    {
        var world = Make(
            keepOffset, todayOffset, state, action, regHold, storageHold, openCase, personal, sensitive, noKeepUntil, approvals);
        var (registry, storage, audit) = Ports(world);
        var activity = new DisposeDatasetActivity(registry.Object, storage.Object, audit.Object);
        var expectedKeepUntil = world.Dataset.KeepUntil ?? Base;
        var at = new DateTimeOffset(world.Today.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero);
        activity.RunAsync(
            new TestActivityContext(),
            new DisposeDatasetInput("dmp-1", "ds-1", expectedKeepUntil, at, at.AddDays(30), "system:test")).GetAwaiter().GetResult();

        var touched = storage.Invocations.Any(
            i => i.Method.Name is nameof(IStorageProvisioner.MarkForDeletionAsync) or nameof(IStorageProvisioner.SetTierAsync) or nameof(
                IStorageProvisioner.PurgeAsync))
            || registry.Invocations.Any(i => i.Method.Name == nameof(IGovernanceRegistry.UpsertDatasetAsync));
        var safe = world.DueByDate && !world.Held && world.Approved();
        return !touched || safe;
    }

    [Property(MaxTest = 200)]
    public bool PurgeActivity_Purges_OnlyWhenMarkedDueUnheldAndApproved(
        int keepOffset,
        int todayOffset,
        byte state,
        bool regHold,
        bool storageHold,
        bool openCase,
        bool personal,
        bool sensitive,
        byte[] approvals)
    {
        var world = Make(keepOffset, todayOffset, state, 0, regHold, storageHold, openCase, personal, sensitive, false, approvals);
        var (registry, storage, audit) = Ports(world);
        var activity = new PurgeDatasetActivity(registry.Object, storage.Object, audit.Object);
        var at = new DateTimeOffset(world.Today.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero);
        activity.RunAsync(
            new TestActivityContext(),
            new PurgeDatasetInput("dmp-1", "ds-1", world.Dataset.KeepUntil!.Value, at, "system:test")).GetAwaiter().GetResult();

        var purged = storage.Invocations.Any(i => i.Method.Name == nameof(IStorageProvisioner.PurgeAsync));
        return !purged || (world.DueByDate && !world.Held && world.Approved() && world.Dataset.State == DatasetState.MarkedForDeletion);
    }

    /// <summary>
    /// The whole retention case on the engine (fake clock, strict mocks): whatever the hold, the data class, the plan and
    /// the approvers' answers, storage is changed only on or after keep-until, never under a hold or an open case, and
    /// only with every approval the policy requires — and when all of that holds, the disposal does happen.
    /// </summary>
    [Property(MaxTest = 12)]
    public bool RetentionCaseWorkflow_DisposesOnlyOnTimeUnheldAndApproved(
        byte holdKind,
        bool personal,
        bool stewardApproves,
        bool dpoApproves,
        byte action) =>
        RunCaseAsync(holdKind % 4, personal, stewardApproves, dpoApproves, Actions[action % Actions.Length]).GetAwaiter().GetResult();

    private static async Task<bool> RunCaseAsync(
        int holdKind,
        bool personal,
        bool stewardApproves,
        bool dpoApproves,
        DisposalAction disposal)
    {
        const string dmp = "https://doi.org/10.1234/property";
        var fakes = new PortFakes();
        var dataset = fakes.AddDataset(
            dmp,
            "ds",
            WorkflowTestEnvironment.Today.AddDays(10),
            disposal,
            personal,
            legalHold: holdKind == 1,
            openCase: holdKind == 3 ? "complaint-12" : null);
        fakes.StorageHolds[dataset.Container] = holdKind == 2;
        var keepUntil = dataset.KeepUntil!.Value;
        await using var host = await WorkflowTestEnvironment.StartAsync(fakes);
        var id = await host.Client.ScheduleNewAsync(
            nameof(RetentionCaseWorkflow),
            new RetentionCaseInput
            {
                DmpId = dmp,
                DatasetId = "ds",
                Container = dataset.Container,
                KeepUntil = keepUntil,
                Disposal = disposal,
                Settings = WorkflowTestEnvironment.Settings,
            },
            RetentionCaseWorkflow.InstanceIdFor(dmp, "ds", keepUntil));
        var answered = new HashSet<string>(StringComparer.Ordinal);
        bool Held() => fakes.Sent.Any(n => n.Subject.StartsWith("Disposal on hold", StringComparison.Ordinal));
        List<Notification> Pending() =>
            [.. fakes.Sent.Where(n => n.Kind == NotificationKind.ApprovalRequest && !answered.Contains(n.DeduplicationKey))];
        async Task<bool> Completed() => (await host.Client.GetInstanceAsync(id, getInputsAndOutputs: false))!.IsCompleted;
        while (true)
        {
            await host.RunUntilAsync(id, async () => Held() || Pending().Count > 0 || await Completed());
            if (Held() || await Completed())
            {
                break;
            }

            foreach (var request in Pending())
            {
                answered.Add(request.DeduplicationKey);
                var approve = request.To.Contains(DpoEmail) ? dpoApproves : stewardApproves;
                await host.DecideAsync(
                    request,
                    approve ? "approve" : "reject",
                    approve ? null : "No.",
                    linkIndex: approve ? 0 : 1,
                    instanceId: request.CorrelationId);
            }
        }

        var required = DisposalGuard.RequiredRoles(disposal, personal, sensitiveData: false);
        var allowed = holdKind == 0
            && (!required.Contains(DisposalGuard.StewardRole) || stewardApproves)
            && (!required.Contains(DisposalGuard.DpoRole) || dpoApproves);
        var changes = fakes.AuditEntries.Where(
            e =>
                e.Action is "dataset.marked_for_deletion"
                    or "dataset.archived"
                    or "dataset.publication_handoff"
                    or "dataset.purged").ToList();
        var touched = changes.Count > 0
            || fakes.Marks.ContainsKey(dataset.Container)
            || fakes.Tiers.ContainsKey(dataset.Container)
            || !fakes.Blobs.ContainsKey(dataset.Container)
            || fakes.Dataset(dmp, "ds").State != DatasetState.Provisioned;
        var onTime = changes.All(e => DateOnly.FromDateTime(e.Timestamp.UtcDateTime) >= keepUntil);
        return touched ? allowed && onTime : !allowed;
    }

    [Fact]
    public void DisposalGuard_ApprovalForAnotherKeepUntil_DoesNotCount()
    {
        var keepUntil = new DateOnly(2031, 1, 1);
        var stale = new ApprovalFact(
            DisposalGuard.StewardRole, ApprovalDecision.Approved, DisposalGuard.ApprovalSubject("d", "s", keepUntil.AddYears(-1)));
        var facts = new DisposalFacts(
            "d", "s", DatasetState.Provisioned, keepUntil, DisposalAction.Delete, false, null, false, false, false, [stale]);

        var decision = DisposalGuard.Evaluate(facts, keepUntil.AddDays(1));

        Assert.Equal(DisposalVerdict.MissingApprovals, decision.Verdict);
        Assert.Equal([DisposalGuard.StewardRole], decision.MissingRoles);
    }

    [Fact]
    public void DisposalGuard_PersonalDataDeletion_NeedsStewardAndDpo_ArchiveNeedsNone()
    {
        Assert.Equal(
            [DisposalGuard.StewardRole, DisposalGuard.DpoRole],
            DisposalGuard.RequiredRoles(DisposalAction.Delete, personalData: true, sensitiveData: false));
        Assert.Equal(
            [DisposalGuard.StewardRole], DisposalGuard.RequiredRoles(DisposalAction.Publish, personalData: false, sensitiveData: false));
        Assert.Empty(DisposalGuard.RequiredRoles(DisposalAction.Archive, personalData: true, sensitiveData: true));
    }

    /// <summary>Strict mocks answering from the world; every mutating call is allowed but recorded (the property inspects them).</summary>
    private static (Mock<IGovernanceRegistry> Registry, Mock<IStorageProvisioner> Storage, Mock<IAuditLog> Audit) Ports(World world)
    {
        var registry = new Mock<IGovernanceRegistry>(MockBehavior.Strict);
        registry.Setup(r => r.GetDatasetAsync("dmp-1", "ds-1", It.IsAny<CancellationToken>())).ReturnsAsync(world.Dataset);
        registry.Setup(r => r.ListApprovalsAsync("dmp-1", null, It.IsAny<CancellationToken>())).ReturnsAsync(world.Approvals);
        registry.Setup(r => r.UpsertDatasetAsync(It.IsAny<DatasetRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DatasetRecord d, CancellationToken _) => d);
        var storage = new Mock<IStorageProvisioner>(MockBehavior.Strict);
        storage.Setup(s => s.GetContainerAsync("gardien-ds-1", It.IsAny<CancellationToken>()))
            .ReturnsAsync(
                new ContainerInfo(
                    "gardien-ds-1",
                    new Uri("http://127.0.0.1/c"),
                    new Dictionary<string, string>(),
                    "e",
                    DateTimeOffset.UnixEpoch,
                    null,
                    null,
                    world.StorageHold));
        storage.Setup(s => s.GetHoldStatusAsync("gardien-ds-1", It.IsAny<CancellationToken>()))
            .ReturnsAsync(new HoldStatus(world.StorageHold, [], null, false));
        storage.Setup(s => s.ComputeManifestAsync("gardien-ds-1", It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ContainerManifest("gardien-ds-1", 1, 10, "ab"));
        storage.Setup(
            s => s.MarkForDeletionAsync(
                "gardien-ds-1",
                It.IsAny<DateTimeOffset>(),
                It.IsAny<string>(),
                It.IsAny<CancellationToken>())).ReturnsAsync(OperationResult.Done);
        storage.Setup(s => s.SetTierAsync("gardien-ds-1", It.IsAny<StorageTier>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(OperationResult.Done);
        storage.Setup(s => s.PurgeAsync("gardien-ds-1", It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new PurgeResult(PurgeOutcome.Purged, new ContainerManifest("gardien-ds-1", 1, 10, "ab"), "purged"));
        var audit = new Mock<IAuditLog>(MockBehavior.Strict);
        audit.Setup(a => a.AppendAsync(It.IsAny<AuditEntry>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new AuditReceipt(1, "h", "l", false));
        return (registry, storage, audit);
    }
}

/// <summary>An activity context for calling activities directly.</summary>
internal sealed class TestActivityContext(string instanceId = "test-instance") : ActivityContext
{
    public override string Name => "test";

    public override string InstanceId => instanceId;

    public override int TaskId => 1;

    public override string IdempotencyKey => instanceId + ":1";

    public override CancellationToken CancellationToken => CancellationToken.None;
}
