using System.Text.Json.Nodes;
using Gardien.Azure.Graph;
using Gardien.Azure.Teams;
using Gardien.Azure.Tests.Fakes;
using Gardien.Testing.Logging;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Ports;

namespace Gardien.Azure.Tests.Teams;

public sealed class TeamsNotifierTests : IDisposable
{
    private const string AppId = "7c9f3b2a-1d4e-4f60-8a9b-0c1d2e3f4a5b";
    private const string Sender = "gardien@inst.example";
    private const string WebhookSecret = "teams-workflow-webhook-url";
    private static readonly Uri Approve = IssueApprovalLinkActivity.LinkFor(
        new Uri("https://gardien.inst.example/"), "eyJ2IjoxfQ.c2ln", "approve");
    private static readonly Uri Reject = IssueApprovalLinkActivity.LinkFor(
        new Uri("https://gardien.inst.example/"), "eyJ2IjoxfQ.c2ln", "reject");

    private readonly FakeGraph _graph = new();
    private readonly FakeWebhook _webhook = new();
    private readonly MemoryLedger _ledger = new();
    private readonly RecordedDelays _delays = new();
    private readonly ListLogger<TeamsNotifier> _log = new();

    public TeamsNotifierTests() => _graph.AddUser("Gardien", Sender, Sender);

    public void Dispose()
    {
        _graph.Dispose();
        _webhook.Dispose();
    }

    [Fact]
    public async Task ApprovalRequestInFrench_ActivityFeedAndCard_SecondSendIsANoOp()
    {
        var pi = _graph.AddUser("Marie Curie", "marie@inst.example", "mcurie@inst.example");
        var notifier = Notifier();

        var first = await notifier.SendAsync(Request("fr", "marie@inst.example"));
        var graphRequests = _graph.Requests.Count;
        var second = await notifier.SendAsync(Request("fr", "marie@inst.example"));

        Assert.False(first.Duplicate);
        Assert.True(second.Duplicate);
        Assert.Equal(first.MessageId, second.MessageId);
        Assert.Equal(graphRequests, _graph.Requests.Count);
        Assert.Single(_webhook.Requests);
        Assert.Empty(_graph.Mails);

        var (userId, activity) = Assert.Single(_graph.Activities);
        Assert.Equal(pi.Id, userId);
        var post = _graph.Requests.Single(r => r.Path.EndsWith("sendActivityNotification", StringComparison.Ordinal));
        Assert.Equal(
            ("POST", $"/v1.0/users/{pi.Id}/teamwork/sendActivityNotification", "Bearer test-token"),
            (post.Method, post.Path, Loopback.Header(post, "Authorization")));
        Assert.Equal("text", (string?)activity["topic"]!["source"]);
        Assert.Equal("Approbation requise : Cohorte IRM", (string?)activity["topic"]!["value"]);
        var webUrl = (string)activity["topic"]!["webUrl"]!;
        Assert.StartsWith($"https://teams.microsoft.com/l/entity/{AppId}/approvals?label=", webUrl, StringComparison.Ordinal);
        Assert.Contains(
            "&webUrl=" + Uri.EscapeDataString("https://gardien.inst.example/approvals/eyJ2IjoxfQ.c2ln"), webUrl, StringComparison.Ordinal);
        Assert.Contains("&context=" + Uri.EscapeDataString("{\"subEntityId\":\"eyJ2IjoxfQ.c2ln\"}"), webUrl, StringComparison.Ordinal);
        Assert.Equal("systemDefault", (string?)activity["activityType"]);
        Assert.Equal(AppId, (string?)activity["teamsAppId"]);
        Assert.StartsWith("Madame, Gardien demande", (string?)activity["previewText"]!["content"], StringComparison.Ordinal);
        var parameter = Assert.Single(activity["templateParameters"]!.AsArray());
        Assert.Equal(("systemDefaultText", "demande votre approbation"), ((string?)parameter!["name"], (string?)parameter["value"]));

        var card = JsonNode.Parse(Assert.Single(_webhook.Requests).Body!)!;
        Assert.Equal("POST", _webhook.Requests[0].Method);
        Assert.Equal("/workflows/0f1e2d/triggers/manual/paths/invoke", _webhook.Requests[0].Path);
        Assert.Equal("SECRETSIGNATURE", Loopback.Query(_webhook.Requests[0])["sig"]);
        Assert.Null(Loopback.Header(_webhook.Requests[0], "Authorization"));
        Assert.Equal("message", (string?)card["type"]);
        var attachment = card["attachments"]![0]!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", (string?)attachment["contentType"]);
        Assert.Equal("AdaptiveCard", (string?)attachment["content"]!["type"]);
        Assert.Equal("Approbation requise : Cohorte IRM", (string?)attachment["content"]!["body"]![0]!["text"]);
        var actions = attachment["content"]!["actions"]!.AsArray();
        Assert.All(actions, a => Assert.Equal("Action.OpenUrl", (string?)a!["type"]));
        Assert.Equal(
            [
                ("Approuver", Approve.AbsoluteUri),
                ("Refuser", Reject.AbsoluteUri),
                ("Ouvrir", "https://gardien.inst.example/approvals/eyJ2IjoxfQ.c2ln"),
            ],
            actions.Select(a => ((string)a!["title"]!, (string)a["url"]!)));
    }

