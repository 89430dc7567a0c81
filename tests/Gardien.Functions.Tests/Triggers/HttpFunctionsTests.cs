using System.Text;
using System.Text.Json;
using Gardien.Testing;
using Gardien.Workflows.Http;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;

namespace Gardien.Functions.Tests.Triggers;

/// <summary>The HTTP functions with real <see cref="HttpRequest"/>s, over a <c>DurableTaskClient</c> mock and the port fakes.</summary>
public sealed class HttpFunctionsTests
{
    private static readonly string SampleDmp = File.ReadAllText(Path.Combine(RepoPaths.Root, "samples", "dmp-health-study.json"));
    private static readonly string SampleDmpId = "https://doi.org/10.99999/neurocog-mri.dmp";

    private static HttpRequest Request(string method, string path, string? body = null, string? contentType = "application/json",
        long? contentLength = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("gardien-test.azurewebsites.net");
        var query = path.IndexOf('?', StringComparison.Ordinal);
        context.Request.Path = query < 0 ? path : path[..query];
        context.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(path[query..]);
        context.Request.ContentType = contentType;
        var bytes = Encoding.UTF8.GetBytes(body ?? string.Empty);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = contentLength ?? (body is null ? null : bytes.Length);
        context.Response.Body = new MemoryStream();
        return context.Request;
    }

    /// <summary>Executes the result as the Functions host does and reads back what the client receives.</summary>
    private static async Task<(int Status, string Body, IHeaderDictionary Headers)> ExecuteAsync(HttpRequest request, IActionResult result)
    {
        await result.ExecuteResultAsync(new ActionContext(request.HttpContext, new RouteData(), new ActionDescriptor()));
        var response = request.HttpContext.Response;
        response.Body.Position = 0;
        return (response.StatusCode, await new StreamReader(response.Body).ReadToEndAsync(), response.Headers);
    }

    [Fact]
    public async Task SubmitDmp_ValidDocument_Answers202WithTheWorkflowsLocationAndStartsTheIntake()
    {
        var host = new TriggerHost();
        var request = Request("POST", "/api/dmps", SampleDmp);

        var (status, body, headers) = await ExecuteAsync(request, await host.Http.SubmitDmpAsync(request, host.Durable.Client,
            CancellationToken.None));

        var instanceId = IntakeDmpWorkflow.InstanceIdFor(SampleDmpId);
        Assert.Equal(202, status);
        Assert.Equal(GardienRoutes.WorkflowPath(instanceId), headers.Location.ToString());
        Assert.Equal("Started", JsonDocument.Parse(body).RootElement.GetProperty("outcome").GetString());
        Assert.Equal(nameof(IntakeDmpWorkflow), host.Durable.Started[instanceId].Name);
    }

