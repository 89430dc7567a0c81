using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Gardien.Azure.Arm;
using Gardien.Azure.DmpTools;
using Gardien.Azure.Graph;
using Gardien.Azure.KeyVault;
using Gardien.Azure.Storage;
using Gardien.Azure.Teams;
using Gardien.Azure.Tests.Fakes;
using Gardien.BlobStorage;
using Gardien.Runtime;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Storage;
using Gardien.Storage.Audit;
using Gardien.Storage.Registry;
using Gardien.Testing;
using Gardien.Workflows;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Hosting.DmpPolling;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests;

/// <summary>
/// The whole intake on the embedded engine with every port on its Azure adapter at once, each pointed at a fake that
/// speaks the service's HTTP API on loopback: the DMP read from DMP OPIDoR, credentials and the signing key from Key
/// Vault, people and dataset groups in Entra ID (Graph), role assignments and the storage controls through ARM, Teams
/// activity feed, mail and Adaptive Cards, and the registry and the audit trail on tables and append blobs (Azurite,
/// as in an account). The approvers decide from what reached them; the DMP is written back to DMP OPIDoR.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class IntakeOnAllAzureAdaptersTests(AzuriteFixture azurite) : IDisposable
{
    private const string DmpId = "https://dmp.opidor.fr/plans/4242";
    private const string AppId = "7c9f3b2a-1d4e-4f60-8a9b-0c1d2e3f4a5b";
    private const string Sender = "gardien@neuro-institute.example";
    private const string Dpo = "dpo@neuro-institute.example";
    private const string WebhookSecret = "teams-workflow-webhook-url";

    /// <summary>Hang guard only: no assertion on elapsed time.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);

    private readonly Loopback _opidor = Loopback.Http();
    private readonly FakeKeyVault _vault = new();
    private readonly FakeGraph _graph = new();
    private readonly FakeWebhook _webhook = new();
    private readonly FakeStorageArm _arm = new();
    private readonly FixedTokenCredential _credential = new();

    public void Dispose()
    {
        _opidor.Dispose();
        _vault.Dispose();
        _graph.Dispose();
        _webhook.Dispose();
        _arm.Dispose();
    }

    [Fact]
    public async Task Intake_FromOpidor_OnEveryAzureAdapter_GroupsRolesImmutabilityLifecycleCardsAndWriteBack()
    {
        var policy = GovernancePolicy.Default;
        var container = ContainerNaming.ContainerName(policy.Storage.ContainerPrefix, DmpId, "ro-1");
        ServeOpidor();
        SeedVaultAndDirectory();

        // In Azure the data plane creates the container with its encryption scope; the fake ARM is told so.
        _arm.Containers[container] = new FakeStorageArm.ContainerRecord
        {
            DefaultEncryptionScope = policy.Storage.Encryption.Scope,
            DenyOverride = true,
        };
        await using var services = await StartAsync();

        var routed = await services.GetRequiredService<DmpEventRouter>()
            .RouteAsync(
                new DmpChange(
                    "opidor",
                    DmpId,
                    "4242",
                    new DateTimeOffset(2026, 5, 2, 14, 30, 0, TimeSpan.Zero),
                    DmpChangeKind.Submitted).ToDmpEvent());
        var decided = await ApproveEverythingAsync(services, routed.InstanceId!);

        var output = (await services.GetRequiredService<WorkflowClient>()
            .GetInstanceAsync(routed.InstanceId!))!.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.True(output.State == IntakeState.Active, $"{output.State}: {output.Reason}");

        // Approvals: through the Teams activity feed, and by mail for the DPO, who has no Teams app; cards to the channel.
        Assert.Equal(output.Approvals.Count, decided.Count);
        Assert.Contains(decided, d => d.Channel == "mail" && d.Recipient == Dpo);
        Assert.Contains(decided, d => d.Channel == "teams");
        var cards = _webhook.Requests.Select(r => JsonNode.Parse(r.Body!)!["attachments"]![0]!["content"]!).ToList();
        var requestCards = cards.Where(c => ((string)c["body"]![0]!["text"]!).StartsWith("Approval needed", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(output.Approvals.Count, requestCards.Count);
        Assert.All(
            requestCards, c => Assert.Equal(["Approve", "Reject", "Open"], c["actions"]!.AsArray().Select(a => (string?)a!["title"])));

        // Access: one Entra ID security group per level, holding the granted people, with its role on the container in ARM.
        Assert.NotEmpty(output.Grants);
        var assignments = _arm.RoleAssignments[container].Values.Select(a => a["properties"]!).ToList();
        foreach (var level in output.Grants.Select(g => g.Level).Distinct())
        {
            var group = Assert.Single(_graph.Groups.Values, g => g.DisplayName == AccessGroups.GroupName(container, level));
            Assert.True(group.SecurityEnabled && !group.MailEnabled);
            Assert.Equal(
                output.Grants.Where(g => g.Level == level).Select(g => g.PrincipalId).Order(StringComparer.Ordinal),
                group.Members.Order(StringComparer.Ordinal));
            Assert.Contains(assignments, a => (string?)a["principalId"] == group.Id && (string?)a["principalType"] == "Group"
                && ((string)a["roleDefinitionId"]!).EndsWith(
                    level == AccessLevel.Reader
                        ? ContainerRoleAssignments.StorageBlobDataReader
                        : ContainerRoleAssignments.StorageBlobDataContributor,
                    StringComparison.Ordinal));
        }

        // Storage controls set through ARM: the scope, unlocked raw-data immutability, the container in Gardien's lifecycle rule.
        Assert.Contains(policy.Storage.Encryption.Scope, _arm.EncryptionScopes);
        Assert.Equal(policy.Storage.RawDataImmutability.Days, _arm.Containers[container].ImmutabilityDays);
        Assert.NotEqual("Locked", _arm.Containers[container].ImmutabilityState);
        Assert.Contains(_arm.LifecycleRules!, r => ((string)r!["name"]!).StartsWith("gardien", StringComparison.Ordinal)
            && r["definition"]!["filters"]!["prefixMatch"]!.AsArray().Any(p => (string?)p == container + "/"));

        // ...and read back into the registry: what Azure reports in force, not what the plan asked.
        var dataset = Assert.Single(await services.GetRequiredService<IGovernanceRegistry>().ListDatasetsAsync(DmpId));
        Assert.Equal(container, dataset.Container);
        Assert.Superset(
            new HashSet<string>
            {
                GovernanceFeatures.EncryptionScope,
                GovernanceFeatures.Immutability,
                GovernanceFeatures.LifecyclePolicy,
                GovernanceFeatures.ContainerMetadata,
            },
            dataset.Controls!.Enforced.ToHashSet());
        Assert.Equal(policy.Storage.RawDataImmutability.Days, dataset.Controls.ImmutabilityDays);
        Assert.False(dataset.Controls.ImmutabilityLocked);

        // Written back to DMP OPIDoR: the container is the research output's storage facility.
        var writeBack = Assert.Single(_opidor.Requests, r => r.Method == "PUT");
        Assert.Equal("/api/v1/madmp/fragments/9102", writeBack.Path);
        Assert.Contains(
            container,
            JsonNode.Parse(writeBack.Body!)!["data"]!["facility"]![1]!["technicalResourceId"]!.GetValue<string>(),
            StringComparison.Ordinal);

        // Every Azure call carried the identity's token; the audit trail is one valid chain.
        Assert.All(
            _arm.Arm.Requests,
            r => Assert.Equal("Bearer " + FixedTokenCredential.Token, Loopback.Header(r.RequestMessage, "Authorization")));
        Assert.NotEmpty(_vault.AuthenticatedRequests);
        Assert.All(_graph.Requests, r => Assert.Equal("Bearer " + FixedTokenCredential.Token, Loopback.Header(r, "Authorization")));
        var verification = await services.GetRequiredService<IAuditLog>().VerifyAsync();
        Assert.True(verification.Intact, verification.ToString());
    }

    private void ServeOpidor()
    {
        // The plan's RDA export, made raw, personal and sensitive health data: immutability, encryption scope and the DPO.
        var rda = JsonNode.Parse(TestFiles.Read("Data/opidor-rda.json"))!;
        var dataset = rda["dmp"]!["dataset"]![0]!;
        dataset["type"] = "raw data";
        dataset["personal_data"] = "yes";
        dataset["sensitive_data"] = "yes";
        _opidor.Server.Given(Request.Create().WithPath("/api/v1/authenticate").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{\"access_token\":\"tok\",\"expires_in\":3600}"));
        _opidor.Server.Given(Request.Create().WithPath("/api/v1/madmp/plans/4242").WithParam("export_format", "rda").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(rda.ToJsonString()));
        _opidor.Server.Given(Request.Create().WithPath("/api/v1/madmp/plans/4242").WithParam("export_format", "standard").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(TestFiles.Read("Data/opidor-standard.json")));
        _opidor.Server.Given(Request.Create().WithPath("/api/v1/madmp/fragments/9102").UsingPut())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
    }

    private void SeedVaultAndDirectory()
    {
        var created = DateTimeOffset.UtcNow.AddDays(-1);
        _vault.SetSecret("approval-signing-key-k1", Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)), created);
        _vault.SetSecret(WebhookSecret, _webhook.Url.AbsoluteUri, created);
        _vault.SetSecret("opidor-client-id", "gardien-app", created);
        _vault.SetSecret("opidor-client-secret", "s3cret", created);

        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "samples", "directory.sample.json")))!;
        foreach (var user in sample["users"]!.AsArray())
        {
            var email = (string)user!["email"]!;
            _graph.AddUser((string)user["displayName"]!, email, email, orcid: (string?)user["orcid"]);
        }

        _graph.AddUser("Gardien", Sender, Sender);
        _graph.WithoutTeamsApp.Add(_graph.Users.Single(u => u.Mail == Dpo).Id);
    }

    private async Task<ServiceProvider> StartAsync()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var time = TimeProvider.System;
        var registry = new FailureTranslatingGovernanceRegistry(
            new TableGovernanceRegistry(new TableServiceClient(azurite.ConnectionString), "all" + id));
        var audit = new AppendBlobAuditLog(new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("audit-" + id));

        var vaultOptions = new KeyVaultOptions { VaultUri = _vault.VaultUri };
        var secrets = new KeyVaultSecretStore(
            KeyVaultSecretStore.CreateClient(
                vaultOptions,
                _credential,
                new HttpClientTransport(Loopback.TrustingHandler()),
                disableChallengeResourceVerification: true), vaultOptions, time);

        var research = _arm.Arm.Options;
        research.TierToCoolAfterDays = 90;
        var controls = new StorageAccountControls(research, _credential, _arm.Arm.ClientOptions());
        var dataPlane = new BlobStorageProvisioner(new BlobServiceClient(azurite.ConnectionString));
        var storage = new AzureStorageProvisioner(
            dataPlane, controls, new LifecyclePolicySync(controls, registry, dataPlane, research, time), time);
        var roles = new ContainerRoleAssignments(research, _credential, _arm.Arm.ClientOptions());

        var graphOptions = new GraphOptions { BaseUrl = _graph.BaseUrl, OrcidAttribute = FakeGraph.OrcidAttribute };
        var graph = GardienGraphClient.Create(graphOptions, _credential);
        var directory = new GraphDirectory(graph, graphOptions, roles, time, null, (_, _) => Task.CompletedTask);
        var notifier = new TeamsNotifier(
            graph, directory, secrets, registry, TeamsNotifier.CreateWebhookClient(Loopback.TrustingHandler()),
            new TeamsNotificationOptions { MailSender = Sender, TeamsAppId = AppId, WebhookSecretName = WebhookSecret },
            graphOptions,
            time);

        var opidor = new DmpToolSettings
        {
            Kind = DmpToolKind.Opidor,
            BaseUrl = _opidor.Uri,
            ClientIdSecretName = "opidor-client-id",
            ClientSecretName = "opidor-client-secret",
        };
        opidor.PlanIds.Add("4242");
        var tools = new DmpToolClients(
            [new DmpToolSource("opidor", new OpidorDmpToolClient("opidor", opidor, new HttpClient(), secrets, time))]);

        var services = new ServiceCollection()
            .AddSingleton<IGovernanceRegistry>(registry)
            .AddSingleton<IAuditLog>(audit)
            .AddSingleton<ISecretStore>(secrets)
            .AddSingleton<IStorageProvisioner>(storage)
            .AddSingleton<IDirectory>(directory)
            .AddSingleton<INotifier>(notifier)
            .AddSingleton<IDmpToolClient>(tools)
            .AddSingleton(time)
            .AddSingleton(sp => new ApprovalTokenService(secrets, registry, new ApprovalTokenSettings(), time))
            .AddGardienHostServices(new GardienWorkflowOptions { ApprovalBaseUrl = new Uri("https://func-gardien.azurewebsites.net/api/") })
            .AddWorkflowEngine(
                registry => registry.AddGardienWorkflows(),
                _ => new InMemoryWorkflowStore(),
                _ => new WorkflowEngineOptions { StoreErrorBackoff = TimeSpan.FromMilliseconds(50) });
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<WorkflowEngine>().StartAsync();
        return provider;
    }

    /// <summary>Plays every approver from what reached them: the token in a Teams activity link, or the approve link of a mail.</summary>
    private async Task<List<(string Channel, string Recipient)>> ApproveEverythingAsync(ServiceProvider services, string instanceId)
    {
        var decisions = services.GetRequiredService<ApprovalDecisionService>();
        var workflows = services.GetRequiredService<WorkflowClient>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var decided = new List<(string Channel, string Recipient)>();
        var deadline = DateTime.UtcNow + HangGuard;
        while (true)
        {
            var (activities, mails) = _graph.Delivered();
            var pending = activities
                .Where(a => ((string?)a.Body["topic"]!["value"])?.StartsWith("Approval needed", StringComparison.Ordinal) == true)
                .Select(a => ("teams", _graph.Users.Single(u => u.Id == a.UserId).Mail!, TokenFromActivity(a.Body)))
                .Concat(mails
                    .Select(m => m.Body["Message"]!)
                    .Where(m => ((string?)m["subject"])?.StartsWith("Approval needed", StringComparison.Ordinal) == true)
                    .Select(
                        m => (
                            "mail",
                            (string)m["toRecipients"]![0]!["emailAddress"]!["address"]!,
                            ApproveToken().Match((string)m["body"]!["content"]!).Groups["t"].Value)));
            foreach (var (channel, recipient, token) in pending)
            {
                if (seen.Add(token))
                {
                    var result = await decisions.SubmitAsync(token, "approve", "looks right", "user:" + recipient);
                    Assert.True(result.Accepted, result.Message);
                    decided.Add((channel, recipient));
                }
            }

            var instance = await workflows.GetInstanceAsync(instanceId);
            if (instance is { IsCompleted: true })
            {
                return decided;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"{instanceId} did not complete (status {instance?.Status}, custom status {instance?.SerializedCustomStatus}).");
            }

            await Task.Delay(50);
        }
    }

    private static string TokenFromActivity(JsonObject activity)
    {
        var link = new Uri((string)activity["topic"]!["webUrl"]!);
        var context = link.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).Single(p => p[0] == "context")[1];
        return (string)JsonNode.Parse(Uri.UnescapeDataString(context))!["subEntityId"]!;
    }

    [GeneratedRegex(@"/approvals/(?<t>[A-Za-z0-9_.%-]+)\?decision=approve")]
    private static partial Regex ApproveToken();
}
