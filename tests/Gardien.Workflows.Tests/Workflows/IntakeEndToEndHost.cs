using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gardien.Local.Configuration;
using Gardien.Local.DmpTool;
using Gardien.Local.Notifications;
using Gardien.Runtime;
using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Storage.Audit;
using Gardien.Testing;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// Gardien as the local CLI composes it: the embedded engine on the Azure Storage store, the real local adapters
/// (blob provisioner, table registry, append-blob audit, file directory, inbox, file DMP tool) on the shared Azurite.
/// Each host has its own task hub, table prefix, audit container and working folder, so tests never see each other.
/// </summary>
internal sealed class IntakeEndToEndHost : IAsyncDisposable
{
    /// <summary>Hang guard only: no test asserts on elapsed time.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);

    private readonly ServiceProvider _services;
    private readonly HashSet<string> _decided = new(StringComparer.Ordinal);

    private IntakeEndToEndHost(ServiceProvider services, string root, string connectionString)
    {
        _services = services;
        Root = root;
        ConnectionString = connectionString;
    }

    public string Root { get; }

    public string ConnectionString { get; }

    public WorkflowClient Client => _services.GetRequiredService<WorkflowClient>();

    public DmpSubmissionService Submissions => _services.GetRequiredService<DmpSubmissionService>();

    public DmpEventRouter Router => _services.GetRequiredService<DmpEventRouter>();

    public ApprovalDecisionService Decisions => _services.GetRequiredService<ApprovalDecisionService>();

    public InboxReader Inbox => _services.GetRequiredService<InboxReader>();

    public IGovernanceRegistry Registry => _services.GetRequiredService<IGovernanceRegistry>();

    public IDirectory Directory => _services.GetRequiredService<IDirectory>();

    public IStorageProvisioner Storage => _services.GetRequiredService<IStorageProvisioner>();

    public AppendBlobAuditLog Audit => (AppendBlobAuditLog)_services.GetRequiredService<IAuditLog>();

    public FileDmpToolClient DmpTool => (FileDmpToolClient)_services.GetRequiredService<IDmpToolClient>();

    public static async Task<IntakeEndToEndHost> StartAsync(AzuriteFixture azurite)
    {
        ArgumentNullException.ThrowIfNull(azurite);
        var id = Guid.NewGuid().ToString("N")[..12];
        var root = Path.Combine(Path.GetTempPath(), "gardien-e2e-" + id);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Local:StorageConnectionString"] = azurite.ConnectionString,
            ["Local:InboxPath"] = Path.Combine(root, "inbox"),
            ["Local:DirectoryPath"] = Path.Combine(root, "directory.json"),
            ["Local:DirectorySeedPath"] = Path.Combine(RepoPaths.Root, "samples", "directory.sample.json"),
            ["Local:DmpFolder"] = Path.Combine(root, "dmps"),
            ["Local:TablePrefix"] = "e2e" + id,
            ["Local:AuditContainer"] = "audit-" + id,
            ["Secrets:approval-signing-key-k1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        }).Build();

        // The composition a local host uses: adapters, Gardien's activities and services, the engine on its store.
        var services = new ServiceCollection()
            .AddGardienLocalAdapters(configuration)
            .AddGardienHostServices(new GardienWorkflowOptions { ApprovalBaseUrl = new Uri("http://127.0.0.1:7071/") })
            .AddWorkflowEngine(
                registry => registry.AddGardienWorkflows(),
                _ => new AzureStorageWorkflowStore(AzureStorageStoreOptions.ForConnectionString(azurite.ConnectionString, "E2e" + id) with
                {
                    PartitionCount = 2,
                    MaxPollingInterval = TimeSpan.FromMilliseconds(100),
                }),
                _ => new WorkflowEngineOptions { StoreErrorBackoff = TimeSpan.FromMilliseconds(50), ReceiveTimeout = TimeSpan.FromSeconds(2) });
        var provider = services.BuildServiceProvider();
        await ((AzureStorageWorkflowStore)provider.GetRequiredService<IWorkflowStore>()).CreateIfNotExistsAsync();
        await provider.GetRequiredService<WorkflowEngine>().StartAsync();
        return new IntakeEndToEndHost(provider, root, azurite.ConnectionString);
    }

    /// <summary>A reference example with its dmp_id made unique (ex5, ex6 and ex7 share one id; here they are separate DMPs).</summary>
    public static string Example(string relativePath, string dmpIdSuffix, DateTimeOffset? modified = null)
    {
        var path = relativePath.StartsWith("samples/", StringComparison.Ordinal)
            ? Path.Combine(RepoPaths.Root, relativePath)
            : Path.Combine(RepoPaths.MadmpData, relativePath);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var dmp = root["dmp"]!.AsObject();
        var dmpId = dmp["dmp_id"]!.AsObject();
        dmpId["identifier"] = dmpId["identifier"]!.GetValue<string>() + dmpIdSuffix;
        if (modified is { } m)
        {
            dmp["modified"] = m.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        }

        return root.ToJsonString();
    }

    /// <summary>
    /// Plays every approver: takes each new approval request from the inbox, approves it through its signed link's token
    /// (as the local CLI does), until the instance completes. Returns the messages it decided on.
    /// </summary>
    public async Task<(WorkflowMetadata Done, IReadOnlyList<InboxMessage> Decided)> ApproveEverythingAsync(string instanceId, string comment = "looks right")
    {
        var decided = new List<InboxMessage>();
        var deadline = DateTime.UtcNow + HangGuard;
        while (true)
        {
            foreach (var message in await Inbox.ListAsync())
            {
                if (message.Kind != NotificationKind.ApprovalRequest || !message.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal) || !_decided.Add(message.DeduplicationKey))
                {
                    continue;
                }

                var result = await Decisions.SubmitAsync(TokenOf(message), "approve", comment, "user:" + message.To[0]);
                Assert.True(result.Accepted, result.Message);
                decided.Add(message);
            }

            var instance = await Client.GetInstanceAsync(instanceId);
            if (instance is { IsCompleted: true })
            {
                return (instance, decided);
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{instanceId} did not complete (status {instance?.Status}, custom status {instance?.SerializedCustomStatus}).");
            }

            await Task.Delay(50);
        }
    }

    public async Task<WorkflowMetadata> CompletionAsync(string instanceId)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        return await Client.WaitForCompletionAsync(instanceId, cancellationToken: guard.Token);
    }

    /// <summary>The token of a message's approve (or reject) link: <c>{base}/approvals/{token}?decision=...</c>.</summary>
    public static string TokenOf(InboxMessage message, string decision = "approve") =>
        message.Links.Select(l => ApprovalLinks.Parse(l.Url.ToString()).Link).First(link => link?.Decision == decision)!.Token;

    /// <summary>Audit entries of one workflow instance and its approval sub-workflows.</summary>
    public async Task<IReadOnlyList<AuditEntry>> AuditOfAsync(string instanceId)
    {
        var entries = new List<AuditEntry>();
        await foreach (var record in Audit.ReadAsync())
        {
            if (record.Entry.InstanceId.StartsWith(instanceId, StringComparison.Ordinal))
            {
                entries.Add(record.Entry);
            }
        }

        return entries;
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
