using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gardien.Runtime;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.BlobEvents;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Retention;
using Microsoft.Extensions.DependencyInjection;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Functions.Tests.Conformance;

/// <summary>What a scenario leaves behind: instance outcomes and every side effect, normalised to comparable text.</summary>
public sealed record ScenarioRecord(
    IReadOnlyList<string> Instances,
    IReadOnlyList<string> Notifications,
    IReadOnlyList<string> Audit,
    IReadOnlyList<string> State)
{
    /// <summary>Per-run values (GUIDs, signed tokens, ETags) hidden; lists sorted where concurrency may reorder them.</summary>
    public static async Task<ScenarioRecord> CaptureAsync(ScenarioEngine engine, ConformanceWorld world, params string[] instanceIds)
    {
        var instances = new List<string>();
        foreach (var id in instanceIds)
        {
            var state = await engine.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
            instances.Add(
                Normalise(
                    new
                    {
                        id,
                        state?.Status,
                        state?.Name,
                        output = Parse(state?.SerializedOutput),
                        failure = state?.FailureDetails?.ErrorType,
                    }));
        }

        var fakes = world.Fakes;
        var state2 = new List<string>();
        state2.AddRange(fakes.Dmps.Values.Select(d => Normalise(d with { ETag = null })));
        state2.AddRange(fakes.Datasets.Values.Select(d => Normalise(d with { ETag = null })));
        state2.AddRange(fakes.Grants.Values.Select(g => Normalise(g with { ETag = null })));
        state2.AddRange(fakes.Approvals.Values.Select(a => Normalise(a with { ETag = null })));
        state2.AddRange(
            fakes.Blobs.Select(b => Normalise(new { container = b.Key, blobs = b.Value.OrderBy(x => x.Name, StringComparer.Ordinal) })));
        state2.AddRange(fakes.Marks.Select(m => Normalise(new { mark = m.Key, m.Value })));
        state2.AddRange(
            fakes.Groups.Keys.Select(g => Normalise(new { group = g, members = fakes.MembersOf(g).Order(StringComparer.Ordinal) })));
        state2.AddRange(fakes.RoleAssignments.Keys.Select(r => Normalise(new { r.PrincipalId, r.Scope, r.Role })));
        state2.AddRange(fakes.WriteBacks.Select(w => Normalise(new { w.DmpId, w.WriteBack })));
        state2.AddRange(fakes.ProcessedEvents.Keys.Select(e => "processed " + e));
        return new ScenarioRecord(
            instances,
            Sorted(fakes.Sent.Select(n => Normalise(n))),
            Sorted(fakes.AuditEntries.Select(e => Normalise(e))),
            Sorted(state2));
    }

    private static List<string> Sorted(IEnumerable<string> items) => [.. items.Order(StringComparer.Ordinal)];

    private static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);

    private static string Normalise(object? value)
    {
        var node = JsonSerializer.SerializeToNode(value);
        Scrub(node);
        var text = node?.ToJsonString() ?? "null";
        text = Regex.Replace(text, "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<guid>");
        text = Regex.Replace(text, "[0-9a-f]{32}", "<guid>");
        return Regex.Replace(text, "/approvals/[^?\"]+", "/approvals/<token>");
    }

    private static void Scrub(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    if (key.Contains("Token", StringComparison.OrdinalIgnoreCase)
                        || key.Contains("ETag", StringComparison.OrdinalIgnoreCase)
                        || key is "MessageId")
                    {
                        obj[key] = "<per-run>";
                    }
                    else
                    {
                        Scrub(obj[key]);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Scrub(item);
                }

                break;
        }
    }
}

/// <summary>
/// The conformance scenarios, written once against <see cref="ScenarioEngine"/>: each runs the real Gardien workflows
/// and returns what they left behind, so the two engines are compared with each other rather than with fixed texts.
/// </summary>
public static class Scenarios
{
    private const string RetentionDmp = "https://doi.org/10.1234/health-study";

    public static ApprovalDecisionService Decisions(ScenarioEngine engine) =>
        new(engine.Client, engine.Services.GetRequiredService<ApprovalTokenService>(), engine.Services.GetRequiredService<TimeProvider>());

