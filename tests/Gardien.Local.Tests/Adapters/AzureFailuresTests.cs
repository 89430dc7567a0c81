using Azure;
using Gardien.Storage;
using Gardien.Workflows.Ports;
using Moq;

namespace Gardien.Local.Tests.Adapters;

public sealed class AzureFailuresTests
{
    private const string Dump =
        "Service request failed.\nStatus: 400 (One of the request inputs is out of range.)\nErrorCode: "
        + "OutOfRangeInput\n\nContent:\n{}\n\nHeaders:\nx-ms-request-id: 1";

    [Theory]
    [InlineData(400, typeof(PortRefusedException), false)]
    [InlineData(403, typeof(PortRefusedException), false)]
    [InlineData(404, typeof(PortNotFoundException), false)]
    [InlineData(409, typeof(PortException), true)]
    [InlineData(429, typeof(PortException), true)]
    [InlineData(503, typeof(PortException), true)]
    public void Translate_ByStatus_RefusesWhatCannotSucceedLater(int status, Type expected, bool transient)
    {
        var translated = AzureFailures.Translate(
            new RequestFailedException(
                status,
                Dump.Replace("400", status.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
                "OutOfRangeInput",
                null),
            "Recording dataset 'x'");

        Assert.IsType(expected, translated);
        Assert.Equal(transient, translated.IsTransient);
        Assert.StartsWith("Recording dataset 'x': the storage service answered", translated.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Headers", translated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registry_SdkRefusalEscapingTheAdapter_BecomesAPortRefusal()
    {
        var inner = new Mock<IGovernanceRegistry>();
        inner.Setup(r => r.UpsertDatasetAsync(It.IsAny<DatasetRecord>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new RequestFailedException(400, Dump, "OutOfRangeInput", null));
        var registry = new FailureTranslatingGovernanceRegistry(inner.Object);

        var error = await Assert.ThrowsAsync<PortRefusedException>(
            () => registry.UpsertDatasetAsync(
                new DatasetRecord { DmpId = "d", DatasetId = "x", Container = "c", State = DatasetState.Provisioned }));

        Assert.Equal(
            "Recording dataset 'x' in the registry: the storage service answered 400 (One of the request inputs is out of range.), "
            + "OutOfRangeInput.",
            error.Message);
    }

    [Fact]
    public async Task Storage_SdkFailureWhileListing_IsTranslatedToo()
    {
        var inner = new Mock<IStorageProvisioner>();
        inner.Setup(s => s.ListBlobsAsync("c", null, It.IsAny<CancellationToken>())).Returns(Failing());
        var storage = new FailureTranslatingStorageProvisioner(inner.Object);

        await Assert.ThrowsAsync<PortRefusedException>(async () =>
        {
            await foreach (var _ in storage.ListBlobsAsync("c"))
            {
            }
        });

        static async IAsyncEnumerable<StoredBlob> Failing()
        {
            await Task.Yield();
            throw new RequestFailedException(403, "Status: 403 (This request is not authorized.)", "AuthorizationFailure", null);
#pragma warning disable CS0162 // The iterator needs a yield to be one.
            yield break;
#pragma warning restore CS0162
        }
    }
}
