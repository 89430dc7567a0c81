using Gardien.Functions.Durable;
using Gardien.Workflows;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Hosting.Events;
using Gardien.Workflows.Http;
using Gardien.Workflows.Ports;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Gardien.Functions.Http;

/// <summary>
/// The HTTP routes (<see cref="GardienRoutes"/>), each a few lines handing the request to the handlers the local service
/// calls too (<see cref="GardienApi"/>, <see cref="ApprovalHttpEndpoint"/>). Writes and reads need a function key; the
/// approval routes are anonymous at the function level because the signed link authorises them and App Service
/// authentication (Entra ID) puts the approver's sign-in in front of them; health is anonymous.
/// </summary>
public sealed class HttpFunctions(
    DurableWorkflowHost host,
    IGovernanceRegistry registry,
    ApprovalTokenService tokens,
    GardienWorkflowOptions workflowOptions,
    GardienHttpOptions options,
    TimeProvider time)
{
    [Function("SubmitDmp")]
    public Task<IActionResult> SubmitDmpAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "dmps")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var submittedBy = EntraSignIn.ActorOf(ApprovalHttpEndpoint.Header(request))
            ?? NonEmpty(request.Headers[GardienApi.SubmittedByHeader]);
        return Answer(Api(client).SubmitDmpAsync(request, submittedBy, cancellationToken));
    }

    /// <summary>The list; with <c>?id=</c>, one DMP (for clients that cannot put an encoded slash in a path).</summary>
    [Function("ListDmps")]
    public Task<IActionResult> ListDmpsAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "dmps")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return NonEmpty(request.Query["id"]) is { } id
            ? Answer(Api(client).GetDmpAsync(id, cancellationToken))
            : Answer(Api(client).ListDmpsAsync(request, cancellationToken));
    }

    [Function("GetDmp")]
    public Task<IActionResult> GetDmpAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "dmps/{dmpId}")] HttpRequest request,
        string dmpId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) => Answer(Api(client).GetDmpAsync(dmpId, cancellationToken));

    [Function("GetWorkflow")]
    public Task<IActionResult> GetWorkflowAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "workflows/{instanceId}")] HttpRequest request,
        string instanceId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) => Answer(Api(client).GetWorkflowAsync(instanceId, cancellationToken));

    [Function("ApprovalPage")]
    public Task<IActionResult> ApprovalPageAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "approvals/{token}")] HttpRequest request,
        string token,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) => Answer(Approvals(client).GetAsync(request, cancellationToken));

    [Function("ApprovalDecision")]
    public Task<IActionResult> ApprovalDecisionAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "approvals/{token}")] HttpRequest request,
        string token,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) => Answer(Approvals(client).PostAsync(request, trustedClient: false, cancellationToken));

    [Function("Health")]
    public IActionResult Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return GardienApi.Health(request.Host.Value ?? "functions");
    }

    private GardienApi Api(DurableTaskClient durable)
    {
        var client = host.CreateClient(durable);
        return new GardienApi(client, registry, host.Create<DmpDetails>(client), new GridEventDispatcher(client, registry), options);
    }

    private ApprovalHttpEndpoint Approvals(DurableTaskClient durable)
    {
        var client = host.CreateClient(durable);
        return new ApprovalHttpEndpoint(new ApprovalDecisionService(client, tokens, time), host.Create<ApprovalRequestReader>(client),
            options, workflowOptions);
    }

    private static async Task<IActionResult> Answer(Task<HttpAnswer> answer) => await answer.ConfigureAwait(false);

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
