using System.Text.Json.Nodes;
using Gardien.Azure.DmpTools;
using Gardien.Azure.Tests.Fakes;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Madmp.Opidor;
using Gardien.Workflows.Ports;
using Moq;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests.DmpTools;

public sealed class OpidorDmpToolClientTests : IDisposable
{
    private const string PlanPath = "/api/v1/madmp/plans/4242";
    private const string DmpId = "https://dmp.opidor.fr/plans/4242";
    private readonly Loopback _fake = Loopback.Http();
    private readonly DictionarySecretStore _secrets = new(
        new() { ["opidor-client-id"] = "gardien-app", ["opidor-client-secret"] = "s3cret" });
    private readonly string _rda = TestFiles.Read("Data/opidor-rda.json");
    private readonly string _standard = TestFiles.Read("Data/opidor-standard.json");

    public void Dispose() => _fake.Dispose();

    private DmpToolSettings Settings(string grant = "client_credentials", int timeoutSeconds = 10, int attempts = 3)
    {
        var settings = new DmpToolSettings
        {
            Kind = DmpToolKind.Opidor,
            BaseUrl = _fake.Uri,
            GrantType = grant,
            ClientIdSecretName = "opidor-client-id",
            ClientSecretName = "opidor-client-secret",
            TimeoutSeconds = timeoutSeconds,
            MaxAttempts = attempts,
        };
        settings.PlanIds.Add("4242");
        return settings;
    }

    private OpidorDmpToolClient Client(DmpToolSettings? settings = null) =>
        new("opidor", settings ?? Settings(), new HttpClient(), _secrets);

    private void Authenticate(string token = "tok1", int status = 200) =>
        _fake.Server.Given(Request.Create().WithPath("/api/v1/authenticate").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json")
                .WithBody(new JsonObject { ["access_token"] = token, ["token_type"] = "Bearer", ["expires_in"] = 7200 }.ToJsonString()));

    private void Export(string format, string body, int status = 200, string? state = null, string? next = null)
    {
        var request = Request.Create().WithPath(PlanPath).WithParam("export_format", format).UsingGet();
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
        var given = _fake.Server.Given(request);
        if (state is null && next is null)
        {
            given.RespondWith(response);
        }
        else
        {
            var s = given.InScenario(format);
            var when = state is null ? s : s.WhenStateIs(state);
            (next is null ? when : when.WillSetStateTo(next)).RespondWith(response);
        }
    }

    private IReadOnlyList<WireMock.Logging.ILogEntry> Calls(string path) => [.. _fake.Log.Where(r => r.RequestMessage.Path == path)];

    [Fact]
    public async Task Fetch_AuthenticatesWithClientCredentials_ThenReadsTheRdaAndStandardExports()
    {
        Authenticate();
        Export("rda", _rda);
        Export("standard", _standard);

        var fetched = await Client().FetchDmpAsync("4242");

        Assert.NotNull(fetched);
        Assert.Equal(_rda, fetched.Json);
        Assert.Equal(_standard, fetched.NativeExport);
        Assert.Equal("dmp-opidor", fetched.NativeFormat);
        Assert.Equal(new DateTimeOffset(2026, 5, 2, 14, 30, 0, TimeSpan.Zero), fetched.Modified);
        var auth = Assert.Single(Calls("/api/v1/authenticate")).RequestMessage;
        Assert.True(
            JsonNode.DeepEquals(
                new JsonObject { ["grant_type"] = "client_credentials", ["client_id"] = "gardien-app", ["client_secret"] = "s3cret" },
                JsonNode.Parse(auth.Body!)));
        var exports = Calls(PlanPath).Select(c => c.RequestMessage).ToList();
        Assert.Equal(["rda", "standard"], exports.Select(e => e.Query!["export_format"].Single()));
        Assert.All(exports, e => Assert.Equal("Bearer tok1", e.Headers!["Authorization"].Single()));
    }

    [Fact]
    public async Task Fetch_AuthorizationCodeGrant_SendsEmailAndCode()
    {
        Authenticate();
        Export("rda", _rda);
        Export("standard", _standard);

        await Client(Settings(grant: "authorization_code")).FetchDmpAsync("4242");

        var body = JsonNode.Parse(Assert.Single(Calls("/api/v1/authenticate")).RequestMessage.Body!)!;
        Assert.True(
            JsonNode.DeepEquals(
                new JsonObject { ["grant_type"] = "authorization_code", ["email"] = "gardien-app", ["code"] = "s3cret" }, body));
    }

