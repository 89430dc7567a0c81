using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gardien.Local.Serve;
using Gardien.Local.Tests.Hosting;
using Gardien.Testing;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Http;
using Gardien.Workflows.Intake;
using Microsoft.Extensions.DependencyInjection;

namespace Gardien.Local.Tests.Serve;

/// <summary>The local service's HTTP API against a real <c>gardien serve</c> (engine, Kestrel, local adapters) on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ServeApiTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task EveryRoute_HealthDmp_IsSubmittedApprovedOverHttpAndShownWithContainersGrantsAndApprovals()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var serve = await ServeHarness.StartAsync(sandbox);

        Assert.Equal(HttpStatusCode.OK, (await serve.Http.GetAsync(GardienRoutes.Health)).StatusCode);
        using var submitted = await serve.SubmitAsync();
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var location = submitted.Headers.Location!.ToString();
        Assert.Equal(GardienRoutes.WorkflowPath(IntakeDmpWorkflow.InstanceIdFor(sandbox.DmpId)), location);
        var workflow = JsonDocument.Parse(await serve.Http.GetStringAsync(location)).RootElement;
        Assert.Equal(nameof(IntakeDmpWorkflow), workflow.GetProperty("name").GetString());

        var requests = await serve.WaitForOpenRequestsAsync(3);
        var pending = await serve.WaitForDmpAsync(d => d.GetProperty("pendingApprovals").GetArrayLength() == 3);
        Assert.Equal("Pending", pending.GetProperty("dmp").GetProperty("state").GetString());
        Assert.NotEqual(JsonValueKind.Undefined, pending.GetProperty("plan").ValueKind);
        var list = JsonDocument.Parse(await serve.Http.GetStringAsync(GardienRoutes.Dmps + "?state=Pending&pageSize=1")).RootElement;
        Assert.Equal(sandbox.DmpId, list.GetProperty("items")[0].GetProperty("dmpId").GetString());

        // The same version again joins the running intake: the same instance, nothing new.
        using var again = await serve.SubmitAsync();
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(location, again.Headers.Location!.ToString());
        Assert.Equal("Joined", JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("outcome").GetString());

        foreach (var request in requests)
        {
            using var decided = await serve.DecideAsync(request, "approve", "Checked against the ethics approval.");
            Assert.True(decided.IsSuccessStatusCode, await decided.Content.ReadAsStringAsync());
        }

        var active = await serve.WaitForDmpAsync(d => d.GetProperty("dmp").GetProperty("state").GetString() == "Active");
        var datasets = active.GetProperty("datasets").EnumerateArray().ToList();
        Assert.Equal(4, datasets.Count);
        Assert.All(datasets, d => Assert.True(d.GetProperty("containerExists").GetBoolean()));
        Assert.All(datasets, d => Assert.NotEmpty(d.GetProperty("noticeDates").EnumerateArray()));
        Assert.Contains(datasets, d => d.GetProperty("notEnforcedLocally").GetArrayLength() > 0);
        Assert.Contains(active.GetProperty("grants").EnumerateArray(), g => g.GetProperty("principalId").GetString() == "u-claire-dubois"
            && g.GetProperty("level").GetString() == "Owner" && g.GetProperty("endsOn").GetString() is { Length: 10 });
        var approvals = active.GetProperty("approvals").EnumerateArray().ToList();
        Assert.Equal(3, approvals.Count);
        Assert.All(approvals, a => Assert.Equal("Checked against the ethics approval.", a.GetProperty("comment").GetString()));
        Assert.All(approvals, a => Assert.Equal(a.GetProperty("approver").GetString(), a.GetProperty("decidedBy").GetString()));
        Assert.True(active.TryGetProperty("findings", out _));

        using var inForce = await serve.SubmitAsync();
        Assert.Equal(HttpStatusCode.OK, inForce.StatusCode);
        Assert.Equal("AlreadyInForce",
            JsonDocument.Parse(await inForce.Content.ReadAsStringAsync()).RootElement.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task BadInput_MalformedOversizedWrongTypeOrWithoutKey_GetsAProblemAndStartsNothing()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var serve = await ServeHarness.StartAsync(sandbox);

        using var malformed = await serve.SubmitAsync("{\"dmp\": {\"title\": \"x\",,}}");
        using var oversized = await serve.SubmitAsync("{\"dmp\": {\"title\": \"" + new string('x', 11 * 1024 * 1024) + "\"}}");
        using var plainText = await serve.Keyed.PostAsync(GardienRoutes.Dmps,
            new StringContent(await File.ReadAllTextAsync(sandbox.DmpPath), Encoding.UTF8, "text/plain"));
        using var withoutKey = await serve.Http.PostAsync(GardienRoutes.Dmps,
            new StringContent(await File.ReadAllTextAsync(sandbox.DmpPath), Encoding.UTF8, "application/json"));
        using var unknown = await serve.Http.GetAsync(GardienRoutes.DmpPath("https://doi.org/10.99999/nothing-here"));
        using var noRoute = await serve.Http.GetAsync("/api/nothing");

        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType!.MediaType);
        var problem = JsonDocument.Parse(await malformed.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("line 1", problem.GetProperty("errors")[0].GetProperty("message").GetString()!, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversized.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plainText.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Contains(ServiceDiscovery.KeyHeader, await withoutKey.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noRoute.StatusCode);
        foreach (var response in new[] { malformed, oversized, plainText, withoutKey, unknown, noRoute })
        {
            Assert.DoesNotContain("   at ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var dmps = JsonDocument.Parse(await serve.Http.GetStringAsync(GardienRoutes.Dmps)).RootElement;
        Assert.Empty(dmps.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task ApprovalLinks_ForgedUsedAndExpired_GetClearPages_AndACrossSitePostIsRefused()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var serve = await ServeHarness.StartAsync(sandbox);
        using var _ = await serve.SubmitAsync();
        var request = (await serve.WaitForOpenRequestsAsync(3))[0];
        var link = new Uri(ServeHarness.LinkOf(request, "approve")).PathAndQuery;

        // Forged: the signature does not match.
        var token = link[(link.LastIndexOf('/') + 1)..link.IndexOf('?', StringComparison.Ordinal)];
        var forged = token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA");
        using var forgedPage = await serve.Http.GetAsync($"{GardienRoutes.Approvals}/{forged}?decision=approve");
        Assert.Equal(HttpStatusCode.BadRequest, forgedPage.StatusCode);
        Assert.Contains("not genuine", await forgedPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Expired: genuinely signed, past its expiry.
        var tokens = serve.Service.Host.Services.GetRequiredService<ApprovalTokenService>();
        var expired = await tokens.IssueAsync(new ApprovalTokenRequest("expired-1", request.GetProperty("correlationId").GetString()!,
            "steward",
            request.GetProperty("to").GetString()!, ["approve", "reject"], DateTimeOffset.UtcNow.AddDays(-1)));
        using var expiredPage = await serve.Http.GetAsync($"{GardienRoutes.Approvals}/{expired}?decision=approve");
        Assert.Equal(HttpStatusCode.Gone, expiredPage.StatusCode);
        Assert.Contains("expired", await expiredPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A post from another site's page, even with a cookie and field that match, decides nothing.
        using var crossSite = new HttpRequestMessage(HttpMethod.Post, link)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = new string('A', 43) }),
        };
        crossSite.Headers.Add("Cookie", $"{ApprovalHttpEndpoint.CsrfCookie}={new string('A', 43)}");
        crossSite.Headers.Add("Origin", "https://evil.example");
        using var refused = await serve.Http.SendAsync(crossSite);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        // Used: once decided, the link is closed.
        using var first = await serve.DecideAsync(request, "approve");
        Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
        await serve.WaitForDmpAsync(d => d.GetProperty("approvals").EnumerateArray().Any(a =>
            a.GetProperty("decision").GetString() == "Approved"));
        using var used = await serve.Http.GetAsync(link);
        Assert.Equal(HttpStatusCode.Gone, used.StatusCode);
        Assert.Contains("already closed", await used.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_MidFlight_ResumesEveryInstanceAndLosesNothing()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        IReadOnlyList<JsonElement> requests;
        await using (var first = await ServeHarness.StartAsync(sandbox))
        {
            using var _ = await first.SubmitAsync();
            requests = await first.WaitForOpenRequestsAsync(3);
            using var one = await first.DecideAsync(requests[0], "approve", "before the restart");
            Assert.True(one.IsSuccessStatusCode);
        }

        Assert.False(File.Exists(Path.Combine(sandbox.Combine("state"), ServiceDiscovery.DiscoveryFileName)));
        await using var second = await ServeHarness.StartAsync(sandbox);
        foreach (var request in requests.Skip(1))
        {
            using var decided = await second.DecideAsync(request, "approve", "after the restart");
            Assert.True(decided.IsSuccessStatusCode, await decided.Content.ReadAsStringAsync());
        }

        var active = await second.WaitForDmpAsync(d => d.GetProperty("dmp").GetProperty("state").GetString() == "Active");
        Assert.Equal(["after the restart", "after the restart", "before the restart"],
            active.GetProperty("approvals").EnumerateArray().Select(a =>
                a.GetProperty("comment").GetString()).Order(StringComparer.Ordinal));
        Assert.All(active.GetProperty("datasets").EnumerateArray(), d => Assert.True(d.GetProperty("containerExists").GetBoolean()));
    }

    [Fact]
    public async Task EventsEndpoint_AnswersBothHandshakes_AndHandlesABlobEventLikeTheAzureQueue()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var serve = await ServeHarness.StartAsync(sandbox);

        using var options = new HttpRequestMessage(HttpMethod.Options, GardienRoutes.Events);
        options.Headers.Add("WebHook-Request-Origin", "eventgrid.azure.net");
        using var handshake = await serve.Keyed.SendAsync(options);
        Assert.Equal(HttpStatusCode.OK, handshake.StatusCode);
        Assert.Equal("eventgrid.azure.net", handshake.Headers.GetValues("WebHook-Allowed-Origin").Single());

        var validation = """
            [{"id":"v1","topic":"/t","subject":"","eventType":"Microsoft.EventGrid.SubscriptionValidationEvent",
              "eventTime":"2026-12-01T00:00:00Z",
              "data":{"validationCode":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"},"dataVersion":"1","metadataVersion":"1"}]
            """;
        using var validated = await serve.Keyed.PostAsync(GardienRoutes.Events, new StringContent(validation, Encoding.UTF8,
            "application/json"));
        Assert.Equal("512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
            JsonDocument.Parse(await validated.Content.ReadAsStringAsync()).RootElement.GetProperty("validationResponse").GetString());

        var container = "gdn-unknown-" + sandbox.Slug;
        var blobCreated = $$$"""
            {"specversion":"1.0","type":"Microsoft.Storage.BlobCreated","source":"/local","id":"ev-{{{sandbox.Slug}}}",
             "time":"2026-12-01T00:00:00Z","subject":"/blobServices/default/containers/{{{container}}}/blobs/a.txt",
             "data":{"api":"PutBlob","eTag":"0x1","contentLength":3}}
            """;
        using var handled = await serve.Keyed.PostAsync(GardienRoutes.Events, new StringContent(blobCreated, Encoding.UTF8,
            "application/cloudevents+json"));
        Assert.Equal(HttpStatusCode.OK, handled.StatusCode);
        var outcome = JsonDocument.Parse(await handled.Content.ReadAsStringAsync()).RootElement.GetProperty("handled")[0];
        Assert.Equal("Started", outcome.GetProperty("outcome").GetString());

        using var malformed = await serve.Keyed.PostAsync(GardienRoutes.Events, new StringContent("[{\"nope\": 1}]", Encoding.UTF8,
            "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        using var withoutKey = await serve.Http.PostAsync(GardienRoutes.Events, new StringContent(blobCreated, Encoding.UTF8,
            "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
    }
}
