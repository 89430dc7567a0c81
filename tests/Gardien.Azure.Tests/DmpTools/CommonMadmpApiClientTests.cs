using System.Text.Json.Nodes;
using Gardien.Azure.DmpTools;
using Gardien.Azure.Tests.Fakes;
using Gardien.Workflows.Ports;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gardien.Azure.Tests.DmpTools;

public sealed class CommonMadmpApiClientTests : IDisposable
{
    private const string LastModified = "Sat, 02 May 2026 14:30:00 GMT";
    private readonly Loopback _fake = Loopback.Http();
    private readonly DictionarySecretStore _secrets = new(
        new() { ["damap-id"] = "gardien", ["damap-secret"] = "s3cret", ["damap-token"] = "static-token" });

    public void Dispose() => _fake.Dispose();

    private CommonMadmpApiClient Client(string grant = "client_credentials", int pageSize = 2) => new("damap", new DmpToolSettings
    {
        Kind = DmpToolKind.CommonMadmpApi,
        BaseUrl = new Uri(_fake.Uri, "api/"),
        GrantType = grant,
        ClientIdSecretName = "damap-id",
        ClientSecretName = grant == "bearer" ? "damap-token" : "damap-secret",
        TokenUrl = new Uri(_fake.Uri, "oauth/token"),
        Scope = "dmps",
        PageSize = pageSize,
        TimeoutSeconds = 10,
        MaxAttempts = 2,
    }, new HttpClient(), _secrets);

    private static JsonObject Dmp(string systemId, string dmpId, string modified, string datasetId = "ds-1") => new()
    {
        ["id"] = systemId,
        ["dmp"] = new JsonObject
        {
            ["title"] = "Plan " + systemId,
            ["modified"] = modified,
            ["dmp_id"] = new JsonObject { ["identifier"] = dmpId, ["type"] = "doi" },
            ["dataset"] = new JsonArray(new JsonObject
            {
                ["title"] = "Raw",
                ["dataset_id"] = new JsonObject { ["identifier"] = datasetId, ["type"] = "other" },
                ["distribution"] = new JsonArray(new JsonObject { ["title"] = "Raw files", ["data_access"] = "closed" }),
            }),
        },
    };

    private void Token() =>
        _fake.Server.Given(Request.Create().WithPath("/oauth/token").UsingPost())
            .RespondWith(
                Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                    .WithBody("{\"access_token\":\"cc-token\",\"expires_in\":3600}"));

    private void Reply(IRequestBuilder request, int status, JsonNode? body = null, string? lastModified = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", CommonMadmpApiClient.MediaType);
        if (body is not null)
        {
            response = response.WithBody(body.ToJsonString());
        }

        if (lastModified is not null)
        {
            response = response.WithHeader("Last-Modified", lastModified);
        }

        _fake.Server.Given(request).RespondWith(response);
    }

    private static JsonObject Page(int total, params JsonObject[] items) =>
        new() { ["total_count"] = total, ["items"] = new JsonArray([.. items]) };

    [Fact]
    public async Task List_PagesThroughModifiedAfter_WithAClientCredentialsToken()
    {
        Token();
        Reply(
            Request.Create().WithPath("/api/dmps").WithParam("offset", "0").UsingGet(),
            200,
            Page(3, Dmp("1", "doi:a", "2026-05-01T00:00:00Z"), Dmp("2", "doi:b", "2026-05-02T00:00:00Z")));
        Reply(
            Request.Create().WithPath("/api/dmps").WithParam("offset", "2").UsingGet(),
            200,
            Page(3, Dmp("3", "doi:c", "2026-05-03T00:00:00Z")));

        var list = await Client().ListDmpsAsync(new DateTimeOffset(2026, 4, 30, 12, 0, 0, TimeSpan.Zero));

        Assert.Equal(["doi:a/1", "doi:b/2", "doi:c/3"], list.Select(s => $"{s.DmpId}/{s.ToolId}"));
        var pages = _fake.Log.Where(r => r.RequestMessage.Path == "/api/dmps").Select(r => r.RequestMessage).ToList();
        Assert.Equal(2, pages.Count);
        Assert.All(pages, p =>
        {
            Assert.Equal("2026-04-30T12:00:00.000Z", p.Query!["modified_after"].Single());
            Assert.Equal("2", p.Query!["count"].Single());
            Assert.Equal("modified,asc", p.Query!["sort[]"].Single());
            Assert.Equal("Bearer cc-token", p.Headers!["Authorization"].Single());
            Assert.Contains(CommonMadmpApiClient.MediaType, p.Headers!["Accept"].Single(), StringComparison.Ordinal);
        });
        var token = Assert.Single(_fake.Log, r => r.RequestMessage.Path == "/oauth/token").RequestMessage;
        Assert.Equal("grant_type=client_credentials&client_id=gardien&client_secret=s3cret&scope=dmps", token.Body);
    }

    [Fact]
    public async Task Fetch_FindsTheSystemIdByDmpId_ThenGetsTheDocumentWithoutTheApiId()
    {
        Reply(
            Request.Create().WithPath("/api/dmps").WithParam("dmp_ids[]", "doi:a").UsingGet(),
            200,
            Page(1, Dmp("17", "doi:a", "2026-05-01T00:00:00Z")));
        Reply(Request.Create().WithPath("/api/dmps/17").UsingGet(), 200, Dmp("17", "doi:a", "2026-05-01T00:00:00Z"), LastModified);

        var fetched = await Client("bearer").FetchDmpAsync("doi:a");

        Assert.NotNull(fetched);
        Assert.Null(JsonNode.Parse(fetched.Json)!["id"]);
        Assert.Equal("doi:a", JsonNode.Parse(fetched.Json)!["dmp"]!["dmp_id"]!["identifier"]!.GetValue<string>());
        Assert.Equal(LastModified, fetched.Version);
        Assert.All(_fake.Log, r => Assert.Equal("Bearer static-token", r.RequestMessage.Headers!["Authorization"].Single()));
    }