    [Fact]
    public async Task TeamsAppNotInstalled_TheRecipientIsMailedInstead()
    {
        var pi = _graph.AddUser("Ada", "ada@inst.example", "ada@inst.example");
        _graph.WithoutTeamsApp.Add(pi.Id);

        var receipt = await Notifier(webhook: false).SendAsync(Request("en", "ada@inst.example"));

        Assert.False(receipt.Duplicate);
        Assert.Empty(_graph.Activities);
        var (sender, mail) = Assert.Single(_graph.Mails);
        Assert.Equal(Sender, sender);
        var post = _graph.Requests.Single(r => r.Path.EndsWith("/sendMail", StringComparison.Ordinal));
        Assert.Equal(("POST", $"/v1.0/users/{Sender}/sendMail"), (post.Method, Uri.UnescapeDataString(post.Path)));
        // The SDK writes the action's parameters as Graph's metadata names them (Message, SaveToSentItems); Graph reads them
        // case-insensitively.
        var message = mail["Message"]!;
        Assert.Equal("Approbation requise : Cohorte IRM", (string?)message["subject"]);
        Assert.Equal("text", (string?)message["body"]!["contentType"]);
        var text = (string)message["body"]!["content"]!;
        Assert.Contains(
            $"- Approve: {Approve.AbsoluteUri}\n- Reject: {Reject.AbsoluteUri}\n- Open: "
            + "https://gardien.inst.example/approvals/eyJ2IjoxfQ.c2ln",
            text,
            StringComparison.Ordinal);
        Assert.Contains("Reference: instance-1", text, StringComparison.Ordinal);
        Assert.Equal("ada@inst.example", (string?)message["toRecipients"]![0]!["emailAddress"]!["address"]);
        Assert.Equal(
            ("X-Gardien-Message-Id", receipt.MessageId),
            ((string)message["internetMessageHeaders"]![0]!["name"]!, (string)message["internetMessageHeaders"]![0]!["value"]!));
        Assert.False((bool)mail["SaveToSentItems"]!);
    }

    [Fact]
    public async Task RecipientNotInTheDirectory_IsMailedAtTheirAddress()
    {
        await Notifier(webhook: false).SendAsync(Request("en", "visitor@partner.example"));

        Assert.Equal(
            "visitor@partner.example",
            (string?)Assert.Single(_graph.Mails).Body["Message"]!["toRecipients"]![0]!["emailAddress"]!["address"]);
    }

    [Fact]
    public async Task NoChannelWorks_FailsTransient_ARetrySendsOnlyWhatIsMissing()
    {
        var reached = _graph.AddUser("A", "a@inst.example", "a@inst.example");
        var unlucky = _graph.AddUser("B", "b@inst.example", "b@inst.example");
        _graph.WithoutTeamsApp.Add(unlucky.Id);
        _graph.Fail("POST", "/sendMail", 3, () => FakeGraph.Error(503, "ServiceUnavailable", "Mailbox busy"));
        var notifier = Notifier(webhook: false, maxAttempts: 3);
        var notification = Request("en", "a@inst.example", "b@inst.example");

        var ex = await Assert.ThrowsAsync<PortException>(() => notifier.SendAsync(notification));
        Assert.True(ex.IsTransient);
        Assert.Contains("b@inst.example", ex.Message, StringComparison.Ordinal);

        var receipt = await notifier.SendAsync(notification);

        Assert.False(receipt.Duplicate);
        Assert.Equal([reached.Id], _graph.Activities.Select(a => a.UserId));
        Assert.Equal(
            "b@inst.example", (string?)Assert.Single(_graph.Mails).Body["Message"]!["toRecipients"]![0]!["emailAddress"]!["address"]);
        Assert.True((await notifier.SendAsync(notification)).Duplicate);
    }

