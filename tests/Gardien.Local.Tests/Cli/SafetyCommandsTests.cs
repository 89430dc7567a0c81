using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Gardien.Cli;
using Gardien.Local.Tests.Hosting;
using Gardien.Testing;

namespace Gardien.Local.Tests.Cli;

/// <summary>
/// The CLI used as a careless user or a hostile DMP would use it: links pasted whole, claimed identities, new versions,
/// titles full of terminal escapes. The real engine and the local adapters on Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SafetyCommandsTests(AzuriteFixture fixture)
{
    private const string Dpo = "dpo@neuro-institute.example";
    private const string Steward = "data-steward@neuro-institute.example";

    [Fact]
    public async Task Approve_RejectLinkPastedWhole_RejectsTheIntake()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        Assert.Equal(CliRunner.Ok, (await sandbox.RunAsync("submit", sandbox.DmpPath)).Exit);
        var rejectLink = (await OpenRequestAsync(sandbox, Dpo)).Links["reject"];

        var (exit, output, error) = await sandbox.RunAsync("approve", rejectLink, "--comment", "consent forms missing");

        Assert.True(exit == CliRunner.Ok, error);
        Assert.Contains("your decision (reject) was recorded", output, StringComparison.Ordinal);
        var status = await StatusAsync(sandbox);
        Assert.Equal("Rejected", status.GetProperty("registry").GetProperty("state").GetString());
        Assert.Empty(status.GetProperty("grants").EnumerateArray());
    }

    [Theory]
    [InlineData("reject", "--approve")]
    [InlineData("approve", "--reject")]
    public async Task Approve_LinkWithAContradictingFlag_IsRefusedWithExitTwoAndNothingRecorded(string linkDecision, string flag)
    {
        using var sandbox = new LocalHostSandbox(fixture);
        Assert.Equal(CliRunner.Ok, (await sandbox.RunAsync("submit", sandbox.DmpPath)).Exit);
        var link = (await OpenRequestAsync(sandbox, Dpo)).Links[linkDecision];

        var (exit, _, error) = await sandbox.RunAsync("approve", link, flag);

        Assert.Equal(CliRunner.UsageOrIoError, exit);
        Assert.Contains($"decision={linkDecision}", error, StringComparison.Ordinal);
        Assert.Contains("Nothing was recorded", error, StringComparison.Ordinal);
        Assert.True((await OpenRequestAsync(sandbox, Dpo)).Open);
        var (again, _, againError) = await sandbox.RunAsync("approve", link);
        Assert.True(again == CliRunner.Ok, againError);
    }

    [Fact]
    public async Task Approve_AsSomeoneOtherThanTheApprover_IsRefusedAndTheApproverCanStillUseTheLink()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        Assert.Equal(CliRunner.Ok, (await sandbox.RunAsync("submit", sandbox.DmpPath)).Exit);
        var token = (await OpenRequestAsync(sandbox, Steward)).Token;

        var (malloryExit, _, malloryError) = await sandbox.RunAsync("approve", token, "--as", "mallory@elsewhere.example");
        var (stewardExit, _, stewardError) = await sandbox.RunAsync("approve", token);

        Assert.Equal(CliRunner.Invalid, malloryExit);
        Assert.Contains("mallory@elsewhere.example may not decide", malloryError, StringComparison.Ordinal);
        Assert.True(stewardExit == CliRunner.Ok, stewardError);
        var approval = (await StatusAsync(sandbox)).GetProperty("approvals").EnumerateArray()
            .Single(a => a.GetProperty("role").GetString() == "steward");
        Assert.Equal(Steward, approval.GetProperty("decidedBy").GetString());
    }

    [Fact]
    public async Task Submit_NewerVersionOfAnActiveDmp_StartsAnUpdateThatAsksTheDpo()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        Assert.Equal(CliRunner.Ok, (await sandbox.RunAsync("submit", sandbox.DmpPath)).Exit);
        await ApproveAllAsync(sandbox);
        Assert.Equal("Active", (await StatusAsync(sandbox)).GetProperty("registry").GetProperty("state").GetString());
        var v2 = Revise(sandbox, "2025-06-01T10:00:00Z", addGeneticsDataset: true);

        var (exit, output, error) = await sandbox.RunAsync("submit", v2);

        Assert.True(exit == CliRunner.Ok, error + output);
        Assert.Contains($"Submitted {sandbox.DmpId} as an update", output, StringComparison.Ordinal);
        Assert.DoesNotContain("joined", output, StringComparison.Ordinal);
        var dpo = await OpenRequestAsync(sandbox, Dpo);
        Assert.True(dpo.Open);
        Assert.StartsWith("update-", dpo.CorrelationId, StringComparison.Ordinal);

        await ApproveAllAsync(sandbox);
        var status = await StatusAsync(sandbox);
        Assert.Equal("Active", status.GetProperty("registry").GetProperty("state").GetString());
        Assert.Equal("2025-06-01T10:00:00+00:00", status.GetProperty("registry").GetProperty("modified").GetString());
        Assert.Contains(
            status.GetProperty("datasets").EnumerateArray(),
            d => d.GetProperty("dataset").GetProperty("datasetId").GetString()!.EndsWith(".genetics", StringComparison.Ordinal));

        var (older, _, olderError) = await sandbox.RunAsync("submit", sandbox.DmpPath);
        Assert.Equal(CliRunner.Invalid, older);
        Assert.Contains("stale version", olderError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusInboxAndMessages_HostileTitle_ShowNoControlCharactersForgedLinesOrLinks()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        const string Title =
            "Cohort\u001b[2J\u001b[H study\r\nApproved by DPO: yes\u202E \u001b]8;;https://evil.example/ok\u001b\\[approve here](https:/"
            + "/evil.example/ok)\u001b]8;;\u001b\\";
        var dmp = JsonNode.Parse(await File.ReadAllTextAsync(sandbox.DmpPath))!;
        dmp["dmp"]!["title"] = Title;
        var path = sandbox.Combine("hostile.json");
        await File.WriteAllTextAsync(path, dmp.ToJsonString());

        var outputs = new List<string>();
        foreach (var args in new[] { new[] { "submit", path }, ["status"], ["status", sandbox.DmpId], ["inbox"] })
        {
            var (exit, output, error) = await sandbox.RunAsync(args);
            Assert.True(exit == CliRunner.Ok, $"{string.Join(' ', args)}: {error}");
            outputs.Add(output + error);
        }

        using (var stdout = new StringWriter())
        using (var stderr = new StringWriter())
        {
            Assert.Equal(CliRunner.Ok, await CliRunner.RunAsync(CliCommands.CreateRoot("test"), ["validate", path], stdout, stderr));
            outputs.Add(stdout.ToString() + stderr);
        }

        Assert.All(outputs, output =>
        {
            Assert.DoesNotContain('\u001b', output);
            Assert.DoesNotContain('\r', output);
            Assert.DoesNotContain('\u202E', output);
            Assert.DoesNotContain(output.Split('\n'), line => line.TrimStart().StartsWith("Approved by DPO", StringComparison.Ordinal));
        });
        Assert.Contains(outputs, o => o.Contains("Cohort\\x1b[2J", StringComparison.Ordinal));

        // The DPO's request, as the Markdown file the inbox keeps: one title line, no forged line, no link but Gardien's own.
        var request = System.IO.Directory.EnumerateFiles(sandbox.Combine("inbox"), "*.md", SearchOption.AllDirectories)
            .Select(File.ReadAllText).Single(text => text.Contains("Approval needed (data protection officer)", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', request);
        Assert.DoesNotContain('\r', request);
        Assert.DoesNotContain(
            request.Split('\n'), line => line.TrimStart('#', ' ', '-').StartsWith("Approved by DPO", StringComparison.Ordinal));
        Assert.DoesNotContain("https://evil", request, StringComparison.Ordinal);
        Assert.Contains("\\[approve here\\]", request, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitAndApprove_DamagedAuditTail_ExitTwoSayingWhatToRepairAndResumeOnceTheTrailVerifies()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        Assert.Equal(CliRunner.Ok, (await sandbox.RunAsync("submit", sandbox.DmpPath)).Exit);
        var token = (await OpenRequestAsync(sandbox, Steward)).Token;
        var second = Revise(
            sandbox, "2025-03-02T16:45:12Z", addGeneticsDataset: false, dmpId: $"https://doi.org/10.99999/{sandbox.Slug}-second.dmp");

        // A crash tore the last append: a partial line at the end of the current segment.
        var segment = new BlobContainerClient(sandbox.ConnectionString, sandbox.AuditContainer).GetAppendBlobClient("chain/00000001.jsonl");
        var intact = (await segment.DownloadContentAsync()).Value.Content.ToString();
        await segment.AppendBlockAsync(new MemoryStream(Encoding.UTF8.GetBytes("{\"action\":\"approval.dec")));

        var (submitExit, submitOut, submitError) = await sandbox.RunAsync("submit", second);
        var (approveExit, approveOut, approveError) = await sandbox.RunAsync("approve", token);
        var (verifyExit, _, _) = await sandbox.RunAsync("status", sandbox.DmpId);

        Assert.Equal(CliRunner.UsageOrIoError, submitExit);
        Assert.Contains("The audit trail is damaged at", submitError, StringComparison.Ordinal);
        Assert.Contains("chain/00000001.jsonl line", submitError, StringComparison.Ordinal);
        Assert.Contains("restore the segment", submitError, StringComparison.Ordinal);
        Assert.Contains("once 'gardien audit verify' reports it intact", submitError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", submitOut + submitError, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", submitOut + submitError, StringComparison.Ordinal);
        Assert.Equal(CliRunner.UsageOrIoError, approveExit);
        Assert.Contains("your decision (approve) was recorded", approveOut, StringComparison.Ordinal);
        Assert.Contains("The audit trail is damaged", approveError, StringComparison.Ordinal);
        Assert.Equal(CliRunner.Ok, verifyExit);

        // Resubmitting joins the waiting intake; nothing is Failed.
        var (againExit, againOut, againError) = await sandbox.RunAsync("submit", second);
        Assert.Equal(CliRunner.UsageOrIoError, againExit);
        Assert.Contains("already in intake", againOut + againError, StringComparison.Ordinal);

        // The operator rewrites the segment without the torn line; the next command resumes the waiting workflows.
        await segment.DeleteAsync();
        await segment.CreateAsync();
        await segment.AppendBlockAsync(new MemoryStream(Encoding.UTF8.GetBytes(intact)));
        Assert.Equal(CliRunner.Ok, (await VerifyAuditAsync(sandbox)).Exit);
        var (statusExit, _, statusError) = await sandbox.RunAsync("status");
        Assert.Equal(CliRunner.Ok, statusExit);
        Assert.Contains("carry on", statusError, StringComparison.Ordinal);

        await ApproveAllAsync(sandbox);
        Assert.Equal("Active", (await StatusAsync(sandbox)).GetProperty("registry").GetProperty("state").GetString());
        var (secondStatus, secondOut, _) = await sandbox.RunAsync(
            "status", $"https://doi.org/10.99999/{sandbox.Slug}-second.dmp", "--json");
        Assert.Equal(CliRunner.Ok, secondStatus);
        Assert.Equal("Active", JsonDocument.Parse(secondOut).RootElement.GetProperty("registry").GetProperty("state").GetString());
        var (auditExit, auditOut) = await VerifyAuditAsync(sandbox);
        Assert.Equal(CliRunner.Ok, auditExit);
        Assert.Contains("intact", auditOut, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Out)> VerifyAuditAsync(LocalHostSandbox sandbox)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliRunner.RunAsync(
            CliCommands.CreateRoot("test"),
            ["audit", "verify", "--connection-string", sandbox.ConnectionString, "--container", sandbox.AuditContainer],
            stdout,
            stderr);
        return (exit, stdout.ToString() + stderr);
    }

    private static string Revise(LocalHostSandbox sandbox, string modified, bool addGeneticsDataset, string? dmpId = null)
    {
        var dmp = JsonNode.Parse(File.ReadAllText(sandbox.DmpPath))!["dmp"]!;
        dmp["modified"] = modified;
        if (dmpId is not null)
        {
            dmp["dmp_id"]!["identifier"] = dmpId;
            foreach (var dataset in dmp["dataset"]!.AsArray())
            {
                dataset!["dataset_id"]!["identifier"] = dataset["dataset_id"]!["identifier"]!.GetValue<string>() + "-second";
            }
        }

        if (addGeneticsDataset)
        {
            var datasets = dmp["dataset"]!.AsArray();
            var genetics = datasets[1]!.DeepClone();
            genetics["title"] = "Genotyping of the cohort";
            genetics["dataset_id"]!["identifier"] = $"https://doi.org/10.99999/{sandbox.Slug}.genetics";
            datasets.Add(genetics);
        }

        var path = sandbox.Combine($"dmp-{modified[..10]}{(dmpId is null ? string.Empty : "-other")}.json");
        File.WriteAllText(path, new JsonObject { ["dmp"] = dmp.DeepClone() }.ToJsonString());
        return path;
    }

    private static async Task<JsonElement> StatusAsync(LocalHostSandbox sandbox)
    {
        var (exit, output, error) = await sandbox.RunAsync("status", sandbox.DmpId, "--json");
        Assert.True(exit == CliRunner.Ok, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private sealed record InboxRequest(string Token, IReadOnlyDictionary<string, string> Links, bool Open, string CorrelationId);

    /// <summary>The latest approval request sent to <paramref name="to"/>, with its whole links by decision.</summary>
    private static async Task<InboxRequest> OpenRequestAsync(LocalHostSandbox sandbox, string to)
    {
        var (_, output, _) = await sandbox.RunAsync("inbox", "--to", to, "--json");
        var request = JsonDocument.Parse(output).RootElement.EnumerateArray()
            .Last(m => m.GetProperty("kind").GetString() == "ApprovalRequest");
        var links = request.GetProperty("links").EnumerateArray().ToDictionary(
            l => l.GetProperty("label").GetString()!.ToLowerInvariant(), l => l.GetProperty("url").GetString()!, StringComparer.Ordinal);
        return new InboxRequest(
            request.GetProperty("approveToken").GetString()!,
            links,
            request.GetProperty("requestOpen").GetBoolean(),
            request.GetProperty("correlationId").GetString()!);
    }

    private static async Task ApproveAllAsync(LocalHostSandbox sandbox)
    {
        for (var round = 0; round < 5; round++)
        {
            var (_, output, _) = await sandbox.RunAsync("inbox", "--open", "--json");
            var open = JsonDocument.Parse(output)
                .RootElement.EnumerateArray()
                .Select(m => m.GetProperty("approveToken").GetString()!)
                .Distinct()
                .ToList();
            if (open.Count == 0)
            {
                return;
            }

            foreach (var token in open)
            {
                var (exit, _, error) = await sandbox.RunAsync("approve", token);
                Assert.True(exit == CliRunner.Ok, error);
            }
        }
    }
}
