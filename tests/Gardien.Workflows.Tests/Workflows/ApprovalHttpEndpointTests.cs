using System.Text;
using System.Text.Json;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Http;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.DependencyInjection;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// The approval links over HTTP: the same link reader and identity check as the CLI, the identity from the Entra sign-in.
/// </summary>
public sealed class ApprovalHttpEndpointTests
{
    private const string InstanceId = "approval-under-test";

    private static ApprovalWorkflowInput Request() =>
        new(
            DmpId,
            ApprovalRole.DataSteward,
            "intake",
            ["the dataset is closed"],
            "The plan: one dataset.",
            DmpId + ":approval",
            "Claire Dubois",
            PiEmail,
            "Cohort <b>study</b>\r\nApproved by DPO: yes");

    private static Func<string, string?> SignedInAs(string? email, string authType = "aad") => name =>
        email is not null && string.Equals(name, EntraSignIn.PrincipalHeader, StringComparison.OrdinalIgnoreCase)
            ? Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
            {
                auth_typ = authType,
                claims = new[] { new { typ = "name", val = "Someone" }, new { typ = "preferred_username", val = email } },
                name_typ = "name",
                role_typ = "roles",
            })))
            : null;

    // A well-formed double-submit token, as the page would have set it in its cookie and hidden field.
    private const string Csrf = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    private static Task<HttpAnswer> PostAsync(ApprovalHttpEndpoint endpoint, Uri link, Dictionary<string, string> form, Func<string,
        string?> header)
    {
        form[ApprovalHttpEndpoint.CsrfField] = Csrf;
        return endpoint.PostAsync(link, form, header, Csrf);
    }

    private static async Task<(WorkflowTestEnvironment Host, ApprovalHttpEndpoint Endpoint, Notification Request)> StartAsync()
    {
        var host = await WorkflowTestEnvironment.StartAsync();
        await host.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), Request(), InstanceId);
        var request = await host.WaitForMessageAsync(StewardEmail, NotificationKind.ApprovalRequest);
        return (
            host,
            new ApprovalHttpEndpoint(
                host.Decisions,
                new ApprovalRequestReader(host.Client, host.DmpTool.Object, host.Services.GetRequiredService<GardienWorkflowOptions>())),
            request);
    }

    [Fact]
    public async Task Get_RejectLink_ShowsARejectConfirmationAndDecidesNothing()
    {
        var (host, endpoint, request) = await StartAsync();
        await using var _ = host;

        var page = await endpoint.GetAsync(new Uri(WorkflowTestEnvironment.LinkOf(request, "reject")), SignedInAs(StewardEmail));

        Assert.Equal(200, page.StatusCode);
        Assert.Contains("<h1>Reject the request</h1>", page.Text, StringComparison.Ordinal);
        Assert.Contains(">Reject</button>", page.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(">Approve</button>", page.Text, StringComparison.Ordinal);
        Assert.Empty(host.UsedTokens);
        Assert.False((await host.Client.GetInstanceAsync(InstanceId))!.IsCompleted);
    }

    [Theory]
    [InlineData("reject", ApprovalOutcome.Rejected)]
    [InlineData("approve", ApprovalOutcome.Approved)]
    public async Task Post_Link_RecordsTheLinksDecisionInTheSignedInPersonsName(string decision, ApprovalOutcome expected)
    {
        var (host, endpoint, request) = await StartAsync();
        await using var _ = host;

        var page = await PostAsync(endpoint, new Uri(WorkflowTestEnvironment.LinkOf(request, decision)), new() { ["comment"] = "checked" },
            SignedInAs(StewardDelegateEmail));
        var output = (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!;

        Assert.Equal(200, page.StatusCode);
        Assert.Equal(expected, output.Outcome);
        Assert.Equal(StewardDelegateEmail, output.DecidedBy);
        Assert.Equal("checked", output.Comment);
    }

    [Fact]
    public async Task Post_DecisionFieldContradictingTheLink_IsRefusedWithNothingRecorded()
    {
        var (host, endpoint, request) = await StartAsync();
        await using var _ = host;

        var page = await PostAsync(endpoint, new Uri(WorkflowTestEnvironment.LinkOf(request, "reject")), new() { ["decision"] = "approve" },
            SignedInAs(StewardEmail));

        Assert.Equal(400, page.StatusCode);
        Assert.Contains("Reject link", page.Text, StringComparison.Ordinal);
        Assert.Empty(host.UsedTokens);
    }

    [Fact]
    public async Task Post_SignedInAsSomeoneElse_IsForbiddenWhateverTheFormClaims()
    {
        var (host, endpoint, request) = await StartAsync();
        await using var _ = host;
        var link = new Uri(WorkflowTestEnvironment.LinkOf(request, "approve"));

        var forged = await PostAsync(endpoint, link, new() { ["actor"] = "user:" + StewardEmail, ["as"] = StewardEmail },
            SignedInAs("mallory@elsewhere.example"));
        var genuine = await PostAsync(endpoint, link, [], SignedInAs(StewardEmail));

        Assert.Equal(403, forged.StatusCode);
        Assert.Contains("may not decide", forged.Text, StringComparison.Ordinal);
        Assert.Equal(200, genuine.StatusCode);
        Assert.Equal(StewardEmail, (await host.CompletionAsync(InstanceId)).ReadOutputAs<ApprovalWorkflowOutput>()!.DecidedBy);
    }

    [Theory]
    [InlineData(null, "aad")]
    [InlineData(StewardEmail, "google")]
    public async Task AnyRequest_WithoutAnEntraSignIn_IsUnauthorised(string? email, string authType)
    {
        var (host, endpoint, request) = await StartAsync();
        await using var _ = host;
        var link = new Uri(WorkflowTestEnvironment.LinkOf(request, "approve"));

        Assert.Equal(401, (await endpoint.GetAsync(link, SignedInAs(email, authType))).StatusCode);
        Assert.Equal(401, (await endpoint.PostAsync(link, new Dictionary<string, string>(), SignedInAs(email, authType))).StatusCode);
        Assert.Empty(host.UsedTokens);
    }

    [Fact]
    public async Task Get_UsedLink_SaysSoWithoutMarkupFromTheMessage()
    {
        var (host, endpoint, request) = await StartAsync();
        await using var _ = host;
        var link = new Uri(WorkflowTestEnvironment.LinkOf(request, "approve"));
        await PostAsync(endpoint, link, new() { ["comment"] = "<script>alert(1)</script>" }, SignedInAs(StewardEmail));
        await host.CompletionAsync(InstanceId);

        var page = await endpoint.GetAsync(link, SignedInAs(StewardEmail));

        Assert.Equal(410, page.StatusCode);
        Assert.Contains("already closed", page.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_WithoutTheFormsDoubleSubmitToken_IsRefusedAndTheLinkStaysUsable()
    {
        var (host, endpoint, request) = await StartAsync();
        await using var _ = host;
        var link = new Uri(WorkflowTestEnvironment.LinkOf(request, "approve"));

        var noToken = await endpoint.PostAsync(link, new Dictionary<string, string>(), SignedInAs(StewardEmail));
        var otherCookie = await endpoint.PostAsync(link, new Dictionary<string, string> { ["csrf"] = Csrf }, SignedInAs(StewardEmail),
            "B" + Csrf[1..]);

        Assert.Equal(403, noToken.StatusCode);
        Assert.Equal(403, otherCookie.StatusCode);
        Assert.Contains("Nothing was recorded", noToken.Text, StringComparison.Ordinal);
        Assert.Empty(host.UsedTokens);
        Assert.Equal(200, (await PostAsync(endpoint, link, [], SignedInAs(StewardEmail))).StatusCode);
    }

    [Fact]
    public async Task Post_FromAnotherSitesPage_IsRefusedEvenWithTheRightTokens()
    {
        var (host, endpoint, request) = await StartAsync();
        await using var _ = host;
        var link = new Uri(WorkflowTestEnvironment.LinkOf(request, "approve"));
        var signedIn = SignedInAs(StewardEmail);

        var page = await PostAsync(endpoint, link, [], name => name == "Origin" ? "https://evil.example" : signedIn(name));

        Assert.Equal(403, page.StatusCode);
        Assert.Empty(host.UsedTokens);
    }

    [Fact]
    public async Task Get_ShowsThePlanTheReasonsAndSetsTheDoubleSubmitCookie()
    {
        var (host, endpoint, request) = await StartAsync();
        await using var _ = host;

        var page = await endpoint.GetAsync(new Uri(WorkflowTestEnvironment.LinkOf(request, "approve")), SignedInAs(StewardEmail));

        Assert.Equal(200, page.StatusCode);
        Assert.Contains("the dataset is closed", page.Text, StringComparison.Ordinal);
        Assert.Contains("Cohort &lt;b&gt;study&lt;/b&gt;", page.Text, StringComparison.Ordinal);
        var cookie = Assert.Single(page.Cookies);
        Assert.Equal(ApprovalHttpEndpoint.CsrfCookie, cookie.Name);
        Assert.Contains($"name=\"csrf\" value=\"{cookie.Value}\"", page.Text, StringComparison.Ordinal);
        Assert.Equal("no-referrer", page.Headers["Referrer-Policy"]);
        Assert.DoesNotContain("<b>study</b>", page.Text, StringComparison.Ordinal);
    }
}
