using System.Text.Json.Nodes;
using Gardien.Local.DmpTool;
using Gardien.Testing;
using Gardien.Workflows.Access;
using Gardien.Workflows.Approvals;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Hosting;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using Gardien.Workflows.Provisioning;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// Intake and update end to end: embedded engine on the Azure Storage store, real local adapters, Azurite. Approvers
/// act through the signed links of the messages in the local inbox, as a person using the local CLI would.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class IntakeEndToEndTests(AzuriteFixture azurite)
{
    private const string HealthStudy = "samples/dmp-health-study.json";

    public static TheoryData<string, string> Examples => new()
    {
        { "examples/rda-1.2/ex5-dataset-planned-host.json", "-ex5" },
        { "examples/rda-1.2/ex6-dataset-closed.json", "-ex6" },
        { HealthStudy, string.Empty },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Intake_ApprovedThroughInboxLinks_ProvisionsGrantsNotifiesWritesBackAndAudits(string example, string idSuffix)
    {
        await using var host = await LocalAdaptersWorld.StartAsync(azurite);
        var json = LocalAdaptersWorld.Example(example, idSuffix);
        var dmpId = DmpSubmissionService.ExtractDmpId(json)!;
        var piEmail = JsonNode.Parse(json)!["dmp"]!["contact"]!["mbox"]!.GetValue<string>();

        var submitted = await host.Submissions.SubmitAsync(json, "user:cli");
        var (done, decided) = await host.ApproveEverythingAsync(submitted.InstanceId!);

        var output = done.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.True(output.State == IntakeState.Active, $"{output.State}: {output.Reason}");
        Assert.Equal(submitted.InstanceId, IntakeDmpWorkflow.InstanceIdFor(dmpId));
        Assert.Contains(
            output.Approvals, a => a.Role == ApprovalRole.PrincipalInvestigator && a.DecidedBy == piEmail && a.Comment == "looks right");
        Assert.Equal(output.Approvals.Count, decided.Count);

        // Containers with the plan's metadata; the registry knows each dataset.
        Assert.NotEmpty(output.Containers);
        foreach (var summary in output.Containers)
        {
            var container = await host.Storage.GetContainerAsync(summary.Container);
            Assert.NotNull(container);
            Assert.Equal(Uri.EscapeDataString(dmpId), container.Metadata[GovernanceMetadata.DmpId]);
            Assert.Equal(Uri.EscapeDataString(summary.DatasetId), container.Metadata[GovernanceMetadata.DatasetId]);
            Assert.Matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", container.Metadata[GovernanceMetadata.KeepUntil]);
            Assert.Equal(submitted.InstanceId, container.OwnerInstanceId);
            Assert.Equal(DatasetState.Provisioned, (await host.Registry.GetDatasetAsync(dmpId, summary.DatasetId))!.State);
        }

        // Grants: in the registry with their approvals, and as group membership in the directory.
        Assert.NotEmpty(output.Grants);
        var grants = await host.Registry.ListGrantsAsync(dmpId);
        Assert.Equal(output.Grants.Count, grants.Count(g => g.State == GrantState.Active));
        Assert.All(grants, g => Assert.NotEmpty(g.ApprovalIds));
        foreach (var grant in output.Grants)
        {
            var group = await host.Directory.FindGroupAsync(AccessGroups.GroupName(grant.Container, grant.Level));
            Assert.NotNull(group);
            Assert.Contains(await host.Directory.ListMembersAsync(group.Id), m => m.Id == grant.PrincipalId);
        }

        // The PI's summary in the inbox; the location written back to the DMP tool; the plan status in the registry.
        var summaryMessage = Assert.Single(await host.Inbox.ListAsync(piEmail), m => m.Kind == NotificationKind.Summary);
        Assert.Contains(output.Containers[0].Container, summaryMessage.Body, StringComparison.Ordinal);
        var writeBack = JsonNode.Parse(
            await File.ReadAllTextAsync(Path.Combine(host.DmpTool.WriteBackFolder, FileDmpToolClient.Slug(dmpId) + ".json")))!;
        foreach (var summary in output.Containers)
        {
            var entry = writeBack["datasets"]![summary.DatasetId]!;
            Assert.Equal(summary.Location.ToString(), entry["host_url"]!.GetValue<string>());
            Assert.Equal("Azure Blob Storage", entry["storage_type"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(entry["backup_frequency"]!.GetValue<string>()));
        }

        var record = (await host.Registry.GetDmpAsync(dmpId))!;
        Assert.Equal(DmpState.Active, record.State);
        Assert.NotEmpty(record.NotEnforcedLocally);
        Assert.Equal(output.NotEnforcedLocally.Select(f => f.Feature).Order(), record.NotEnforcedLocally.Select(f => f.Feature).Order());

        // Every step audited, and the chain verifies.
        var actions = (await host.AuditOfAsync(submitted.InstanceId!)).Select(e => e.Action).ToList();
        foreach (var action in new[]
        {
            "dmp.recorded",
            "intake.started",
            "approval.requested",
            "approval.decided",
            "container.provisioned",
            "grant.created",
            "dmp.state_changed",
            "dmp.written_back",
        })
        {
            Assert.Contains(action, actions);
        }

        var verification = await host.Audit.VerifyAsync();
        Assert.True(verification.Intact, verification.FirstBrokenLink?.Problem);
    }

    [Fact]
    public async Task Intake_Ex7OpenDistributionOfUnknownSensitivity_IsInvalidAndTheContactIsToldWhere()
    {
        await using var host = await LocalAdaptersWorld.StartAsync(azurite);
        var json = LocalAdaptersWorld.Example("examples/rda-1.2/ex7-dataset-many.json", "-ex7");
        var dmpId = DmpSubmissionService.ExtractDmpId(json)!;

        var submitted = await host.Submissions.SubmitAsync(json, "user:cli");
        var output = (await host.CompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        // ex7's first dataset is open while its sensitivity is "unknown": the policy refuses it, nothing is governed.
        Assert.Equal(IntakeState.Invalid, output.State);
        Assert.Contains("/dmp/dataset/0/distribution/0/data_access", output.Reason, StringComparison.Ordinal);
        Assert.Null(await host.Registry.GetDmpAsync(dmpId));
        Assert.Empty(output.Containers);
        var told = Assert.Single(await host.Inbox.ListAsync("TMiksa@sba-research.org"));
        Assert.Equal(NotificationKind.Rejection, told.Kind);
        Assert.Contains("/dmp/dataset/0/distribution/0/data_access", told.Body, StringComparison.Ordinal);
        Assert.Contains("dmp.invalid", (await host.AuditOfAsync(submitted.InstanceId!)).Select(e => e.Action));
    }

    [Fact]
    public async Task Intake_PersonalHealthData_NeedsTheDpoWhoseDecisionIsRecorded()
    {
        await using var host = await LocalAdaptersWorld.StartAsync(azurite);
        var json = LocalAdaptersWorld.Example(HealthStudy, string.Empty);
        var dmpId = DmpSubmissionService.ExtractDmpId(json)!;

        var submitted = await host.Submissions.SubmitAsync(json, "user:cli");
        var (done, decided) = await host.ApproveEverythingAsync(submitted.InstanceId!, "pseudonymisation checked");

        var output = done.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Contains(decided, m => m.To.Contains("dpo@neuro-institute.example"));
        var dpo = Assert.Single(output.Approvals, a => a.Role == ApprovalRole.DataProtectionOfficer);
        Assert.Equal(ApprovalOutcome.Approved, dpo.Outcome);
        Assert.Equal("dpo@neuro-institute.example", dpo.DecidedBy);
        var stored = (await host.Registry.ListApprovalsAsync(dmpId)).Single(a => a.Role == "dpo");
        Assert.Equal(ApprovalDecision.Approved, stored.Decision);
        Assert.Equal("dpo@neuro-institute.example", stored.DecidedBy);
        Assert.Equal("pseudonymisation checked", stored.Comment);
        Assert.NotNull(stored.DecidedAt);

        // The same link a second time is refused with a clear message.
        var dpoRequest = decided.First(m => m.To.Contains("dpo@neuro-institute.example"));
        var again = await host.Decisions.SubmitAsync(
            LocalAdaptersWorld.TokenOf(dpoRequest, "reject"), "reject", null, "user:dpo@neuro-institute.example");
        Assert.False(again.Accepted);
        Assert.Contains("already", again.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Intake_SameSubmissionFiveTimesConcurrently_ProvisionsOneSetOfContainersAndGrants()
    {
        await using var host = await LocalAdaptersWorld.StartAsync(azurite);
        var json = LocalAdaptersWorld.Example("examples/rda-1.2/ex5-dataset-planned-host.json", "-concurrent");
        var dmpId = DmpSubmissionService.ExtractDmpId(json)!;

        var submissions = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => host.Submissions.SubmitAsync(json, $"user:cli-{i}")));
        var instanceId = Assert.Single(submissions.Select(s => s.InstanceId).Distinct());
        var (done, decided) = await host.ApproveEverythingAsync(instanceId!);

        var output = done.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Equal(IntakeState.Active, output.State);
        Assert.Equal(output.Approvals.Count, decided.Count);
        var datasets = await host.Registry.ListDatasetsAsync(dmpId);
        Assert.Equal(output.Containers.Count, datasets.Count);
        var provisioned = (await host.AuditOfAsync(instanceId!)).Where(e => e.Action == "container.provisioned").ToList();
        Assert.Equal(output.Containers.Count, provisioned.Count);
        var grants = await host.Registry.ListGrantsAsync(dmpId);
        Assert.Equal(output.Grants.Count, grants.Count);
        Assert.Equal(output.Grants.Count, grants.Select(g => (g.DatasetId, g.PrincipalId)).Distinct().Count());
        Assert.Single(await host.Inbox.ListAsync("TMiksa@sba-research.org"), m => m.Kind == NotificationKind.Summary);
    }

    // Quarantined: in about one class run in three, Azurite stops answering for minutes right after this update's
    // approvals start (the engine's log shows six 30-s timeouts in a row) and the engine never goes idle; alone it
    // passes. The update's behaviour stays covered on the in-memory ports (UpdateDmpWorkflowTests, DmpVersionRoutingTests);
    // this run on the local adapters comes back once the stall is explained.
    [Fact(Skip = "Azurite stalls for minutes in about one run in three after this update's approvals start; see the comment")]
    public async Task Update_NewerVersionApplied_ThenOlderVersionIgnored()
    {
        await using var host = await LocalAdaptersWorld.StartAsync(azurite);
        var v1 = LocalAdaptersWorld.Example(HealthStudy, string.Empty);
        var dmpId = DmpSubmissionService.ExtractDmpId(v1)!;
        var intake = await host.Router.RouteAsync(new DmpEvent(dmpId, v1, SubmittedBy: "system:test"));
        var intakeOutput = (await host.ApproveEverythingAsync(intake.InstanceId!)).Done.ReadOutputAs<IntakeDmpOutput>()!;
        Assert.Equal(IntakeState.Active, intakeOutput.State);
        var sofia = Assert.Single(intakeOutput.Grants.Where(g => g.DisplayName == "Sofia Rossi").Select(g => g.PrincipalId).Distinct());
        const string features = "https://doi.org/10.99999/neurocog-mri.features";
        var featuresContainer = intakeOutput.Containers.Single(c => c.DatasetId == features).Container;
        await UploadAsync(host, featuresContainer, "features/table.csv");

        // v3: Sofia leaves, the features are kept five more years, a new dataset appears.
        var v3 = Edit(v1, new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero), dmp =>
        {
            var contributors = dmp["contributor"]!.AsArray();
            contributors.Remove(contributors.First(c => c!["name"]!.GetValue<string>() == "Sofia Rossi"));
            var datasets = dmp["dataset"]!.AsArray();
            datasets.Single(
                d => d!["dataset_id"]!["identifier"]!.GetValue<string>() == features)!["distribution"]![0]!["available_until"] =
                    "2045-12-31";
            var added = datasets.Single(
                d => d!["dataset_id"]!["identifier"]!.GetValue<string>().EndsWith(".atlas", StringComparison.Ordinal))!.DeepClone();
            added["dataset_id"]!["identifier"] = "https://doi.org/10.99999/neurocog-mri.atlas-v2";
            added["title"] = "NEUROCOG population brain atlas, second release";
            datasets.Add(added);
        });
        var update = await host.Router.RouteAsync(new DmpEvent(dmpId, v3, SubmittedBy: "system:test"));
        Assert.Equal(DmpRoute.Update, update.Route);
        var updated = (await host.ApproveEverythingAsync(update.InstanceId!)).Done.ReadOutputAs<UpdateDmpOutput>()!;

        Assert.True(updated.State == UpdateState.Applied, $"{updated.State}: {updated.Reason}");
        var newContainer = Assert.Single(updated.ContainersAdded);
        Assert.NotNull(await host.Storage.GetContainerAsync(newContainer.Container));
        Assert.Contains(updated.Revoked, r => r.StartsWith("Sofia Rossi", StringComparison.Ordinal));
        Assert.DoesNotContain(
            (await host.Registry.ListGrantsAsync(dmpId)).Where(g => g.State == GrantState.Active), g => g.PrincipalId == sofia);
        Assert.Equal("2045-12-31", (await host.Storage.GetContainerAsync(featuresContainer))!.Metadata[GovernanceMetadata.KeepUntil]);
        var blobs = new List<StoredBlob>();
        await foreach (var each in host.Storage.ListBlobsAsync(featuresContainer))
        {
            blobs.Add(each);
        }

        var blob = Assert.Single(blobs);
        Assert.Equal("2045-12-31", blob.Tags[GovernanceMetadata.KeepUntil]);
        Assert.Equal(new DateOnly(2045, 12, 31), (await host.Registry.GetDatasetAsync(dmpId, features))!.KeepUntil);

        // v2, older than v3, arrives late: ignored by the router, and by the update workflow itself if it got through.
        var v2 = Edit(v1, new DateTimeOffset(2025, 4, 1, 0, 0, 0, TimeSpan.Zero), dmp => dmp["dataset"]!.AsArray().RemoveAt(3));
        var late = await host.Router.RouteAsync(new DmpEvent(dmpId, v2));
        Assert.Equal(DmpRoute.Ignored, late.Route);
        var forced = UpdateDmpWorkflow.InstanceIdFor(dmpId, DmpSubmissionService.ExtractModified(v2), v2);
        await host.Client.ScheduleNewAsync(nameof(UpdateDmpWorkflow), new UpdateDmpInput(dmpId, v2), forced);
        var ignored = (await host.CompletionAsync(forced)).ReadOutputAs<UpdateDmpOutput>()!;
        Assert.Equal(UpdateState.Ignored, ignored.State);
        var record = (await host.Registry.GetDmpAsync(dmpId))!;
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero), record.Modified);
        Assert.Equal(5, GovernanceJson.DeserializePlan(record.ActivePlanJson!)!.Datasets.Count);
        Assert.Contains("dmp.version_ignored", (await host.AuditOfAsync(forced)).Select(e => e.Action));
        Assert.True((await host.Audit.VerifyAsync()).Intact);
    }

    private static string Edit(string json, DateTimeOffset modified, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        var dmp = root["dmp"]!.AsObject();
        dmp["modified"] = modified.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        edit(dmp);
        return root.ToJsonString();
    }

    private static async Task UploadAsync(LocalAdaptersWorld host, string container, string name)
    {
        var blobs = new Azure.Storage.Blobs.BlobContainerClient(host.ConnectionString, container);
        await blobs.UploadBlobAsync(name, BinaryData.FromString("a,b\n1,2\n"));
    }
}
