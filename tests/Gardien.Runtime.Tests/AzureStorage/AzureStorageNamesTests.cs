using Gardien.Runtime.AzureStorage;

namespace Gardien.Runtime.Tests.AzureStorage;

public sealed class AzureStorageNamesTests
{
    [Fact]
    public void For_ValidHub_DerivesEveryNameFromTheHub()
    {
        var names = AzureStorageNames.For("Tenant42", partitionCount: 3);

        Assert.Equal("Tenant42Instances", names.InstancesTable);
        Assert.Equal("Tenant42History", names.HistoryTable);
        Assert.Equal("tenant42-workitems", names.WorkItemQueue);
        Assert.Equal("tenant42-largemessages", names.LargeMessageContainer);
        Assert.Equal(["tenant42-control-00", "tenant42-control-01", "tenant42-control-02"], names.ControlQueues);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ab")]
    [InlineData("my-hub")]
    [InlineData("my_hub")]
    [InlineData("1hub")]
    [InlineData("TablesHub")]
    [InlineData("a234567890123456789012345678901234567890123456")]
    public void For_InvalidHub_ThrowsWithHowToFix(string hub)
    {
        var ex = Assert.Throws<ArgumentException>(() => AzureStorageNames.For(hub));

        Assert.Contains("task hub name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PartitionOf_SameInstance_IsStableAndInRange()
    {
        var names = AzureStorageNames.For("Hub", partitionCount: 4);

        var partitions = Enumerable.Range(0, 200).Select(i => names.PartitionOf("instance-" + i)).ToArray();

        Assert.All(partitions, p => Assert.InRange(p, 0, 3));
        Assert.Equal(4, partitions.Distinct().Count());
        Assert.Equal(names.PartitionOf("instance-7"), AzureStorageNames.For("Hub", 4).PartitionOf("instance-7"));
    }

    [Fact]
    public void Validate_NeitherConnectionStringNorUris_SaysWhatToSet()
    {
        var ex = Assert.Throws<ArgumentException>(() => new AzureStorageStoreOptions { TaskHubName = "Hub" }.Validate());

        Assert.Contains("ConnectionString", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ThresholdAboveQueueLimit_IsRejected()
    {
        var options = AzureStorageStoreOptions.ForConnectionString("UseDevelopmentStorage=true", "Hub") with
        {
            LargePayloadThresholdBytes = 60 * 1024,
        };

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("LargePayloadThresholdBytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForAccount_BuildsTheThreeServiceUris()
    {
        var options = AzureStorageStoreOptions.ForAccount("gardienprod", "Hub");

        options.Validate();
        Assert.Equal(new Uri("https://gardienprod.queue.core.windows.net"), options.QueueServiceUri);
    }
}
