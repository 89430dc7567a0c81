using System.Text.RegularExpressions;
using Gardien.Infra.Tests.Support;

namespace Gardien.Infra.Tests;

/// <summary>Least privilege: exactly the roles the app needs, each on the single resource that needs it.</summary>
[Collection(InfraCollection.Name)]
public sealed partial class RoleAssignmentTests(CompiledInfrastructure infra)
{
    private const string BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string QueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string StorageAccountContributor = "17d1049b-9a84-46fb-8f53-869881c3d3ab";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    private const string EventGridDataSender = "d5a91429-5739-47e2-a06b-3470a27159e7";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    private const string RoleBasedAccessControlAdministrator = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
    private const string BlobDataReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string QueueDataMessageProcessor = "8a0f0c08-91a1-4084-bc3d-661d67233fed";
    private const string QueueDataMessageSender = "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a";
    private const string App = "[parameters('principalId')]";
    private const string SystemTopic = "[parameters('systemTopicPrincipalId')]";
    private const string DmpTopic = "[parameters('dmpTopicPrincipalId')]";
    private const string BlobQueue =
        "[resourceId('Microsoft.Storage/storageAccounts/queueServices/queues', parameters('hostStorageAccountName'), 'default', "
        + "parameters('blobEventsQueueName'))]";
    private const string DmpQueue =
        "[resourceId('Microsoft.Storage/storageAccounts/queueServices/queues', parameters('hostStorageAccountName'), 'default', "
        + "parameters('dmpEventsQueueName'))]";
    private const string DeadLetters =
        "[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('hostStorageAccountName'), 'default', "
        + "parameters('deadLetterContainerName'))]";

    private IReadOnlyList<ArmResource> Assignments => infra.Main.OfType("Microsoft.Authorization/roleAssignments").ToList();

    private static string RoleOf(ArmResource assignment)
    {
        var definition = assignment.Raw("properties", "roleDefinitionId")!.GetValue<string>();
        Assert.StartsWith("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ", definition, StringComparison.Ordinal);
        var variable = RoleVariable().Match(definition);
        if (variable.Success)
        {
            definition = assignment.Scope.Template["variables"]![variable.Groups[1].Value]![variable.Groups[2].Value]!.GetValue<string>();
        }

        var match = RoleGuid().Match(definition);
        Assert.True(match.Success, $"{assignment} does not reference a built-in role ID");
        return match.Groups[1].Value;
    }

    private static string ScopeOf(ArmResource assignment) => assignment.Raw("scope")?.GetValue<string>() ?? "<resource group>";

    private static string PrincipalOf(ArmResource assignment) => assignment.Raw("properties", "principalId")!.GetValue<string>();

    [Fact]
    public void Assignments_AreExactlyTheLeastPrivilegeSet_EachScopedToOneResource()
    {
        var actual = Assignments.Select(a => $"{PrincipalOf(a)}: {RoleOf(a)} @ {ScopeOf(a)}").Order(StringComparer.Ordinal).ToList();

        string[] expected =
        [
            $"{App}: {BlobDataOwner} @ [resourceId('Microsoft.Storage/storageAccounts', parameters('hostStorageAccountName'))]",
            $"{App}: {QueueDataContributor} @ [resourceId('Microsoft.Storage/storageAccounts', parameters('hostStorageAccountName'))]",
            $"{App}: {TableDataContributor} @ [resourceId('Microsoft.Storage/storageAccounts', parameters('hostStorageAccountName'))]",
            $"{App}: {QueueDataMessageProcessor} @ {BlobQueue}",
            $"{App}: {QueueDataMessageProcessor} @ {DmpQueue}",
            $"{App}: {BlobDataOwner} @ [resourceId('Microsoft.Storage/storageAccounts', parameters('researchStorageAccountName'))]",
            $"{App}: {TableDataContributor} @ [resourceId('Microsoft.Storage/storageAccounts', parameters('researchStorageAccountName'))]",
            $"{App}: {StorageAccountContributor} @ [resourceId('Microsoft.Storage/storageAccounts', "
            + "parameters('researchStorageAccountName'))]",
            $"{App}: {RoleBasedAccessControlAdministrator} @ [resourceId('Microsoft.Storage/storageAccounts', "
            + "parameters('researchStorageAccountName'))]",
            $"{App}: {KeyVaultSecretsUser} @ [resourceId('Microsoft.KeyVault/vaults', parameters('keyVaultName'))]",
            $"{App}: {EventGridDataSender} @ [resourceId('Microsoft.EventGrid/topics', parameters('dmpTopicName'))]",
            $"{App}: {MonitoringMetricsPublisher} @ [resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]",

            // Each topic's own identity: send to its queue, write dead letters; nothing else.
            $"{SystemTopic}: {QueueDataMessageSender} @ {BlobQueue}",
            $"{SystemTopic}: {BlobDataContributor} @ {DeadLetters}",
            $"{DmpTopic}: {QueueDataMessageSender} @ {DmpQueue}",
            $"{DmpTopic}: {BlobDataContributor} @ {DeadLetters}",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual);
    }