    [Fact]
    public async Task WebhookDown_EveryRecipientIsMailed_AndTheUrlIsNeverLogged()
    {
        _graph.AddUser("A", "a@inst.example", "a@inst.example");
        _webhook.Fail(() => Loopback.Empty(500), () => Loopback.Empty(502), () => Loopback.Empty(503));
        var notifier = Notifier(maxAttempts: 3);

        var receipt = await notifier.SendAsync(Request("en", "a@inst.example"));

        Assert.False(receipt.Duplicate);
        Assert.Equal(3, _webhook.Requests.Count);
        Assert.Single(_graph.Activities);
        Assert.Single(_graph.Mails);
        Assert.True((await notifier.SendAsync(Request("en", "a@inst.example"))).Duplicate);
        Assert.Equal(3, _webhook.Requests.Count);
        Assert.NotEmpty(_log.Lines);
        Assert.DoesNotContain(
            _log.Lines, l => l.Contains("SECRETSIGNATURE", StringComparison.Ordinal) || l.Contains("Cohorte", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebhookThrottled_WaitsWhatRetryAfterSays_PostsOnce()
    {
        _graph.AddUser("A", "a@inst.example", "a@inst.example");
        _webhook.Fail(() => Loopback.Empty(429, ("Retry-After", "3")));

        await Notifier().SendAsync(Request("en", "a@inst.example"));

        Assert.Equal([TimeSpan.FromSeconds(3)], _delays.Waits);
        Assert.Equal(2, _webhook.Requests.Count);
        Assert.Empty(_graph.Mails);
    }

    [Fact]
    public async Task SummaryKind_IsNotPostedAsACard_AndWorkflowLabelsAreKept()
    {
        _graph.AddUser("A", "a@inst.example", "a@inst.example");
        var notification = Request("en", "a@inst.example") with
        {
            Kind = NotificationKind.Summary,
            Links = [new NotificationLink("Confirm the disposal", Approve)],
        };

        await Notifier().SendAsync(notification);

        Assert.Empty(_webhook.Requests);
        Assert.Equal(
            ["Confirm the disposal", "Open"], NotificationRendering.Buttons(notification, NotificationTexts.English).Select(b => b.Label));
    }

    [Fact]
    public async Task NoRecipient_IsRefused()
    {
        await Assert.ThrowsAsync<PortRefusedException>(() => Notifier().SendAsync(Request("en")));
    }

    private static Notification Request(string language, params string[] to) => new(
        NotificationKind.ApprovalRequest,
        to,
        "Approbation requise : Cohorte IRM",
        "Madame, Gardien demande votre décision sur « Cohorte IRM ».",
        [new NotificationLink("Approve", Approve), new NotificationLink("Reject", Reject)],
        "instance-1",
        "instance-1:request",
        language);

    private TeamsNotifier Notifier(bool webhook = true, int maxAttempts = 5)
    {
        var graphOptions = new GraphOptions { BaseUrl = _graph.BaseUrl, MaxAttempts = maxAttempts };
        var client = GardienGraphClient.Create(graphOptions, new FixedTokenCredential());
        var directory = new GraphDirectory(client, graphOptions, new RecordingRoleAssignments(), TimeProvider.System, null, _delays.Wait);
        var options = new TeamsNotificationOptions
        {
            MailSender = Sender,
            TeamsAppId = AppId,
            WebhookSecretName = webhook ? WebhookSecret : null,
        };
        return new TeamsNotifier(
            client,
            directory,
            new DictionarySecretStore(new() { [WebhookSecret] = _webhook.Url.AbsoluteUri }),
            _ledger,
            TeamsNotifier.CreateWebhookClient(Loopback.TrustingHandler()),
            options,
            graphOptions,
            TimeProvider.System,
            _log,
            _delays.Wait);
    }
}
