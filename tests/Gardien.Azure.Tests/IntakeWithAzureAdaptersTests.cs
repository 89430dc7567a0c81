using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Gardien.Azure.Arm;
using Gardien.Azure.DmpTools;
using Gardien.Azure.Storage;
using Gardien.Azure.Tests.Fakes;
using Gardien.BlobStorage;
using Gardien.Local.Configuration;
using Gardien.Local.Notifications;
using Gardien.Runtime;
using Gardien.Runtime.AzureStorage;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Testing;
using Gardien.Workflows;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests;

/// <summary>
/// The intake on the embedded engine with the Azure storage provisioner (Azurite data plane + fake ARM) and the DMP
/// OPIDoR client (fake API); directory, notifications, registry and audit are the local adapters.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class IntakeWithAzureAdaptersTests(AzuriteFixture azurite) : IDisposable
{
    private const string DmpId = "https://dmp.opidor.fr/plans/4242";
    private readonly FakeServer _opidor = FakeServer.StartHttp();
    private readonly FakeStorageArm _arm = new();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "gardien-azure-e2e-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        _opidor.Dispose();
        _arm.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }

    [Fact]
    public async Task Intake_FromOpidor_ProvisionsWithArmControls_AndWritesBack()
    {
        _opidor.Server.Given(Request.Create().WithPath("/api/v1/authenticate").UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{\"access_token\":\"tok\",\"expires_in\":3600}"));
        _opidor.Server.Given(Request.Create().WithPath("/api/v1/madmp/plans/4242").WithParam("export_format", "rda").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(TestFiles.Read("Data/opidor-rda.json")));
        _opidor.Server.Given(Request.Create().WithPath("/api/v1/madmp/plans/4242").WithParam("export_format", "standard").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(TestFiles.Read("Data/opidor-standard.json")));
        _opidor.Server.Given(Request.Create().WithPath("/api/v1/madmp/fragments/9102").UsingPut()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var id = Guid.NewGuid().ToString("N")[..12];
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Local:StorageConnectionString"] = azurite.ConnectionString,
            ["Local:InboxPath"] = Path.Combine(_root, "inbox"),
            ["Local:DirectoryPath"] = Path.Combine(_root, "directory.json"),
            ["Local:DirectorySeedPath"] = Path.Combine(RepoPaths.Root, "samples", "directory.sample.json"),
            ["Local:DmpFolder"] = Path.Combine(_root, "dmps"),
            ["Local:TablePrefix"] = "az" + id,
            ["Local:AuditContainer"] = "audit-" + id,
            ["Secrets:approval-signing-key-k1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        }).Build();
        var settings = new DmpToolSettings { Kind = DmpToolKind.Opidor, BaseUrl = _opidor.Uri, ClientIdSecretName = "id", ClientSecretName = "secret" };
        settings.PlanIds.Add("4242");
        var services = new ServiceCollection();
        services.AddSingleton<IDmpToolClient>(new OpidorDmpToolClient("opidor", settings, new HttpClient(), new DictionarySecretStore(new() { ["id"] = "app", ["secret"] = "s" })));
        services.AddSingleton<IStorageProvisioner>(sp => new AzureStorageProvisioner(
            new BlobStorageProvisioner(new BlobServiceClient(azurite.ConnectionString)),
            new StorageAccountControls(_arm.Arm.Options, new StaticTokenCredential(), _arm.Arm.ClientOptions())));
        services
            .AddGardienLocalAdapters(configuration)
            .AddGardienHostServices(new GardienWorkflowOptions { ApprovalBaseUrl = new Uri("http://127.0.0.1:7071/") })
            .AddWorkflowEngine(
                registry => registry.AddGardienWorkflows(),
                _ => new AzureStorageWorkflowStore(AzureStorageStoreOptions.ForConnectionString(azurite.ConnectionString, "Az" + id) with { PartitionCount = 1, MaxPollingInterval = TimeSpan.FromMilliseconds(100) }),
                _ => new WorkflowEngineOptions { StoreErrorBackoff = TimeSpan.FromMilliseconds(50), ReceiveTimeout = TimeSpan.FromSeconds(2) });
        await using var provider = services.BuildServiceProvider();
        await ((AzureStorageWorkflowStore)provider.GetRequiredService<IWorkflowStore>()).CreateIfNotExistsAsync();
        await provider.GetRequiredService<WorkflowEngine>().StartAsync();

        var routed = await provider.GetRequiredService<DmpEventRouter>().RouteAsync(new DmpEvent(DmpId));
        var done = await ApproveEverythingAsync(provider, routed.InstanceId!);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        var dataset = Assert.Single(await provider.GetRequiredService<IGovernanceRegistry>().ListDatasetsAsync(DmpId));
        Assert.Equal(new DateOnly(2036, 12, 31), dataset.KeepUntil);
        Assert.True((await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(dataset.Container).ExistsAsync()).Value);
        Assert.Contains(_arm.Arm.RequestsOf("GET"), r => r.RequestMessage.Path == FakeArm.ContainerId(dataset.Container));
        var writeBack = Assert.Single(_opidor.Requests, r => r.RequestMessage.Method == "PUT").RequestMessage;
        Assert.Contains(dataset.Container, JsonNode.Parse(writeBack.Body!)!["data"]!["facility"]![1]!["technicalResourceId"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static async Task<WorkflowMetadata> ApproveEverythingAsync(IServiceProvider provider, string instanceId)
    {
        var inbox = provider.GetRequiredService<InboxReader>();
        var decisions = provider.GetRequiredService<ApprovalDecisionService>();
        var client = provider.GetRequiredService<WorkflowClient>();
        var decided = new HashSet<string>(StringComparer.Ordinal);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            foreach (var message in await inbox.ListAsync())
            {
                if (message.Kind == NotificationKind.ApprovalRequest && message.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal) && decided.Add(message.DeduplicationKey))
                {
                    var link = message.Links.First(l => l.Url.Query.Contains("decision=approve", StringComparison.Ordinal)).Url;
                    var token = Uri.UnescapeDataString(link.AbsolutePath[(link.AbsolutePath.LastIndexOf('/') + 1)..]);
                    var result = await decisions.SubmitAsync(token, "approve", "checked", "user:" + message.To[0]);
                    Assert.True(result.Accepted, result.Message);
                }
            }

            var instance = await client.GetInstanceAsync(instanceId);
            if (instance is { IsCompleted: true })
            {
                return instance;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{instanceId} did not complete (status {instance?.Status}, custom status {instance?.SerializedCustomStatus}).");
            await Task.Delay(50);
        }
    }
}
