using System.Text.Json.Nodes;
using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

[Collection(InfraCollection.Name)]
public sealed class EventGridTests(CompiledInfrastructure infra)
{
    private IReadOnlyList<ArmResource> Subscriptions =>
        infra.Main.Resources.Where(r => r.Type.EndsWith("/eventSubscriptions", StringComparison.Ordinal)).ToList();

    private static string Resolved(ArmResource resource, string expression) =>
        ArmTemplate.Resolve(JsonValue.Create(expression), resource.Scope)!.GetValue<string>();

    [Fact]
    public void SystemTopic_ListensToTheResearchDataAccount()
    {
        var topic = infra.Main.Single("Microsoft.EventGrid/systemTopics");

        Assert.Equal("Microsoft.Storage.StorageAccounts", topic.Value("properties", "topicType")!.GetValue<string>());
        var source = infra.Main.Module("eventgrid").Raw("properties", "parameters", "researchStorageAccountId", "value")!
            .GetValue<string>();
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
    public void OneStage_TheSubscriptionsArePartOfMain_AndNoneTargetsAFunction()
    {
        Assert.Equal(2, Subscriptions.Count);
        Assert.DoesNotContain("AzureFunction", infra.Main.Root.Template.ToJsonString(), StringComparison.Ordinal);
        Assert.All(Subscriptions, s => Assert.Null(s.Raw("properties", "destination")));
    }

    [Fact]
    public void BlobCreatedAndDeleted_AreDeliveredToTheBlobEventsQueue_InTheEventGridSchema()
    {
        var blob = Assert.Single(Subscriptions, s => s.Type == "Microsoft.EventGrid/systemTopics/eventSubscriptions");
        var destination = blob.Value("properties", "deliveryWithResourceIdentity", "destination")!;

        Assert.Equal("EventGridSchema", blob.Value("properties", "eventDeliverySchema")!.GetValue<string>());
        Assert.Equal("StorageQueue", destination["endpointType"]!.GetValue<string>());
        Assert.Equal("gardien-blob-events", Resolved(blob, destination["properties"]!["queueName"]!.GetValue<string>()));
        var types = blob.Value("properties", "filter", "includedEventTypes")!.AsArray().Select(t => t!.GetValue<string>()).Order();
        Assert.Equal(["Microsoft.Storage.BlobCreated", "Microsoft.Storage.BlobDeleted"], types);
    }

    [Fact]
    public void DmpChanges_AreDeliveredToTheDmpEventsQueue_AsCloudEventsOfThePollersTypes()
    {
        var dmp = Assert.Single(Subscriptions, s => s.Type == "Microsoft.EventGrid/topics/eventSubscriptions");
        var destination = dmp.Value("properties", "deliveryWithResourceIdentity", "destination")!;

        Assert.Equal("CloudEventSchemaV1_0", dmp.Value("properties", "eventDeliverySchema")!.GetValue<string>());
        Assert.Equal("StorageQueue", destination["endpointType"]!.GetValue<string>());
        Assert.Equal("gardien-dmp-events", Resolved(dmp, destination["properties"]!["queueName"]!.GetValue<string>()));
        var types = dmp.Value("properties", "filter", "includedEventTypes")!.AsArray().Select(t => t!.GetValue<string>()).Order();
        Assert.Equal(["Gardien.Dmp.Submitted", "Gardien.Dmp.Updated"], types);
    }

    [Fact]
    public void BothSubscriptions_DeliverAndDeadLetterWithTheTopicsOwnIdentity_ToTheHostAccount()
    {
        Assert.All(Subscriptions, subscription =>
        {
            var retry = subscription.Value("properties", "retryPolicy")!;
            Assert.InRange(ArmTemplate.Resolve(retry["maxDeliveryAttempts"], subscription.Scope)!.GetValue<int>(), 1, 30);
            Assert.InRange(ArmTemplate.Resolve(retry["eventTimeToLiveInMinutes"], subscription.Scope)!.GetValue<int>(), 1, 1440);

            var delivery = subscription.Value("properties", "deliveryWithResourceIdentity")!;
            Assert.Equal("SystemAssigned", delivery["identity"]!["type"]!.GetValue<string>());
            Assert.Contains(
                "parameters('hostStorageAccountName')",
                delivery["destination"]!["properties"]!["resourceId"]!.GetValue<string>(),
                StringComparison.Ordinal);

            var deadLetter = subscription.Value("properties", "deadLetterWithResourceIdentity")!;
            Assert.Equal("SystemAssigned", deadLetter["identity"]!["type"]!.GetValue<string>());
            Assert.Equal("StorageBlob", deadLetter["deadLetterDestination"]!["endpointType"]!.GetValue<string>());
            Assert.Equal(
                "eventgrid-deadletter",
                Resolved(subscription, deadLetter["deadLetterDestination"]!["properties"]!["blobContainerName"]!.GetValue<string>()));
        });
    }

    [Fact]
    public void Topics_HaveTheirOwnSystemAssignedIdentity()
    {
        Assert.All(
            infra.Main.Resources.Where(r => r.Type is "Microsoft.EventGrid/topics" or "Microsoft.EventGrid/systemTopics"),
            topic => Assert.Equal("SystemAssigned", topic.Value("identity", "type")!.GetValue<string>()));
    }

    [Fact]
    public void HostAccount_HasTheEventQueues_AndTheirPoisonQueues()
    {
        var queues = infra.Main.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").Single();
        var names = queues.Scope.Provided["eventQueueNames"]!.AsArray()
            .Select(n => ArmTemplate.Resolve(n, queues.Scope.Parent!)!.GetValue<string>()).ToList();

        // The queue triggers read these names (Gardien.Functions.Events.EventQueueFunctions); each queue gets its -poison queue.
        Assert.Equal(["gardien-blob-events", "gardien-dmp-events"], names);
        Assert.Contains("-poison", queues.Json.ToJsonString(), StringComparison.Ordinal);
    }
}