    [Fact]
    public async Task StandardExport_ReachesThePlan_ThroughTheOpidorMapper()
    {
        Authenticate();
        Export("rda", _rda);
        Export("standard", _standard);
        var fetched = (await Client().FetchDmpAsync(DmpId))!;

        var withNative = EvaluateDmpActivity.Evaluate(
            DmpId, fetched.Json, new DateOnly(2026, 6, 1), GovernancePolicy.Default, new OpidorStandardMapper(), fetched.NativeExport);
        var rdaOnly = EvaluateDmpActivity.Evaluate(DmpId, fetched.Json, new DateOnly(2026, 6, 1), GovernancePolicy.Default);

        Assert.True(withNative.IsValid, string.Join("\n", withNative.Errors));
        var dataset = Assert.Single(withNative.Plan!.Datasets);
        Assert.Equal(RetentionSource.PreservationUntil, dataset.Retention.Source);
        Assert.Equal(new DateOnly(2036, 12, 31), dataset.Retention.KeepUntil);
        Assert.NotEqual(RetentionSource.PreservationUntil, Assert.Single(rdaOnly.Plan!.Datasets).Retention.Source);
    }

    [Fact]
    public async Task IntakeEvaluation_FetchingFromOpidor_UsesTheStandardExport()
    {
        Authenticate();
        Export("rda", _rda);
        Export("standard", _standard);
        var context = new Mock<Gardien.Runtime.ActivityContext>();
        context.SetupGet(c => c.CancellationToken).Returns(CancellationToken.None);

        var evaluation = await new EvaluateDmpActivity(Client(), new Gardien.Workflows.GardienWorkflowOptions()).RunAsync(
            context.Object, new EvaluateDmpInput(DmpId, null, new DateOnly(2026, 6, 1)));

        Assert.True(evaluation.IsValid, string.Join("\n", evaluation.Errors));
        Assert.Equal(new DateOnly(2036, 12, 31), Assert.Single(evaluation.Plan!.Datasets).Retention.KeepUntil);
    }