    /// <summary>A personal-data DMP: PI, data steward and DPO approve; then provisioning, grants and write-back.</summary>
    public static async Task<ScenarioRecord> IntakeApprovedAsync(ScenarioEngine engine, ConformanceWorld world)
    {
        var submitted = await new DmpSubmissionService(engine.Client, world.Fakes.Registry.Object).SubmitAsync(
            Json(
                datasets: [
                    new DatasetSpec("ds-health", PersonalData: "yes", SensitiveData: "yes", Access: "closed"),
                    new DatasetSpec("ds-open"),
                ]));
        var done = await ApproveAllAsync(engine, world, submitted.InstanceId!);
        Assert.Equal(WorkflowStatus.Completed, done.Status);
        return await ScenarioRecord.CaptureAsync(engine, world, submitted.InstanceId!);
    }

    /// <summary>The data steward rejects: nothing is provisioned, the other approvals are withdrawn.</summary>
    public static async Task<ScenarioRecord> IntakeRejectedAsync(ScenarioEngine engine, ConformanceWorld world)
    {
        var submitted = await new DmpSubmissionService(engine.Client, world.Fakes.Registry.Object).SubmitAsync(
            Json(datasets: [new DatasetSpec("ds-shared", Access: "shared")]));
        var id = submitted.InstanceId!;
        var request = await WaitForAsync(world, n => n.Kind == NotificationKind.ApprovalRequest && n.To.Contains(StewardEmail));
        var result = await Decisions(engine)
            .SubmitAsync(
                WorkflowTestEnvironment.TokenOf(request, "reject"),
                "reject",
                "No storage budget for this project.",
                "user:" + StewardEmail);
        Assert.True(result.Accepted, result.Message);
        var done = await engine.CompletionAsync(id);
        Assert.Equal(WorkflowStatus.Completed, done.Status);
        await SettleAsync(engine, world, id);
        return await ScenarioRecord.CaptureAsync(engine, world, id);
    }

    /// <summary>Granting access fails for good after the containers were created: the intake compensates.</summary>
    public static async Task<ScenarioRecord> IntakeFailureCompensatesAsync(ScenarioEngine engine, ConformanceWorld world)
    {
        world.Fault = call => call == "Directory.AssignRole"
            ? new PortRefusedException("The directory refuses role assignments on this scope.")
            : null;
        var submitted = await new DmpSubmissionService(engine.Client, world.Fakes.Registry.Object).SubmitAsync(Json());
        var done = await ApproveAllAsync(engine, world, submitted.InstanceId!);
        Assert.True(done.IsCompleted);
        return await ScenarioRecord.CaptureAsync(engine, world, submitted.InstanceId!);
    }