    [Fact]
    public async Task Fetch_UnknownDmp_IsNull()
    {
        Reply(Request.Create().WithPath("/api/dmps").UsingGet(), 200, Page(0));

        Assert.Null(await Client("none").FetchDmpAsync("doi:zzz"));
        Assert.All(_fake.Log, r => Assert.False(r.RequestMessage.Headers!.ContainsKey("Authorization")));
    }

    [Fact]
    public async Task WriteBack_PutsTheHostWithIfUnmodifiedSince_SecondCallIsANoOp()
    {
        Reply(Request.Create().WithPath("/api/dmps").UsingGet(), 200, Page(1, Dmp("17", "doi:a", "2026-05-01T00:00:00Z")));
        _fake.Server.Given(Request.Create().WithPath("/api/dmps/17").UsingGet()).InScenario("wb").WillSetStateTo("written")
            .RespondWith(
                Response.Create().WithStatusCode(200).WithHeader("Last-Modified", LastModified)
                    .WithBody(Dmp("17", "doi:a", "2026-05-01T00:00:00Z").ToJsonString()));
        _fake.Server.Given(Request.Create().WithPath("/api/dmps/17").UsingPut())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var writeBack = new DmpWriteBack(
            "ds-1",
            new Uri("https://research01.blob.core.windows.net/c1"),
            "Azure Blob Storage",
            "continuous",
            "https://research01.blob.core.windows.net/c1");
        var client = Client("bearer");

        var first = await client.WriteBackAsync("doi:a", writeBack);
        var put = Assert.Single(_fake.Log, r => r.RequestMessage.Method == "PUT").RequestMessage;
        var written = JsonNode.Parse(put.Body!)!;
        _fake.Server.Given(Request.Create().WithPath("/api/dmps/17").UsingGet()).InScenario("wb").WhenStateIs("written")
            .RespondWith(
                Response.Create().WithStatusCode(200).WithHeader("Last-Modified", LastModified)
                    .WithBody(new JsonObject { ["id"] = "17", ["dmp"] = written["dmp"]!.DeepClone() }.ToJsonString()));
        var second = await client.WriteBackAsync("doi:a", writeBack);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Single(_fake.Log, r => r.RequestMessage.Method == "PUT");
        Assert.Equal(LastModified, put.Headers!["If-Unmodified-Since"].Single());
        Assert.StartsWith(CommonMadmpApiClient.MediaType, put.Headers!["Content-Type"].Single(), StringComparison.Ordinal);
        var host = written["dmp"]!["dataset"]![0]!["distribution"]![0]!["host"]!;
        Assert.Equal("https://research01.blob.core.windows.net/c1", host["url"]!.GetValue<string>());
        Assert.Equal("Azure Blob Storage", host["storage_type"]!.GetValue<string>());
        Assert.Equal("continuous", host["backup_frequency"]!.GetValue<string>());
        Assert.Null(written["id"]);
    }

    [Fact]
    public async Task WriteBack_ChangedMeanwhile_IsAConflictToRetry()
    {
        Reply(Request.Create().WithPath("/api/dmps").UsingGet(), 200, Page(1, Dmp("17", "doi:a", "2026-05-01T00:00:00Z")));
        Reply(Request.Create().WithPath("/api/dmps/17").UsingGet(), 200, Dmp("17", "doi:a", "2026-05-01T00:00:00Z"), LastModified);
        Reply(
            Request.Create().WithPath("/api/dmps/17").UsingPut(),
            409,
            new JsonObject { ["error_code"] = "conflict", ["error_message"] = "modified since" });

        var ex = await Assert.ThrowsAsync<ConcurrencyConflictException>(
            () => Client("none").WriteBackAsync("doi:a", new DmpWriteBack("ds-1", new Uri("https://x.example/c"), "t", "f", "loc")));

        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task Errors_MapToPortExceptions()
    {
        Reply(
            Request.Create().WithPath("/api/dmps").WithParam("offset", "0").UsingGet(),
            403,
            new JsonObject { ["error_code"] = "insufficient_permissions", ["error_message"] = "no" });
        await Assert.ThrowsAsync<PortRefusedException>(() => Client("none").ListDmpsAsync(null));
        _fake.Server.Reset();

        Reply(
            Request.Create().WithPath("/api/dmps").UsingGet(),
            500,
            new JsonObject { ["error_code"] = "internal", ["error_message"] = "boom" });
        var failing = await Assert.ThrowsAsync<PortException>(() => Client("none").ListDmpsAsync(null));
        Assert.True(failing.IsTransient);
        Assert.Equal(2, _fake.Log.Count);
        _fake.Server.Reset();

        _fake.Server.Given(Request.Create().WithPath("/api/dmps").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{\"items\": 3}"));
        var malformed = await Assert.ThrowsAsync<PortException>(() => Client("none").ListDmpsAsync(null));
        Assert.Contains("total_count", malformed.Message, StringComparison.Ordinal);
        _fake.Server.Reset();

        _fake.Server.Given(Request.Create().WithPath("/oauth/token").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(401).WithBody("{\"error\":\"invalid_client\"}"));
        var refused = await Assert.ThrowsAsync<PortRefusedException>(() => Client().ListDmpsAsync(null));
        Assert.Contains("damap-secret", refused.Message, StringComparison.Ordinal);
    }
}