    [Fact]
    public async Task Token_IsReused_AndFetchedAgainOnceWhenTheApiRejectsIt()
    {
        Authenticate("tok1");
        _fake.Server.Given(Request.Create().WithPath(PlanPath).WithParam("export_format", "rda").UsingGet()).InScenario("expiry")
            .WillSetStateTo("expired")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(_rda));
        _fake.Server.Given(Request.Create().WithPath(PlanPath).WithParam("export_format", "rda").UsingGet())
            .InScenario("expiry")
            .WhenStateIs("expired")
            .WillSetStateTo("renewed")
            .RespondWith(Response.Create().WithStatusCode(401));
        _fake.Server.Given(Request.Create().WithPath(PlanPath).WithParam("export_format", "rda").UsingGet()).InScenario("expiry")
            .WhenStateIs("renewed")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(_rda));
        Export("standard", _standard);
        var client = Client();

        await client.FetchDmpAsync("4242");
        var second = await client.FetchDmpAsync("4242");

        Assert.NotNull(second);
        Assert.Equal(2, Calls("/api/v1/authenticate").Count);
        Assert.Equal(3, Calls(PlanPath).Count(c => c.RequestMessage.Query!["export_format"].Single() == "rda"));
    }

    [Fact]
    public async Task Credentials_Rejected_IsRefusedNamingTheSecrets()
    {
        Authenticate(status: 401);

        var ex = await Assert.ThrowsAsync<PortRefusedException>(() => Client().FetchDmpAsync("4242"));

        Assert.Contains("opidor-client-id", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_NotShared_IsRefused_UnknownPlanIsNull()
    {
        Authenticate();
        Export("rda", "{}", status: 403);
        _fake.Server.Given(Request.Create().WithPath("/api/v1/madmp/plans/777").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(404));

        await Assert.ThrowsAsync<PortRefusedException>(() => Client().FetchDmpAsync("4242"));
        Assert.Null(await Client().FetchDmpAsync("777"));
    }

    [Fact]
    public async Task Throttled_IsRetriedAfterRetryAfter_ServerErrorsPersisting_AreTransient()
    {
        Authenticate();
        _fake.Server.Given(Request.Create().WithPath(PlanPath).WithParam("export_format", "rda").UsingGet()).InScenario("t")
            .WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "1"));
        _fake.Server.Given(Request.Create().WithPath(PlanPath).WithParam("export_format", "rda").UsingGet()).InScenario("t")
            .WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(_rda));
        Export("standard", "{}", status: 503);

        var ex = await Assert.ThrowsAsync<PortException>(() => Client(Settings(attempts: 2)).FetchDmpAsync("4242"));

        Assert.True(ex.IsTransient);
        Assert.Equal(2, Calls(PlanPath).Count(c => c.RequestMessage.Query!["export_format"].Single() == "rda"));
        Assert.Equal(2, Calls(PlanPath).Count(c => c.RequestMessage.Query!["export_format"].Single() == "standard"));
    }

    [Fact]
    public async Task NoAnswerInTime_IsTransient()
    {
        Authenticate();
        _fake.Server.Given(Request.Create().WithPath(PlanPath).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(_rda).WithDelay(TimeSpan.FromSeconds(4)));

        var ex = await Assert.ThrowsAsync<PortException>(() => Client(Settings(timeoutSeconds: 1, attempts: 1)).FetchDmpAsync("4242"));

        Assert.True(ex.IsTransient);
        Assert.Contains("within 1 s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ReadsTheWatchedPlans_AndFiltersByModified()
    {
        Authenticate();
        Export("rda", _rda);

        var all = await Client().ListDmpsAsync(null);
        var none = await Client().ListDmpsAsync(new DateTimeOffset(2026, 5, 2, 14, 30, 0, TimeSpan.Zero));

        var summary = Assert.Single(all);
        Assert.Equal(DmpId, summary.DmpId);
        Assert.Equal("4242", summary.ToolId);
        Assert.Empty(none);
    }

    [Fact]
    public async Task List_MalformedExport_IsTransientAndSaysWhere()
    {
        Authenticate();
        Export("rda", "{ \"dmp\": ");

        var ex = await Assert.ThrowsAsync<PortException>(() => Client().ListDmpsAsync(null));

        Assert.True(ex.IsTransient);
        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteBack_AddsGardiensFacilityToTheDataStorageFragment_ThenIsANoOp()
    {
        Authenticate();
        Export("rda", _rda);
        Export("standard", _standard, state: null, next: "written");
        var written = JsonNode.Parse(_standard)!;
        var writeBack = new DmpWriteBack(
            "ro-1",
            new Uri("https://research01.blob.core.windows.net/gardien-4242-ro-1"),
            "Azure Blob Storage",
            "continuous (geo-redundant)",
            "https://research01.blob.core.windows.net/gardien-4242-ro-1");
        _fake.Server.Given(Request.Create().WithPath("/api/v1/madmp/fragments/9102").UsingPut())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));

        var first = await Client().WriteBackAsync(DmpId, writeBack);
        var put = Assert.Single(_fake.Log, r => r.RequestMessage.Method == "PUT").RequestMessage;
        written["researchOutput"]![0]!["dataStorage"] = JsonNode.Parse(put.Body!)!["data"]!.DeepClone();
        Export("standard", written.ToJsonString(), state: "written", next: "written");
        var second = await Client().WriteBackAsync(DmpId, writeBack);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Single(_fake.Log, r => r.RequestMessage.Method == "PUT");
        Assert.Equal("Bearer tok1", put.Headers!["Authorization"].Single());
        var data = JsonNode.Parse(put.Body!)!["data"]!;
        Assert.Equal("Chiffrement AES-256", data["securityMeasures"]!.GetValue<string>());
        Assert.Equal(
            ["Serveur du laboratoire", writeBack.ProvisionedLocation],
            data["facility"]!.AsArray().Select(f => f!["title"]!.GetValue<string>()));
        Assert.Equal(writeBack.HostUrl.ToString(), data["facility"]![1]!["technicalResourceId"]!.GetValue<string>());
        Assert.Equal("continuous (geo-redundant)", data["backupPolicy"]![0]!["backupFrequency"]!.GetValue<string>());
        Assert.Equal(["Serveur NAS"], data["backupPolicy"]![0]!["storageType"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Fact]
    public async Task WriteBack_UnknownDataset_IsRefusedWithWhatToFix()
    {
        Authenticate();
        Export("rda", _rda);
        Export("standard", _standard);

        var ex = await Assert.ThrowsAsync<PortRefusedException>(
            () => Client().WriteBackAsync("4242", new DmpWriteBack("ro-9", new Uri("https://x.example/c"), "t", "f", "loc")));

        Assert.Contains("ro-9", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_fake.Log, r => r.RequestMessage.Method == "PUT");
    }
}