    [Fact]
    public async Task SubmitDmp_SameVersionTwice_AnswersTheExistingInstanceAndStartsNothingNew()
    {
        var host = new TriggerHost();
        var first = Request("POST", "/api/dmps", SampleDmp);
        var second = Request("POST", "/api/dmps", SampleDmp);

        await ExecuteAsync(first, await host.Http.SubmitDmpAsync(first, host.Durable.Client, CancellationToken.None));
        var (status, body, headers) = await ExecuteAsync(second, await host.Http.SubmitDmpAsync(second, host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(200, status);
        Assert.Equal("Joined", JsonDocument.Parse(body).RootElement.GetProperty("outcome").GetString());
        Assert.Equal(GardienRoutes.WorkflowPath(IntakeDmpWorkflow.InstanceIdFor(SampleDmpId)), headers.Location.ToString());
        Assert.Single(host.Durable.Started);
    }

    [Fact]
    public async Task SubmitDmp_MalformedJson_AnswersAProblemWithTheLineAndStartsNothing()
    {
        var host = new TriggerHost();
        var request = Request("POST", "/api/dmps", "{\"dmp\": {\"title\": \"x\",,}}");

        var (status, body, headers) = await ExecuteAsync(request, await host.Http.SubmitDmpAsync(request, host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(400, status);
        Assert.StartsWith("application/problem+json", headers.ContentType.ToString(), StringComparison.Ordinal);
        Assert.Contains("line 1", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.Empty(host.Durable.Started);
    }

    [Fact]
    public async Task SubmitDmp_DocumentMissingARequiredField_ListsTheErrorWithItsJsonPath()
    {
        var host = new TriggerHost();
        var withoutContact = System.Text.Json.Nodes.JsonNode.Parse(SampleDmp)!;
        withoutContact["dmp"]!.AsObject().Remove("contact");
        var request = Request("POST", "/api/dmps", withoutContact.ToJsonString());

        var (status, body, _) = await ExecuteAsync(request, await host.Http.SubmitDmpAsync(request, host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(400, status);
        var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors").EnumerateArray().ToList();
        Assert.Contains(errors, e => e.GetProperty("path").GetString()!.StartsWith("/dmp", StringComparison.Ordinal)
            && e.GetProperty("message").GetString()!.Contains("contact", StringComparison.Ordinal));
        Assert.Empty(host.Durable.Started);
    }

    [Theory]
    [InlineData("text/plain", null, 415)]
    [InlineData("application/json", 11L * 1024 * 1024, 413)]
    public async Task SubmitDmp_WrongMediaTypeOrOversized_IsRefusedBeforeReading(string contentType, long? length, int expected)
    {
        var host = new TriggerHost();
        var request = Request("POST", "/api/dmps", SampleDmp, contentType, length);

        var (status, body, _) = await ExecuteAsync(request, await host.Http.SubmitDmpAsync(request, host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(expected, status);
        Assert.Equal(expected, JsonDocument.Parse(body).RootElement.GetProperty("status").GetInt32());
        Assert.Empty(host.Durable.Started);
    }

    [Fact]
    public async Task GetDmp_GovernedDmp_ShowsItsDatasetsContainersAndGrantsWithEndDates()
    {
        var host = new TriggerHost();
        host.Fakes.Dmps["dmp-1"] = new DmpRecord { DmpId = "dmp-1", State = DmpState.Active, Title = "Cohort study" };
        host.Fakes.Datasets[("dmp-1", "ds-1")] = new DatasetRecord
        {
            DmpId = "dmp-1",
            DatasetId = "ds-1",
            Container = "gardien-cohort-raw",
            State = DatasetState.Provisioned,
            KeepUntil = new DateOnly(2040, 1, 1),
        };
        host.Fakes.Grants[("dmp-1", "ds-1", "u-claire")] = new GrantRecord
        {
            DmpId = "dmp-1",
            DatasetId = "ds-1",
            PrincipalId = "u-claire",
            Level = AccessLevel.Owner,
            State = GrantState.Active,
            EndsOn = new DateOnly(2031, 6, 30),
        };
        var request = Request("GET", "/api/dmps/dmp-1");

        var (status, body, _) = await ExecuteAsync(request, await host.Http.GetDmpAsync(request, "dmp-1", host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(200, status);
        var dmp = JsonDocument.Parse(body).RootElement;
        Assert.Equal("Active", dmp.GetProperty("dmp").GetProperty("state").GetString());
        Assert.Equal("gardien-cohort-raw", dmp.GetProperty("datasets")[0].GetProperty("container").GetString());
        Assert.Equal("2040-01-01", dmp.GetProperty("datasets")[0].GetProperty("keepUntil").GetString());
        Assert.Equal("2031-06-30", dmp.GetProperty("grants")[0].GetProperty("endsOn").GetString());
    }

    [Fact]
    public async Task GetDmp_UnknownOrByQuery_Answers404ProblemNamingTheDmp()
    {
        var host = new TriggerHost();
        var request = Request("GET", "/api/dmps?id=" + Uri.EscapeDataString(SampleDmpId));

        var (status, body, _) = await ExecuteAsync(request, await host.Http.ListDmpsAsync(request, host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(404, status);
        Assert.Contains(SampleDmpId, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetWorkflow_StartedInstance_ReportsItsStatus_AndAnUnknownOneIs404()
    {
        var host = new TriggerHost();
        var submit = Request("POST", "/api/dmps", SampleDmp);
        await host.Http.SubmitDmpAsync(submit, host.Durable.Client, CancellationToken.None);
        var instanceId = IntakeDmpWorkflow.InstanceIdFor(SampleDmpId);
        var known = Request("GET", GardienRoutes.WorkflowPath(instanceId));
        var unknown = Request("GET", "/api/workflows/nope");

        var (status, body, _) = await ExecuteAsync(known, await host.Http.GetWorkflowAsync(known, instanceId, host.Durable.Client,
            CancellationToken.None));
        var (missing, _, _) = await ExecuteAsync(unknown, await host.Http.GetWorkflowAsync(unknown, "nope", host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(200, status);
        Assert.Equal("Running", JsonDocument.Parse(body).RootElement.GetProperty("status").GetString());
        Assert.Equal(404, missing);
    }

    [Fact]
    public async Task ApprovalPage_WithoutAnEntraSignIn_IsUnauthorisedEvenWithAGenuineLookingToken()
    {
        var host = new TriggerHost();
        var request = Request("GET", "/api/approvals/abc.def?decision=approve", contentType: null);

        var (status, body, headers) = await ExecuteAsync(request, await host.Http.ApprovalPageAsync(request, "abc.def", host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(401, status);
        Assert.Contains("Sign-in required", body, StringComparison.Ordinal);
        Assert.Equal("no-referrer", headers["Referrer-Policy"].ToString());
    }

    [Fact]
    public async Task ApprovalPage_ForgedToken_SignedIn_GetsAClearPageAndNoStackTrace()
    {
        var host = new TriggerHost();
        var forged = Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"kid\":\"k1\"}")).TrimEnd('=') + ".c2lnbmF0dXJl";
        var request = Request("GET", $"/api/approvals/{forged}?decision=approve", contentType: null);
        request.Headers[Gardien.Workflows.Hosting.EntraSignIn.PrincipalHeader] = Convert.ToBase64String(Encoding.UTF8.GetBytes(
            "{\"auth_typ\":\"aad\",\"claims\":[{\"typ\":\"preferred_username\","
            + "\"val\":\"steward@neuro-institute.example\"}],\"name_typ\":\"name\"}"));

        var (status, body, _) = await ExecuteAsync(request, await host.Http.ApprovalPageAsync(request, forged, host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(400, status);
        Assert.Contains("This approval link cannot be used", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApprovalDecision_PostWithoutSignIn_RecordsNothing()
    {
        var host = new TriggerHost();
        var request = Request("POST", "/api/approvals/abc.def?decision=approve", "comment=ok", "application/x-www-form-urlencoded");

        var (status, _, _) = await ExecuteAsync(request, await host.Http.ApprovalDecisionAsync(request, "abc.def", host.Durable.Client,
            CancellationToken.None));

        Assert.Equal(401, status);
        Assert.Empty(host.Fakes.UsedTokens);
    }

    [Fact]
    public async Task Health_AnswersWithoutCallingAnything()
    {
        var host = new TriggerHost();
        var request = Request("GET", "/api/health", contentType: null);

        var (status, body, _) = await ExecuteAsync(request, host.Http.Health(request));

        Assert.Equal(200, status);
        Assert.Equal("healthy", JsonDocument.Parse(body).RootElement.GetProperty("status").GetString());
    }
}
