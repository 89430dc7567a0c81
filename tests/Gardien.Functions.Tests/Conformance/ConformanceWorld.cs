using Gardien.Runtime;
using Gardien.Testing.Workflows;
using Gardien.Workflows;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Ports;

namespace Gardien.Functions.Tests.Conformance;

/// <summary>
/// The ports of one scenario run: the workflow test environment's in-memory fakes (<see cref="PortFakes"/>) with a
/// policy whose steward and DPO each have a delegate. One world per engine run, so that the side effects of the two
/// engines can be compared.
/// </summary>
public sealed class ConformanceWorld
{
    public const string PiEmail = IntakeTestDmps.PiEmail;

    public ConformanceWorld(GovernancePolicy? policy = null)
    {
        Policy = policy ?? DefaultPolicy;
        Fakes.AddUser("u-pi", "Claire Dubois", PiEmail);
        Fakes.AddUser("u-dm", "Mehdi Benali", IntakeTestDmps.DataManagerEmail);
        Fakes.AddUser("u-steward", "Steward", IntakeTestDmps.StewardEmail);
        Fakes.AddUser("u-dpo", "DPO", IntakeTestDmps.DpoEmail);
    }

    /// <summary>The built-in policy with a delegate for the steward and for the DPO.</summary>
    public static GovernancePolicy DefaultPolicy { get; } = GovernancePolicy.Default with
    {
        Approvals = GovernancePolicy.Default.Approvals with
        {
            DataSteward = new Approver
            {
                Name = "Steward",
                Email = IntakeTestDmps.StewardEmail,
                Delegates = [new Gardien.Workflows.Governance.Delegate("Steward Deputy", "steward-deputy@neuro-institute.example")],
            },
            DataProtectionOfficer = new Approver
            {
                Name = "DPO",
                Email = IntakeTestDmps.DpoEmail,
                Delegates = [new Gardien.Workflows.Governance.Delegate("DPO Deputy", "dpo-deputy@neuro-institute.example")],
            },
        },
    };

    public GovernancePolicy Policy { get; }

    public PortFakes Fakes { get; } = new();

    /// <summary>What the activities are configured with in this world.</summary>
    public GardienWorkflowOptions WorkflowOptions => new() { Policy = Policy, ApprovalBaseUrl = new Uri("https://gardien.test/api/") };

    /// <inheritdoc cref="PortFakes.Fault"/>
    public Func<string, Exception?>? Fault
    {
        get => Fakes.Fault;
        set => Fakes.Fault = value;
    }

    /// <summary>
    /// The services the activities resolve on an engine other than the embedded one, with <paramref name="time"/> as
    /// every clock and <paramref name="client"/> as the workflow client.
    /// </summary>
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
            [typeof(IDmpToolClient)] = Fakes.DmpTool.Object,
            [typeof(ApprovalTokenService)] = tokens,
            [typeof(GardienWorkflowOptions)] = WorkflowOptions,
            [typeof(TimeProvider)] = time,
        };
        return new MapServices(map, client);
    }

    private sealed class MapServices(Dictionary<Type, object> services, Func<IWorkflowClient> client) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IWorkflowClient) || serviceType == typeof(WorkflowClient)
                ? client()
                : services.GetValueOrDefault(serviceType);
    }
}
