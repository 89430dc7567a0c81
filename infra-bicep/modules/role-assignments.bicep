metadata name = 'Gardien role assignments'
metadata description = 'Least-privilege Azure RBAC for the app identity, each assignment scoped to the single resource it needs. Graph application permissions are not Azure RBAC: see docs/ops.md.'

@description('Required. Principal (object) ID of the user-assigned identity.')
param principalId string

@description('Required. Resource ID of the user-assigned identity; known before deployment, so assignment names stay predictable for what-if.')
param identityResourceId string

@description('Required. Name of the host storage account (task hub, deployment package, dead letters).')
param hostStorageAccountName string

@description('Required. Queue of the host account the app reads research-data blob events from.')
param blobEventsQueueName string

@description('Required. Queue of the host account the app reads DMP-change events from.')
param dmpEventsQueueName string

@description('Required. Name of the research-data storage account.')
param researchStorageAccountName string

@description('Required. Name of the Key Vault.')
param keyVaultName string

@description('Required. Name of the custom DMP Event Grid topic the app publishes to.')
param dmpTopicName string

@description('Required. Name of the Application Insights component the app sends telemetry to.')
param applicationInsightsName string

@description('Optional. Grant Storage Account Contributor on the research-data account, needed only when the app manages lifecycle rules, immutability policies or encryption scopes itself.')
param enableResearchDataManagement bool = false

// Built-in role definition IDs (identical in every Azure cloud).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageQueueDataMessageProcessor: '8a0f0c08-91a1-4084-bc3d-661d67233fed'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageAccountContributor: '17d1049b-9a84-46fb-8f53-869881c3d3ab'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  roleBasedAccessControlAdministrator: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168'
}

// The app may create and delete role assignments on the research account (and its containers) only for these two
// roles: dataset groups get read or read-write access to their own container, never ownership or any other role.
// (Role ids are written out: a condition is a literal, and Storage Blob Data Reader / Contributor are the GUIDs below.)
var delegationCondition = '''
(
  (!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'}))
  OR
  (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {2a2b9908-6ea1-4ae2-8e65-a410df84e7d1, ba92f5b4-2d11-453d-a403-e96b0029c9fe})
)
AND
(
  (!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}))
  OR
  (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {2a2b9908-6ea1-4ae2-8e65-a410df84e7d1, ba92f5b4-2d11-453d-a403-e96b0029c9fe})
)
'''

resource hostStorage 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: hostStorageAccountName
}

resource hostQueueService 'Microsoft.Storage/storageAccounts/queueServices@2026-06-01' existing = {
  parent: hostStorage
  name: 'default'
}

resource blobEventsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-06-01' existing = {
  parent: hostQueueService
  name: blobEventsQueueName
}

resource dmpEventsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-06-01' existing = {
  parent: hostQueueService
  name: dmpEventsQueueName
}

resource researchStorage 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: researchStorageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' existing = {
  name: keyVaultName
}

resource dmpTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: dmpTopicName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Host storage: Durable Functions task hub (blobs, queues, tables) and the Flex deployment package.
resource hostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, identityResourceId, roles.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

resource hostQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, identityResourceId, roles.storageQueueDataContributor)
  scope: hostStorage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
  }
}

resource hostTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, identityResourceId, roles.storageTableDataContributor)
  scope: hostStorage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
  }
}

// Event Grid deliveries: the queue triggers peek, read and delete the messages the topics put on these queues. (The
// account-wide Queue Data Contributor above also covers them; this grant states the triggers' need on its own, so it
// survives a narrower task-hub grant.)
resource blobEventsProcessor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(blobEventsQueue.id, identityResourceId, roles.storageQueueDataMessageProcessor)
  scope: blobEventsQueue
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageProcessor)
  }
}

resource dmpEventsProcessor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dmpEventsQueue.id, identityResourceId, roles.storageQueueDataMessageProcessor)
  scope: dmpEventsQueue
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageProcessor)
  }
}

// Research data: provisioning containers, blob index tags and the audit trail need Blob Data Owner (ACL-free owner
// semantics); the governance state the app keeps in the same account's tables needs Table Data Contributor.
resource researchBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(researchStorage.id, identityResourceId, roles.storageBlobDataOwner)
  scope: researchStorage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

resource researchTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(researchStorage.id, identityResourceId, roles.storageTableDataContributor)
  scope: researchStorage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
  }
}

resource researchAccountContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableResearchDataManagement) {
  name: guid(researchStorage.id, identityResourceId, roles.storageAccountContributor)
  scope: researchStorage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageAccountContributor)
  }
}

// Dataset access: the app assigns Storage Blob Data Reader / Contributor to the dataset groups on their containers
// (Gardien.Azure.Arm.ContainerRoleAssignments). The condition limits the delegation to exactly those two roles.
resource researchRoleDelegation 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(researchStorage.id, identityResourceId, roles.roleBasedAccessControlAdministrator)
  scope: researchStorage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.roleBasedAccessControlAdministrator)
    description: 'Gardien: assign and remove Storage Blob Data Reader / Contributor on research containers only'
    conditionVersion: '2.0'
    condition: delegationCondition
  }
}

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityResourceId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

resource dmpTopicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dmpTopic.id, identityResourceId, roles.eventGridDataSender)
  scope: dmpTopic
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identityResourceId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

@description('Resource IDs of the role assignments created.')
output roleAssignmentIds array = concat(
  [
    hostBlobOwner.id
    hostQueueContributor.id
    hostTableContributor.id
    blobEventsProcessor.id
    dmpEventsProcessor.id
    researchBlobOwner.id
    researchTableContributor.id
    researchRoleDelegation.id
    vaultSecretsUser.id
    dmpTopicSender.id
    metricsPublisher.id
  ],
  enableResearchDataManagement ? [researchAccountContributor.id] : []
)
