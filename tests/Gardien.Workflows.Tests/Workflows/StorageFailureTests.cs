using Gardien.Runtime;
using Gardien.Workflows.Governance;
using Gardien.Workflows.Intake;
using Gardien.Workflows.Ports;
using static Gardien.Testing.Workflows.IntakeTestDmps;

namespace Gardien.Workflows.Tests.Workflows;

/// <summary>
/// Storage limits are checked before anyone is asked to approve; a refused request is not retried and is reported in one line.
/// </summary>
public sealed class StorageFailureTests
{
    private const string SdkDump =
        "Service request failed.\nStatus: 400 (The metadata specified is invalid. It has characters that are not permitted.)\nErrorCode: "
        + "InvalidMetadata\n\nContent:\n<?xml version=\"1.0\"?><Error><Code>InvalidMetadata</Code></Error>\n\nHeaders:\nServer: "
        + "Azurite-Blob/3.35.0\nx-ms-request-id: 5bd4a3c2\nContent-Type: application/xml";

    [Fact]
    public async Task Intake_DatasetIdTooLongForStorage_IsInvalidBeforeAnyApproval()
    {
        await using var host = await WorkflowTestEnvironment.StartAsync();
        var json = Json(datasets: [new DatasetSpec("ds-ok"), new DatasetSpec("https://doi.org/10.1234/" + new string('x', 3000))]);

        var submitted = await host.Submissions.SubmitAsync(json, "user:" + PiEmail);
        var output = (await host.CompletionAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(IntakeState.Invalid, output.State);
        Assert.Contains("/dmp/dataset/1/dataset_id/identifier", output.Reason, StringComparison.Ordinal);
        Assert.Contains("at most 255", output.Reason, StringComparison.Ordinal);
        Assert.Empty(host.Approvals);
        Assert.Empty(host.Containers);
    }

    [Theory]
    [InlineData("ds\n2", "U+000A")]
    [InlineData("ds\u202e2", "U+202E")]
    [InlineData("CJK×100", "once encoded")]
    public void Plan_IdentifierStorageCannotHold_IsAnErrorAtItsPath(string id, string expected)
    {
        // 100 CJK characters: within the length limit, 900 characters once percent-encoded.
        id = id == "CJK×100" ? new string('数', 100) : id;
        var plan = Governance.TestDmps.Evaluate(
            Governance.TestDmps.Dmp(Governance.TestDmps.Dataset(id, distributions: Governance.TestDmps.Distribution())));
        var error = Assert.Single(plan.AllFindings(), f => f.Code == "DatasetIdNotStorable");
        Assert.Equal("/dmp/dataset/0/dataset_id/identifier", error.Path);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_DmpIdTooLong_IsAnErrorAtItsPath()
    {
        var dmp = Governance.TestDmps.Dmp(Governance.TestDmps.Dataset(distributions: Governance.TestDmps.Distribution())) with
        {
            DmpId = new Gardien.Workflows.Madmp.Identifier(new string('d', 300), "other"),
        };
        Assert.Equal(
            "/dmp/dmp_id/identifier", Assert.Single(Governance.TestDmps.Evaluate(dmp).Findings, f => f.Code == "DmpIdNotStorable").Path);
    }

    [Theory]
    [InlineData(400, false)]
    [InlineData(403, false)]
    [InlineData(413, false)]
    [InlineData(408, true)]
    [InlineData(409, true)]
    [InlineData(412, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    public void RetryPolicy_SdkFailureLetThroughByAnAdapter_IsRetriedOnlyWhenTransient(int status, bool retried)
    {
        var failure = new TaskFailureDetails("Gardien.Workflows.Ports.SomeWrapper", "activity failed",
            InnerFailure: new TaskFailureDetails(
                "Azure.RequestFailedException", SdkDump.Replace("Status: 400", $"Status: {status}", StringComparison.Ordinal)));
        Assert.Equal(retried, ActivityRetryPolicies.IsRetryable(failure));
    }

    [Fact]
    public void ForUser_SdkFailure_IsOneLineWithoutTheHttpDump()
    {
        var text = FailureMessages.ForUser(
            new TaskFailureDetails("Outer", "wrapper", InnerFailure: new TaskFailureDetails("Azure.RequestFailedException", SdkDump)));

        Assert.Equal(
            "the storage service refused the request: The metadata specified is invalid. It has characters that are not permitted. "
            + "(HTTP 400, InvalidMetadata)",
            text);
    }

    [Fact]
    public void ForUser_MultiParagraphMessage_KeepsTheFirstParagraphOnOneLine() =>
        Assert.Equal("first line second line", FailureMessages.ForUser("first line\r\nsecond line\n\nStack and dump"));

    [Fact]
    public async Task Intake_StorageRefusesTheContainer_FailsAtOnceWithAOneLineReason()
    {
        var ensureCalls = 0;
        await using var host = await WorkflowTestEnvironment.StartAsync(h => h.Fault = call =>
            call == "Storage.EnsureContainer" && Interlocked.Increment(ref ensureCalls) > 0
                ? new Azure.RequestFailedException(400, SdkDump, "InvalidMetadata", null)
                : null);

        var submitted = await host.Submissions.SubmitAsync(Json(), "user:" + PiEmail);
        var output = (await host.ApproveAllUntilCompletedAsync(submitted.InstanceId!)).ReadOutputAs<IntakeDmpOutput>()!;

        Assert.Equal(IntakeState.Failed, output.State);
        Assert.Equal(1, ensureCalls);
        Assert.Contains("InvalidMetadata", output.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("Headers", output.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', output.Reason!);
    }
}
