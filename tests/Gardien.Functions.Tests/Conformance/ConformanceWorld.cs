using System.Collections.Concurrent;
using Gardien.Runtime;
using Gardien.Workflows;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Tests.Workflows;
using Moq;

namespace Gardien.Functions.Tests.Conformance;

/// <summary>
/// The ports of one scenario run: the workflow tests' strict in-memory fakes (<see cref="RetentionTestFakes"/>) plus
/// what intake, updates and grants need (containers, groups, role assignments, DMP-tool write-back). One world per
/// engine run, so that the side effects of the two engines can be compared.
/// </summary>
public sealed class ConformanceWorld
{
    public const string PiEmail = "claire.dubois@neuro.example";

    public ConformanceWorld(GovernancePolicy? policy = null)
    {
        Policy = policy ?? DefaultPolicy;
        AddUser("u-pi", "Claire Dubois", PiEmail);
        AddUser("u-dm", "Mehdi Benali", "mehdi.benali@neuro.example");
        AddUser("u-steward", "Steward", RetentionTestFakes.StewardEmail);
        AddUser("u-dpo", "DPO", RetentionTestFakes.DpoEmail);
        SetupIntakePorts();
    }

    /// <summary>The built-in policy with the fakes' steward and DPO (each with a delegate).</summary>
    public static GovernancePolicy DefaultPolicy { get; } = GovernancePolicy.Default with
    {
        Approvals = GovernancePolicy.Default.Approvals with
        {
            DataSteward = new Approver { Name = "Steward", Email = RetentionTestFakes.StewardEmail, Delegates = [new Gardien.Workflows.Governance.Delegate("Steward Deputy", "steward-deputy@neuro-institute.example")] },
            DataProtectionOfficer = new Approver { Name = "DPO", Email = RetentionTestFakes.DpoEmail, Delegates = [new Gardien.Workflows.Governance.Delegate("DPO Deputy", "dpo-deputy@neuro-institute.example")] },
        },
    };

    public GovernancePolicy Policy { get; }

    public RetentionTestFakes Fakes { get; } = new();

    public Mock<IDmpToolClient> DmpTool { get; } = new(MockBehavior.Strict);

    public ConcurrentQueue<string> Containers { get; } = new();

    public ConcurrentDictionary<(string Principal, string Scope, AccessLevel Role), bool> RoleAssignments { get; } = new();

    public ConcurrentQueue<(string DmpId, DmpWriteBack WriteBack)> WriteBacks { get; } = new();

    /// <summary>Fault injection: "Port.Method" → the exception the port throws (null: none).</summary>
    public Func<string, Exception?>? Fault { get; set; }

    public void AddUser(string id, string name, string email) => Fakes.Users[id] = new DirectoryUser(id, name, email, null);

    /// <summary>The services the activities resolve, with <paramref name="time"/> as every clock and <paramref name="client"/> as the workflow client.</summary>
    public IServiceProvider Services(TimeProvider time, Func<IWorkflowClient> client)
    {
        var tokens = new ApprovalTokenService(Fakes.Secrets.Object, Fakes.Registry.Object, new ApprovalTokenSettings(), time);
        var map = new Dictionary<Type, object>
        {
            [typeof(IGovernanceRegistry)] = Fakes.Registry.Object,
            [typeof(IStorageProvisioner)] = Fakes.Storage.Object,
            [typeof(INotifier)] = Fakes.Notifier.Object,
            [typeof(IAuditLog)] = Fakes.Audit.Object,
            [typeof(IDirectory)] = Fakes.Directory.Object,
            [typeof(ISecretStore)] = Fakes.Secrets.Object,
            [typeof(IDmpToolClient)] = DmpTool.Object,
            [typeof(ApprovalTokenService)] = tokens,
            [typeof(GardienWorkflowOptions)] = new GardienWorkflowOptions { Policy = Policy, ApprovalBaseUrl = new Uri("https://gardien.test/api/") },
            [typeof(TimeProvider)] = time,
        };
        return new MapServices(map, client);
    }

    private void Inject(string call)
    {
        if (Fault?.Invoke(call) is { } fault)
        {
            throw fault;
        }
    }

    private void SetupIntakePorts()
    {
        var fakes = Fakes;
        fakes.Registry.Setup(r => r.UpsertDmpAsync(It.IsAny<DmpRecord>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DmpRecord d, CancellationToken _) =>
            {
                Inject("Registry.UpsertDmp");
                return fakes.Dmps[d.DmpId] = d;
            });
        fakes.Storage.Setup(s => s.EnsureContainerAsync(It.IsAny<ContainerSpec>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((ContainerSpec spec, CancellationToken _) =>
            {
                Inject("Storage.EnsureContainer");
                var created = fakes.Blobs.TryAdd(spec.Name, []);
                if (created)
                {
                    Containers.Enqueue(spec.Name);
                }

                return new ProvisionResult(spec.Name, created ? ProvisionOutcome.Created : ProvisionOutcome.AlreadyExisted, new Uri("https://store.test/" + spec.Name), [GovernanceFeatures.ContainerMetadata], []);
            });
        fakes.Storage.Setup(s => s.DeleteContainerIfEmptyAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string name, string? _, CancellationToken _) =>
                !fakes.Blobs.TryGetValue(name, out var blobs) ? ContainerDeletionOutcome.NotFound
                : blobs.Count == 0 && fakes.Blobs.TryRemove(name, out _) ? ContainerDeletionOutcome.Deleted : ContainerDeletionOutcome.NotFound);
        fakes.Directory.Setup(d => d.EnsureGroupAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string name, string description, CancellationToken _) =>
            {
                Inject("Directory.EnsureGroup");
                fakes.GroupMembers.TryAdd(name, []);
                return new DirectoryGroup(name, name, description);
            });
        fakes.Directory.Setup(d => d.AddMemberAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string g, string u, CancellationToken _) => AddMember(g, u));
        fakes.Directory.Setup(d => d.AddMembersAsync(It.IsAny<string>(), It.IsAny<IReadOnlyList<string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string g, IReadOnlyList<string> users, CancellationToken _) => (IReadOnlyList<string>)[.. users.Distinct(StringComparer.Ordinal).Where(u => AddMember(g, u))]);
        fakes.Directory.Setup(d => d.AssignRoleAsync(It.IsAny<PrincipalRef>(), It.IsAny<string>(), It.IsAny<AccessLevel>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((PrincipalRef p, string scope, AccessLevel role, CancellationToken _) =>
            {
                Inject("Directory.AssignRole");
                return new RoleAssignmentResult($"{p.Id}|{scope}|{role}", RoleAssignments.TryAdd((p.Id, scope, role), true), []);
            });
        DmpTool.Setup(t => t.WriteBackAsync(It.IsAny<string>(), It.IsAny<DmpWriteBack>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string dmpId, DmpWriteBack writeBack, CancellationToken _) =>
            {
                WriteBacks.Enqueue((dmpId, writeBack));
                return OperationResult.Done;
            });
    }

    private bool AddMember(string group, string user)
    {
        Inject("Directory.AddMember");
        var members = Fakes.GroupMembers.GetOrAdd(group, _ => []);
        lock (members)
        {
            return members.Add(user);
        }
    }

    private sealed class MapServices(Dictionary<Type, object> services, Func<IWorkflowClient> client) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IWorkflowClient) || serviceType == typeof(WorkflowClient) ? client() : services.GetValueOrDefault(serviceType);
    }
}