    [Fact]
    public void RoleDelegation_OnTheResearchAccount_AllowsOnlyBlobDataReaderAndContributor()
    {
        var delegation = Assert.Single(Assignments, a => RoleOf(a) == RoleBasedAccessControlAdministrator);
        var condition = delegation.Value("properties", "condition")!.GetValue<string>();

        Assert.Equal("2.0", delegation.Value("properties", "conditionVersion")!.GetValue<string>());
        Assert.Null(delegation.Condition);
        Assert.Equal(
            [BlobDataReader, BlobDataContributor],
            RoleGuid().Matches(condition).Select(m => m.Groups[1].Value).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains("ActionMatches{'Microsoft.Authorization/roleAssignments/write'}", condition, StringComparison.Ordinal);
        Assert.Contains("ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}", condition, StringComparison.Ordinal);
        Assert.Contains(
            "@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals",
            condition,
            StringComparison.Ordinal);
        Assert.Contains(
            "@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals",
            condition,
            StringComparison.Ordinal);
        Assert.All(
            Assignments.Where(a => RoleOf(a) != RoleBasedAccessControlAdministrator), a => Assert.Null(a.Raw("properties", "condition")));
    }

    [Fact]
    public void StorageAccountContributor_IsConditionalOnTheManagementFlag()
    {
        var contributor = Assert.Single(Assignments, a => RoleOf(a) == StorageAccountContributor);

        Assert.Equal("[parameters('enableResearchDataManagement')]", contributor.Condition);
        Assert.All(Assignments.Where(a => RoleOf(a) != StorageAccountContributor), a => Assert.Null(a.Condition));
        Assert.True(
            ArmTemplate.Resolve(System.Text.Json.Nodes.JsonValue.Create("[parameters('enableResearchDataManagement')]"), contributor.Scope)!
                .GetValue<bool>());
    }

    [Fact]
    public void BlobDataOwner_OnResearchData_IsNeverGrantedOnTheResourceGroup()
    {
        Assert.All(Assignments, a => Assert.NotNull(a.Raw("scope")));
    }

    [Fact]
    public void Assignments_HaveDeterministicGuidNames_AndServicePrincipalType()
    {
        Assert.All(Assignments, a =>
        {
            Assert.StartsWith("[guid(", a.Name, StringComparison.Ordinal);
            Assert.Equal("ServicePrincipal", a.Value("properties", "principalType")!.GetValue<string>());
            Assert.Contains(PrincipalOf(a), new[] { App, SystemTopic, DmpTopic });
        });
    }

    [Fact]
    public void Templates_NeverGrantOwnerContributorOrUserAccessAdministrator()
    {
        string[] broad =
        [
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        ];
        var everything = infra.Main.Root.Template.ToJsonString();

        Assert.All(broad, role => Assert.DoesNotContain(role, everything, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void BothParameterFiles_EnableResearchDataManagement_SoTheStorageControlsWork()
    {
        Assert.True(infra.ProdParameters["enableResearchDataManagement"]!.GetValue<bool>());
        Assert.True(infra.DevParameters["enableResearchDataManagement"]!.GetValue<bool>());
    }

    [GeneratedRegex(@"variables\('(\w+)'\)\.(\w+)")]
    private static partial Regex RoleVariable();

    [GeneratedRegex(@"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")]
    private static partial Regex RoleGuid();
}
