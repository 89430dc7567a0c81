using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class EventGridTests(CompiledInfrastructure infra)
{
    private IReadOnlyList<ArmResource> Subscriptions =>
        infra.Subscriptions.Resources.Where(r => r.Type.EndsWith("/eventSubscriptions", StringComparison.Ordinal)).ToList();

    [Fact]
    public void SystemTopic_ListensToTheResearchDataAccount()
    {
        var topic = infra.Main.Single("Microsoft.EventGrid/systemTopics");

        Assert.Equal("Microsoft.Storage.StorageAccounts", topic.Value("properties", "topicType")!.GetValue<string>());
        var source = infra.Main.Module("eventgrid").Raw("properties", "parameters", "researchStorageAccountId", "value")!.GetValue<string>();
        Assert.Contains("'storage-research'", source, StringComparison.Ordinal);
    }

    [Fact]
    public void CustomTopic_AcceptsCloudEvents_WithEntraOnlyPublishing()
    {
        var topic = infra.Main.Single("Microsoft.EventGrid/topics");

        Assert.Equal("CloudEventSchemaV1_0", topic.Value("properties", "inputSchema")!.GetValue<string>());
        Assert.True(topic.Value("properties", "disableLocalAuth")!.GetValue<bool>());
        Assert.Equal("1.2", topic.Value("properties", "minimumTlsVersionAllowed")!.GetValue<string>());
    }

    [Fact]
    public void Stage1_CreatesNoSubscription_BecauseTheFunctionsDoNotExistYet()
    {
        Assert.DoesNotContain(infra.Main.Resources, r => r.Type.EndsWith("/eventSubscriptions", StringComparison.Ordinal));
    }

    [Fact]
    public void Stage2_SubscribesBlobCreatedAndDeleted_ToOnBlobEvent()
    {
        var blob = Assert.Single(Subscriptions, s => s.Type == "Microsoft.EventGrid/systemTopics/eventSubscriptions");

        Assert.Equal("AzureFunction", blob.Value("properties", "destination", "endpointType")!.GetValue<string>());
        Assert.Contains("/functions/{1}", blob.Raw("properties", "destination", "properties", "resourceId")!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("OnBlobEvent", ArmTemplate.Resolve(System.Text.Json.Nodes.JsonValue.Create("[parameters('blobEventFunctionName')]"), blob.Scope)!.GetValue<string>());
        var types = blob.Value("properties", "filter", "includedEventTypes")!.AsArray().Select(t => t!.GetValue<string>()).Order();
        Assert.Equal(["Microsoft.Storage.BlobCreated", "Microsoft.Storage.BlobDeleted"], types);
    }

    [Fact]
    public void Stage2_SubscribesDmpCloudEvents_ToOnDmpEvent()
    {
        var dmp = Assert.Single(Subscriptions, s => s.Type == "Microsoft.EventGrid/topics/eventSubscriptions");

        Assert.Equal("AzureFunction", dmp.Value("properties", "destination", "endpointType")!.GetValue<string>());
        Assert.Equal("CloudEventSchemaV1_0", dmp.Value("properties", "eventDeliverySchema")!.GetValue<string>());
        Assert.Equal("OnDmpEvent", ArmTemplate.Resolve(System.Text.Json.Nodes.JsonValue.Create("[parameters('dmpEventFunctionName')]"), dmp.Scope)!.GetValue<string>());
    }

    [Fact]
    public void Stage2_BothSubscriptions_RetryThenDeadLetterWithTheIdentity()
    {
        Assert.Equal(2, Subscriptions.Count);
        Assert.All(Subscriptions, subscription =>
        {
            var retry = subscription.Value("properties", "retryPolicy")!;
            Assert.InRange(ArmTemplate.Resolve(retry["maxDeliveryAttempts"], subscription.Scope)!.GetValue<int>(), 1, 30);
            Assert.InRange(ArmTemplate.Resolve(retry["eventTimeToLiveInMinutes"], subscription.Scope)!.GetValue<int>(), 1, 1440);

            var deadLetter = subscription.Value("properties", "deadLetterWithResourceIdentity")!;
            Assert.Equal("UserAssigned", deadLetter["identity"]!["type"]!.GetValue<string>());
            Assert.Equal("StorageBlob", deadLetter["deadLetterDestination"]!["endpointType"]!.GetValue<string>());
            Assert.Equal("[parameters('deadLetterContainerName')]", deadLetter["deadLetterDestination"]!["properties"]!["blobContainerName"]!.GetValue<string>());
        });
    }

    [Fact]
    public void Topics_CarryTheIdentityThatWritesDeadLetters()
    {
        Assert.All(
            infra.Main.Resources.Where(r => r.Type is "Microsoft.EventGrid/topics" or "Microsoft.EventGrid/systemTopics"),
            topic => Assert.Equal("UserAssigned", topic.Value("identity", "type")!.GetValue<string>()));
    }
}
