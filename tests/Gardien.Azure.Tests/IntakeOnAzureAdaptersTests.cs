using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gardien.Azure.Graph;
using Gardien.Azure.Teams;
using Gardien.Azure.Tests.Support;
using Gardien.Local.Configuration;
using Gardien.Runtime;
using Gardien.Runtime.Engine;
using Gardien.Runtime.Storage;
using Gardien.Testing;
using Gardien.Workflows;
using Gardien.Workflows.Access;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gardien.Azure.Tests;

/// <summary>
/// The intake workflow on the embedded engine with the Entra ID directory and the Teams notifier pointed at a fake Graph
/// and a fake Teams webhook; storage, registry, audit and DMP tool are the local adapters on Azurite, and role
/// assignments are recorded by a stand-in for the ARM adapter. The approvers decide from the token their Teams
/// notification (or, without the Teams app, their mail) carries.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class IntakeOnAzureAdaptersTests(AzuriteFixture azurite) : IDisposable
{
    private const string AppId = "7c9f3b2a-1d4e-4f60-8a9b-0c1d2e3f4a5b";
    private const string Sender = "gardien@neuro-institute.example";
    private const string Dpo = "dpo@neuro-institute.example";

    /// <summary>Hang guard only: no assertion on elapsed time.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);

    private readonly FakeGraph _graph = new();
    private readonly FakeWebhook _webhook = new();
    private readonly RecordingRoleAssignments _roles = new();

    public void Dispose()
    {
        _graph.Dispose();
        _webhook.Dispose();
    }

    [Fact]
    public async Task Intake_HealthStudy_GroupsInEntraId_ApprovalsThroughTeamsAndMail_CardsPosted()
    {
        SeedDirectory();
        var dpo = _graph.Users.Single(u => u.Mail == Dpo);
        _graph.WithoutTeamsApp.Add(dpo.Id);
        await using var services = await StartAsync();
        var json = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "samples", "dmp-health-study.json"));
        var piEmail = JsonNode.Parse(json)!["dmp"]!["contact"]!["mbox"]!.GetValue<string>();

        var submitted = await services.GetRequiredService<DmpSubmissionService>().SubmitAsync(json, "user:test");
        var decided = await ApproveEverythingAsync(services, submitted.InstanceId!);

        var output = (await services.GetRequiredService<WorkflowClient>().GetInstanceAsync(submitted.InstanceId!))!.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.True(output.State == IntakeState.Active, $"{output.State}: {output.Reason}");
        Assert.Equal(output.Approvals.Count, decided.Count);
        Assert.Contains(decided, d => d.Channel == "mail" && d.Recipient == Dpo);
        Assert.Contains(decided, d => d.Channel == "teams");

        // One security group per container and level in Entra ID, holding exactly the granted people, with its role assignment.
        Assert.NotEmpty(output.Grants);
        foreach (var grant in output.Grants)
        {
            var name = AccessGroups.GroupName(grant.Container, grant.Level);
            var group = Assert.Single(_graph.Groups.Values, g => g.DisplayName == name);
            Assert.True(group.SecurityEnabled);
            Assert.False(group.MailEnabled);
            Assert.Equal(GraphNames.MailNickname(name), group.UniqueName);
            Assert.Contains(grant.PrincipalId, group.Members);
            Assert.Contains($"assign Group {group.Id} {grant.Container} {grant.Level}", _roles.Calls);
        }

        Assert.Equal(output.Grants.Count, _graph.Groups.Values.Sum(g => g.Members.Count));

        // Every approval request also went to the stewards' channel as a card with Approve / Reject / Open.
        var cards = _webhook.Requests.Select(r => JsonNode.Parse(r.Body!)!["attachments"]![0]!["content"]!).ToList();
        var requestCards = cards.Where(c => ((string)c["body"]![0]!["text"]!).StartsWith("Approval needed", StringComparison.Ordinal)).ToList();
        Assert.Equal(output.Approvals.Count, requestCards.Count);
        Assert.All(requestCards, c => Assert.Equal(["Approve", "Reject", "Open"], c["actions"]!.AsArray().Select(a => (string?)a!["title"])));

        // The PI's summary reached their Teams activity feed.
        var pi = _graph.Users.Single(u => string.Equals(u.Mail, piEmail, StringComparison.OrdinalIgnoreCase));
        Assert.Contains(_graph.Delivered().Activities, a => a.UserId == pi.Id && (string?)a.Body["templateParameters"]![0]!["value"] == "sent you a summary");
    }

    private void SeedDirectory()
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "samples", "directory.sample.json")))!;
        foreach (var user in sample["users"]!.AsArray())
        {
            var email = (string)user!["email"]!;
            _graph.AddUser((string)user["displayName"]!, email, email, orcid: (string?)user["orcid"]);
        }

        _graph.AddUser("Gardien", Sender, Sender);
    }

    private async Task<ServiceProvider> StartAsync()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var root = Path.Combine(Path.GetTempPath(), "gardien-azure-e2e-" + id);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Local:StorageConnectionString"] = azurite.ConnectionString,
            ["Local:InboxPath"] = Path.Combine(root, "inbox"),
            ["Local:DirectoryPath"] = Path.Combine(root, "directory.json"),
            ["Local:DmpFolder"] = Path.Combine(root, "dmps"),
            ["Local:TablePrefix"] = "az" + id,
            ["Local:AuditContainer"] = "audit-" + id,
            ["Secrets:approval-signing-key-k1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Secrets:teams-workflow-webhook-url"] = _webhook.Url.AbsoluteUri,
        }).Build();
        var graphOptions = new GraphOptions { BaseUrl = _graph.BaseUrl, OrcidAttribute = FakeGraph.OrcidAttribute };
        var client = GardienGraphClient.Create(graphOptions, new FixedTokenCredential());
        var directory = new GraphDirectory(client, graphOptions, _roles, TimeProvider.System, null, (_, _) => Task.CompletedTask);

        // The Azure adapters first: the local registration keeps them and fills in the other ports.
        var services = new ServiceCollection()
            .AddSingleton<IDirectory>(directory)
            .AddSingleton<INotifier>(sp => new TeamsNotifier(
                client,
                directory,
                sp.GetRequiredService<ISecretStore>(),
                sp.GetRequiredService<IGovernanceRegistry>(),
                TeamsNotifier.CreateWebhookClient(Loopback.TrustingHandler()),
                new TeamsNotificationOptions { MailSender = Sender, TeamsAppId = AppId, WebhookSecretName = "teams-workflow-webhook-url" },
                graphOptions))
            .AddGardienLocalAdapters(configuration)
            .AddGardienHostServices(new GardienWorkflowOptions { ApprovalBaseUrl = new Uri("https://gardien.neuro-institute.example/") })
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
                    .Select(m => ("mail", (string)m["toRecipients"]![0]!["emailAddress"]!["address"]!, ApproveToken().Match((string)m["body"]!["content"]!).Groups["t"].Value)));
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
                throw new TimeoutException($"{instanceId} did not complete (status {instance?.Status}, custom status {instance?.SerializedCustomStatus}).");
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
