using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
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
/// Gardien as the local CLI composes it, in the <see cref="WorkflowTestEnvironment"/>: the embedded engine on the Azure
/// Storage store and the real local adapters (blob provisioner, table registry, append-blob audit, file directory,
/// inbox, file DMP tool) on the shared Azurite, under the environment's fake clock. Each world has its own task hub,
/// table prefix, audit container and working folder, so tests never see each other.
/// </summary>
internal sealed class LocalAdaptersWorld : IAsyncDisposable
{
    private readonly HashSet<string> _decided = new(StringComparer.Ordinal);

    private LocalAdaptersWorld(string id, string root, string connectionString, WorkflowTestEnvironment environment)
    {
        Id = id;
        Root = root;
        ConnectionString = connectionString;
        Environment = environment;
    }

    /// <summary>A short id unique to this world (in its task hub, tables and containers).</summary>
    public string Id { get; }

    public string Root { get; }

    public string ConnectionString { get; }

    public WorkflowTestEnvironment Environment { get; }

    public WorkflowClient Client => Environment.Client;

    public DmpSubmissionService Submissions => Environment.Submissions;

    public DmpEventRouter Router => Environment.Router;

    public ApprovalDecisionService Decisions => Environment.Decisions;

    public RetentionService Retention => Environment.Retention;

    /// <summary>Every notification sent (they are in the inbox too).</summary>
    public IReadOnlyList<Notification> Sent => Environment.Sent;

    public InboxReader Inbox => Environment.Services.GetRequiredService<InboxReader>();

    public IGovernanceRegistry Registry => Environment.Services.GetRequiredService<IGovernanceRegistry>();

    public IDirectory Directory => Environment.Services.GetRequiredService<IDirectory>();

    public IStorageProvisioner Storage => Environment.Services.GetRequiredService<IStorageProvisioner>();

    public AppendBlobAuditLog Audit => (AppendBlobAuditLog)Environment.Services.GetRequiredService<IAuditLog>();

    public FileDmpToolClient DmpTool => (FileDmpToolClient)Environment.Services.GetRequiredService<IDmpToolClient>();

    public BlobServiceClient Blobs => Environment.Services.GetRequiredService<LocalStorageClients>().Blobs;

    public static async Task<LocalAdaptersWorld> StartAsync(AzuriteFixture azurite, GardienWorkflowOptions? workflows = null)
    {
        ArgumentNullException.ThrowIfNull(azurite);
        var id = Guid.NewGuid().ToString("N")[..10];
        var root = System.IO.Directory.CreateTempSubdirectory("gardien-e2e-").FullName;
        var inbox = Path.Combine(root, "inbox");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Local:StorageConnectionString"] = azurite.ConnectionString,
            ["Local:InboxPath"] = inbox,
            ["Local:DirectoryPath"] = Path.Combine(root, "directory.json"),
            ["Local:DirectorySeedPath"] = Path.Combine(RepoPaths.Root, "samples", "directory.sample.json"),
            ["Local:DmpFolder"] = Path.Combine(root, "dmps"),
            ["Local:TablePrefix"] = "e2e" + id,
            ["Local:AuditContainer"] = "audit-" + id,
            ["Secrets:approval-signing-key-k1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        }).Build();
        var sent = new ConcurrentQueue<Notification>();
        var environment = await WorkflowTestEnvironment.StartAsync(new WorkflowTestOptions
        {
            Ports = null,
            Workflows = workflows ?? new GardienWorkflowOptions { ApprovalBaseUrl = new Uri("http://127.0.0.1:7071/") },
            Store = time => new AzureStorageWorkflowStore(
                AzureStorageStoreOptions.ForConnectionString(azurite.ConnectionString, "E2e" + id) with
                {
                    PartitionCount = 2,
                    MaxPollingInterval = TimeSpan.FromMilliseconds(100),
                },
                time),
            ConfigureServices = services =>
            {
                // The inbox notifier the local host uses, with a copy of each message for the test to click links.
                services.AddSingleton<INotifier>(sp =>
                    new RecordingNotifier(new InboxNotifier(inbox, sp.GetRequiredService<TimeProvider>()), sent));
                services.AddGardienLocalAdapters(configuration);
            },
            SentNotifications = () => [.. sent],
        });
        return new LocalAdaptersWorld(id, root, azurite.ConnectionString, environment);
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

    /// <summary>The token of a message's approve (or reject) link: <c>{base}/approvals/{token}?decision=...</c>.</summary>
    public static string TokenOf(InboxMessage message, string decision = "approve") =>
        message.Links.Select(l => ApprovalLinks.Parse(l.Url.ToString()).Link).First(link => link?.Decision == decision)!.Token;

    /// <summary>
    /// Plays every approver: takes each new approval request from the inbox, approves it through its signed link's token
    /// (as the local CLI does), until the instance completes. Returns the messages it decided on.
    /// </summary>
    public async Task<(WorkflowMetadata Done, IReadOnlyList<InboxMessage> Decided)> ApproveEverythingAsync(
        string instanceId,
        string comment = "looks right")
    {
        var decided = new List<InboxMessage>();
        await Environment.RunUntilAsync(instanceId, async () =>
        {
            foreach (var message in await Inbox.ListAsync())
            {
                if (message.Kind != NotificationKind.ApprovalRequest
                    || !message.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal)
                    || !_decided.Add(message.DeduplicationKey))
                {
                    continue;
                }

                var result = await Decisions.SubmitAsync(TokenOf(message), "approve", comment, "user:" + message.To[0]);
                Assert.True(result.Accepted, result.Message);
                decided.Add(message);
                await Environment.WaitForIdleAsync();
            }

            return (await Client.GetInstanceAsync(instanceId))?.IsCompleted == true;
        });
        return ((await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true))!, decided);
    }

    public Task<WorkflowMetadata> CompletionAsync(string instanceId) => Environment.CompletionAsync(instanceId);

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
        await Environment.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    /// <summary>The real notifier, with a copy of each message sent.</summary>
    private sealed class RecordingNotifier(INotifier inner, ConcurrentQueue<Notification> sent) : INotifier
    {
        public async Task<NotificationReceipt> SendAsync(Notification notification, CancellationToken cancellationToken = default)
        {
            var receipt = await inner.SendAsync(notification, cancellationToken);
            sent.Enqueue(notification);
            return receipt;
        }
    }
}