    /// <summary>Nobody decides: reminders, escalation to the delegate, then expiry, all on durable timers.</summary>
    public static async Task<ScenarioRecord> ApprovalExpiresAsync(ScenarioEngine engine, ConformanceWorld world)
    {
        var id = await engine.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), ApprovalRequest(world), "approval-expiry");
        var done = await engine.RunToCompletionAsync(id);
        Assert.Equal(ApprovalOutcome.Expired, done.ReadOutputAs<ApprovalWorkflowOutput>()!.Outcome);
        return await ScenarioRecord.CaptureAsync(engine, world, id);
    }

    /// <summary>The steward does not answer; after the escalation the delegate approves with their own link.</summary>
    public static async Task<ScenarioRecord> ApprovalEscalatedThenApprovedAsync(ScenarioEngine engine, ConformanceWorld world)
    {
        var id = await engine.Client.ScheduleNewAsync(nameof(ApprovalWorkflow), ApprovalRequest(world), "approval-escalated");
        await engine.RunUntilAsync(id, () => Task.FromResult(world.Fakes.Sent.Any(n => n.Kind == NotificationKind.Escalation)));
        var escalation = world.Fakes.Sent.Single(n => n.Kind == NotificationKind.Escalation);
        var result = await Decisions(engine)
            .SubmitAsync(WorkflowTestEnvironment.TokenOf(escalation), "approve", "Approved as deputy.", "user:" + escalation.To[0]);
        Assert.True(result.Accepted, result.Message);
        var done = await engine.CompletionAsync(id);
        Assert.Equal(ApprovalOutcome.Approved, done.ReadOutputAs<ApprovalWorkflowOutput>()!.Outcome);
        return await ScenarioRecord.CaptureAsync(engine, world, id);
    }

    /// <summary>A governed DMP changes (a second dataset): the router starts an update, which is approved and applied.</summary>
    public static async Task<ScenarioRecord> DmpUpdateAsync(ScenarioEngine engine, ConformanceWorld world)
    {
        var submitted = await new DmpSubmissionService(engine.Client, world.Fakes.Registry.Object).SubmitAsync(Json());
        Assert.Equal(WorkflowStatus.Completed, (await ApproveAllAsync(engine, world, submitted.InstanceId!)).Status);
        var router = new DmpEventRouter(engine.Client, world.Fakes.Registry.Object);
        var routed = await router.RouteAsync(
            new DmpEvent(DmpId, Json(V2, datasets: [new DatasetSpec("ds-open"), new DatasetSpec("ds-extra", Access: "shared")])));
        Assert.Equal(DmpRoute.Update, routed.Route);
        var done = await ApproveAllAsync(engine, world, routed.InstanceId!);
        Assert.Equal(WorkflowStatus.Completed, done.Status);
        var again = await router.RouteAsync(
            new DmpEvent(DmpId, Json(V2, datasets: [new DatasetSpec("ds-open"), new DatasetSpec("ds-extra", Access: "shared")])));
        Assert.NotEqual(DmpRoute.Intake, again.Route);
        return await ScenarioRecord.CaptureAsync(engine, world, submitted.InstanceId!, routed.InstanceId!);
    }

    /// <summary>Notices at each window, the steward approves, two-phase deletion with a certificate.</summary>
    public static async Task<ScenarioRecord> RetentionDisposalAsync(ScenarioEngine engine, ConformanceWorld world)
    {
        var dataset = world.Fakes.AddDataset(RetentionDmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(100));
        var id = await StartCaseAsync(engine, dataset);
        await engine.RunUntilAsync(id, () => Task.FromResult(world.Fakes.Sent.Any(n => n.Kind == NotificationKind.ApprovalRequest)));
        var request = world.Fakes.Sent.First(n => n.Kind == NotificationKind.ApprovalRequest);
        await engine.RaiseEventAndWaitAsync(
            request.CorrelationId,
            ApprovalWorkflow.DecisionEventName,
            new ApprovalDecisionEvent(WorkflowTestEnvironment.TokenOf(request), "approve", null, null));
        var done = await engine.RunToCompletionAsync(id);
        Assert.Equal(RetentionCaseOutcome.Disposed, done.ReadOutputAs<RetentionCaseResult>()!.Outcome);
        return await ScenarioRecord.CaptureAsync(engine, world, id);
    }

    /// <summary>A legal hold stops the disposal and is reported; once lifted, the re-check disposes after approval.</summary>
    public static async Task<ScenarioRecord> RetentionLegalHoldAsync(ScenarioEngine engine, ConformanceWorld world)
    {
        var dataset = world.Fakes.AddDataset(RetentionDmp, "eeg", WorkflowTestEnvironment.Today.AddDays(5), legalHold: true);
        var id = await StartCaseAsync(engine, dataset);
        await engine.RunUntilAsync(
            id, () => Task.FromResult(world.Fakes.Sent.Any(n => n.Subject.StartsWith("Disposal on hold", StringComparison.Ordinal))));
        world.Fakes.Datasets[(RetentionDmp, "eeg")] = world.Fakes.Dataset(RetentionDmp, "eeg") with { LegalHold = false };
        await engine.RunUntilAsync(id, () => Task.FromResult(world.Fakes.Sent.Any(n => n.Kind == NotificationKind.ApprovalRequest)));
        var request = world.Fakes.Sent.First(n => n.Kind == NotificationKind.ApprovalRequest);
        await engine.RaiseEventAndWaitAsync(
            request.CorrelationId,
            ApprovalWorkflow.DecisionEventName,
            new ApprovalDecisionEvent(WorkflowTestEnvironment.TokenOf(request), "approve", null, null));
        var done = await engine.RunToCompletionAsync(id);
        Assert.Equal(RetentionCaseOutcome.Disposed, done.ReadOutputAs<RetentionCaseResult>()!.Outcome);
        return await ScenarioRecord.CaptureAsync(engine, world, id);
    }

    /// <summary>
    /// A blob lands in a governed container (tagged), twice (the duplicate changes nothing), and one lands in an unknown container.
    /// </summary>
    public static async Task<ScenarioRecord> BlobEventsAsync(ScenarioEngine engine, ConformanceWorld world)
    {
        var dataset = world.Fakes.AddDataset(RetentionDmp, "mri-raw", WorkflowTestEnvironment.Today.AddDays(3650));
        var created = new BlobEventInput(
            "ev-1", BlobEventKind.Created, dataset.Container, "raw/file-1.dat", "\"0x8D1\"", 100, ScenarioEngine.Epoch, "PutBlob");
        var unknown = created with { EventId = "ev-2", Container = "shadow-data", BlobName = "dump.sql" };
        var ids = new List<string>();
        foreach (var input in new[] { created, created, unknown })
        {
            var id = await engine.Client.ScheduleNewAsync(
                nameof(HandleBlobEventWorkflow), input, HandleBlobEventWorkflow.InstanceIdFor(input.EventId));
            Assert.Equal(WorkflowStatus.Completed, (await engine.RunToCompletionAsync(id)).Status);
            ids.Add(id);
        }

        // A duplicate delivered after completion under another instance id is recognised by its event id.
        var late = await engine.Client.ScheduleNewAsync(nameof(HandleBlobEventWorkflow), created, "blob-event-redelivered");
        await engine.RunToCompletionAsync(late);
        return await ScenarioRecord.CaptureAsync(engine, world, [.. ids.Distinct(), late]);
    }

    private static ApprovalWorkflowInput ApprovalRequest(ConformanceWorld world) =>
        new(
            RetentionDmp,
            ApprovalRole.DataSteward,
            "intake",
            ["personal data"],
            "Approve the storage of the study's data.",
            Policy: world.Policy);

    private static Task<string> StartCaseAsync(ScenarioEngine engine, DatasetRecord dataset) =>
        engine.Client.ScheduleNewAsync(
            nameof(RetentionCaseWorkflow),
            new RetentionCaseInput
            {
                DmpId = dataset.DmpId,
                DatasetId = dataset.DatasetId,
                Container = dataset.Container,
                KeepUntil = dataset.KeepUntil!.Value,
                Disposal = dataset.Disposal,
                Settings = WorkflowTestEnvironment.Settings,
            },
            RetentionCaseWorkflow.InstanceIdFor(dataset.DmpId, dataset.DatasetId, dataset.KeepUntil!.Value));

    /// <summary>
    /// Approves every approval request of the instance (and its sub-workflows) as it arrives, until it completes; no timer fires meanwhile.
    /// </summary>
    private static async Task<WorkflowMetadata> ApproveAllAsync(ScenarioEngine engine, ConformanceWorld world, string instanceId)
    {
        var decided = new HashSet<string>(StringComparer.Ordinal);
        WorkflowMetadata? done = null;
        await ScenarioEngine.WaitUntilAsync(
            async () =>
            {
                foreach (var message in world.Fakes.Sent.Where(
                    m => m.Kind == NotificationKind.ApprovalRequest
                        && m.CorrelationId.StartsWith(instanceId, StringComparison.Ordinal)).ToList())
                {
                    if (decided.Add(message.DeduplicationKey))
                    {
                        await Decisions(engine)
                            .SubmitAsync(WorkflowTestEnvironment.TokenOf(message), "approve", null, "user:" + message.To[0]);
                    }
                }

                done = await engine.Client.GetInstanceAsync(instanceId);
                return done is { IsCompleted: true };
            },
            instanceId + " to complete");
        await SettleAsync(engine, world, instanceId);
        return done!;
    }

    /// <summary>Waits until the sub-workflows the instance started (e.g. withdrawn approvals) have ended too.</summary>
    private static Task SettleAsync(ScenarioEngine engine, ConformanceWorld world, string instanceId) =>
        ScenarioEngine.WaitUntilAsync(
            async () =>
            {
                foreach (var approval in world.Fakes.Approvals.Values.Where(
                    a => a.InstanceId is not null && a.InstanceId.StartsWith(instanceId, StringComparison.Ordinal)))
                {
                    if (await engine.Client.GetInstanceAsync(approval.InstanceId!, false) is { IsCompleted: false })
                    {
                        return false;
                    }
                }

                return true;
            },
            "the sub-workflows of " + instanceId + " to end");

    private static async Task<Notification> WaitForAsync(ConformanceWorld world, Func<Notification, bool> match)
    {
        await ScenarioEngine.WaitUntilAsync(() => Task.FromResult(world.Fakes.Sent.Any(match)), "a notification");
        return world.Fakes.Sent.First(match);
    }
}
