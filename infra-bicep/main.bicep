metadata name = 'Gardien'
metadata description = '''
The whole Gardien deployment in one stage (resource-group scope): identity, monitoring, host and research-data
storage, Key Vault, Event Grid topics and their queue subscriptions, role assignments, optional private networking
and the Flex Consumption Function App with App Service Authentication on the approval route.
'''

targetScope = 'resourceGroup'

@description('Required. Short environment name (dev, test, prod); part of every resource name.')
@minLength(2)
@maxLength(8)
param environmentName string

@description('Optional. Azure region of every resource.')
param location string = resourceGroup().location

@description('Optional. Tags applied to every resource.')
param tags object = {}

@description('Optional. Suffix that makes global names unique; stable per subscription, resource group and environment.')
@minLength(5)
@maxLength(13)
param resourceToken string = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))

@description('Optional. Name of the user-assigned managed identity.')
param identityName string = 'id-gardien-${environmentName}-${resourceToken}'

@description('Optional. Name of the Log Analytics workspace.')
param logAnalyticsName string = 'log-gardien-${environmentName}-${resourceToken}'

@description('Optional. Name of the Application Insights component.')
param applicationInsightsName string = 'appi-gardien-${environmentName}-${resourceToken}'

@description('Optional. Name of the host storage account (task hub, deployment package, dead letters).')
@maxLength(24)
param hostStorageAccountName string = 'sthost${resourceToken}'

@description('Optional. Name of the research-data storage account.')
@maxLength(24)
param researchStorageAccountName string = 'stdata${resourceToken}'

@description('Optional. Name of the Key Vault.')
@maxLength(24)
param keyVaultName string = 'kv-gardien-${resourceToken}'

@description('Optional. Name of the Flex Consumption plan.')
param planName string = 'plan-gardien-${environmentName}-${resourceToken}'

@description('Optional. Name of the Function App.')
param functionAppName string = 'func-gardien-${environmentName}-${resourceToken}'

@description('Optional. Name of the Event Grid system topic on the research-data account.')
param systemTopicName string = 'evgst-gardien-${environmentName}-${resourceToken}'

@description('Optional. Name of the custom Event Grid topic for DMP tool events.')
param dmpTopicName string = 'evgt-gardien-dmp-${environmentName}-${resourceToken}'

@description('Optional. Name of the virtual network (used only with private networking).')
param virtualNetworkName string = 'vnet-gardien-${environmentName}-${resourceToken}'

@description('Optional. Deploy a virtual network, integrate the Function App with it and reach storage and Key Vault through private endpoints.')
param enablePrivateNetworking bool = false

@description('Optional. Public network access of the Key Vault. Disabled requires private networking (or another private path) for the app to read secrets.')
@allowed([
  'Enabled'
  'Disabled'
])
param keyVaultPublicNetworkAccess string = 'Enabled'

@description('Optional. SKU of the host storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GZRS'
])
param hostStorageSkuName string = 'Standard_LRS'

@description('Optional. SKU of the research-data storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param researchStorageSkuName string = 'Standard_ZRS'

@description('Optional. Days each blob in the audit container stays immutable (write once, read many).')
@minValue(1)
@maxValue(146000)
param auditRetentionDays int = 3650

@description('Optional. Soft-delete retention in days for research-data blobs, versions and containers.')
@minValue(7)
@maxValue(365)
param researchSoftDeleteRetentionDays int = 30

@description('Optional. Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 90

@description('Optional. Maximum number of Function App instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Memory per Function App instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Always-ready instances for the durable trigger group.')
@minValue(0)
@maxValue(10)
param durableAlwaysReadyInstanceCount int = 1

@description('Required. Client ID of the Entra ID app registration protecting the HTTP API (App Service authentication).')
@minLength(36)
@maxLength(36)
param apiAuthClientId string

@description('''
Optional. Grant the app Storage Account Contributor on the research-data account to set and read back lifecycle
rules, immutability policies, legal holds and encryption scopes. Off: those controls fail and provisioning stops.
''')
param enableResearchDataManagement bool = true

@description('Optional. Durable Functions task hub name (letters and digits).')
param taskHubName string = 'gardien${environmentName}'

@description('Optional. Path of the institution governance policy, relative to the deployed package.')
param policyPath string = 'policy.json'

@description('''
Optional. Key id signing new approval links: the app reads the Key Vault secret approval-signing-key-<id>
(created by scripts/deploy.sh, rotated in place, see docs/ops.md).
''')
@minLength(1)
@maxLength(20)
param approvalSigningKeyId string = 'k1'

@description('Required. Mailbox (UPN or object ID) the app mails from when Teams delivery fails; needs the Mail.Send permission.')
@minLength(3)
param notificationMailSender string

@description('Optional. ID of the Gardien Teams app manifest (functions/Gardien.Functions/teams-app); empty: no activity feed.')
param teamsAppId string = ''

@description('Optional. Key Vault secret holding the URL of the Teams Workflows webhook that posts Adaptive Cards; empty: no cards.')
param teamsWebhookSecretName string = ''

@description('Optional. Directory extension attribute holding ORCID iDs (extension_<app id>_<name>); empty: e-mail only.')
param graphOrcidAttribute string = ''

@description('Optional. NCRONTAB schedule (six fields, seconds first) of the DMP-tool poller.')
param dmpPollingSchedule string = '0 */15 * * * *'

@description('''
Optional. The DMP tools the poller reads, as app settings DmpTools__Tools__<name>__<key> (Kind, BaseUrl, GrantType,
ClientIdSecretName, ClientSecretName, TokenUrl, PlanIds__0...): names of Key Vault secrets, never credentials.
''')
param dmpToolSettings object = {}

var deploymentContainerName = 'app-package'
var deadLetterContainerName = 'eventgrid-deadletter'
// The queue triggers of the app (Gardien.Functions.Events.EventQueueFunctions) read these names.
var blobEventsQueueName = 'gardien-blob-events'
var dmpEventsQueueName = 'gardien-dmp-events'
var allTags = union(tags, {
  'azd-env-name': environmentName
  application: 'gardien'
})

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: identityName
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: logAnalyticsName
    applicationInsightsName: applicationInsightsName
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
  }
}

module hostStorage 'modules/storage-host.bicep' = {
  name: 'storage-host'
  params: {
    name: hostStorageAccountName
    location: location
    tags: allTags
    skuName: hostStorageSkuName
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    eventQueueNames: [
      blobEventsQueueName
      dmpEventsQueueName
    ]
    enablePrivateNetworking: enablePrivateNetworking
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module researchStorage 'modules/storage-research.bicep' = {
  name: 'storage-research'
  params: {
    name: researchStorageAccountName
    location: location
    tags: allTags
    skuName: researchStorageSkuName
    auditRetentionDays: auditRetentionDays
    softDeleteRetentionDays: researchSoftDeleteRetentionDays
    enablePrivateNetworking: enablePrivateNetworking
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: keyVaultName
    location: location
    tags: allTags
    publicNetworkAccess: keyVaultPublicNetworkAccess
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  params: {
    systemTopicName: systemTopicName
    dmpTopicName: dmpTopicName
    location: location
    tags: allTags
    researchStorageAccountId: researchStorage.outputs.resourceId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module roleAssignments 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  params: {
    principalId: identity.outputs.principalId
    identityResourceId: resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', identityName)
    hostStorageAccountName: hostStorageAccountName
    blobEventsQueueName: blobEventsQueueName
    dmpEventsQueueName: dmpEventsQueueName
    researchStorageAccountName: researchStorageAccountName
    keyVaultName: keyVaultName
    dmpTopicName: dmpTopicName
    applicationInsightsName: applicationInsightsName
    enableResearchDataManagement: enableResearchDataManagement
  }
  // Names are passed as parameters (not module outputs) so what-if can predict the assignments; order is explicit.
  dependsOn: [
    hostStorage
    researchStorage
    keyVault
    eventGrid
    monitoring
  ]
}

// Event Grid delivers to queues of the host account: nothing waits for the function code to be published.
module eventGridSubscriptions 'modules/eventgrid-subscriptions.bicep' = {
  name: 'eventgrid-subscriptions'
  params: {
    systemTopicName: systemTopicName
    dmpTopicName: dmpTopicName
    systemTopicPrincipalId: eventGrid.outputs.systemTopicPrincipalId
    dmpTopicPrincipalId: eventGrid.outputs.dmpTopicPrincipalId
    hostStorageAccountName: hostStorageAccountName
    blobEventsQueueName: blobEventsQueueName
    dmpEventsQueueName: dmpEventsQueueName
    deadLetterContainerName: deadLetterContainerName
  }
  // Names are passed as parameters (not module outputs) so what-if can predict the subscriptions; the queues and the
  // dead-letter container must exist first.
  dependsOn: [
    hostStorage
  ]
}

module network 'modules/network.bicep' = if (enablePrivateNetworking) {
  name: 'network'
  params: {
    name: virtualNetworkName
    location: location
    tags: allTags
    hostStorageAccountId: hostStorage.outputs.resourceId
    researchStorageAccountId: researchStorage.outputs.resourceId
    keyVaultId: keyVault.outputs.resourceId
  }
}

// Every setting the app reads; infra-bicep/app-settings.contract.json lists them and the tests hold the two in sync.
var appSettings = {
  AzureWebJobsStorage__blobServiceUri: hostStorage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: hostStorage.outputs.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: hostStorage.outputs.tableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  ResearchData__blobServiceUri: researchStorage.outputs.blobEndpoint
  ResearchData__tableServiceUri: researchStorage.outputs.tableEndpoint
  ResearchData__credential: 'managedidentity'
  ResearchData__clientId: identity.outputs.clientId
  ResearchData__resourceId: researchStorage.outputs.resourceId
  ResearchData__auditContainerName: researchStorage.outputs.auditContainerName
  KeyVault__VaultUri: keyVault.outputs.uri
  KeyVault__SigningKeyId: approvalSigningKeyId
  EventGrid__DmpTopicEndpoint: eventGrid.outputs.dmpTopicEndpoint
  DmpPolling__Schedule: dmpPollingSchedule
  Graph__GroupOwnerId: identity.outputs.principalId
  Graph__OrcidAttribute: graphOrcidAttribute
  Notifications__MailSender: notificationMailSender
  Notifications__ActivityFeed: empty(teamsAppId) ? 'false' : 'true'
  Notifications__TeamsAppId: teamsAppId
  Notifications__WebhookSecretName: teamsWebhookSecretName
  AzureIdentity__Credential: 'ManagedIdentity'
  Gardien__TaskHub: taskHubName
  Gardien__PolicyPath: policyPath
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identity.outputs.clientId}'
  AZURE_CLIENT_ID: identity.outputs.clientId
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: functionAppName
    planName: planName
    location: location
    tags: union(allTags, {
      'azd-service-name': 'api'
    })
    identityResourceId: identity.outputs.resourceId
    hostStorageBlobEndpoint: hostStorage.outputs.blobEndpoint
    deploymentContainerName: hostStorage.outputs.deploymentContainerName
    appSettings: appSettings
    dmpToolSettings: dmpToolSettings
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    durableAlwaysReadyInstanceCount: durableAlwaysReadyInstanceCount
    virtualNetworkSubnetId: enablePrivateNetworking ? network!.outputs.functionsSubnetId : ''
    apiAuthClientId: apiAuthClientId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
  // The app pulls its package and starts the task hub with the identity: the grants must exist first.
  dependsOn: [
    roleAssignments
  ]
}

@description('Azure region of the deployment.')
output AZURE_LOCATION string = location

@description('Name of the Function App (publish target).')
output FUNCTION_APP_NAME string = functionApp.outputs.name

@description('HTTPS endpoint of the Function App.')
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'

@description('Resource ID of the user-assigned identity.')
output IDENTITY_RESOURCE_ID string = identity.outputs.resourceId

@description('Client ID of the user-assigned identity (AZURE_CLIENT_ID of the app).')
output IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('Object ID of the identity\'s service principal: the target of the Graph app-role assignments in docs/ops.md.')
output IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId

@description('Name of the Key Vault.')
output KEY_VAULT_NAME string = keyVault.outputs.name

@description('URI of the Key Vault.')
output KEY_VAULT_URI string = keyVault.outputs.uri

@description('Name of the Key Vault secret holding the approval-link signing key (approval-signing-key-<KeyVault__SigningKeyId>).')
output APPROVAL_LINK_KEY_SECRET_NAME string = 'approval-signing-key-${approvalSigningKeyId}'

@description('Name of the host storage account.')
output HOST_STORAGE_ACCOUNT_NAME string = hostStorage.outputs.name

@description('Resource ID of the host storage account (task hub, event queues, dead letters).')
output HOST_STORAGE_ACCOUNT_ID string = hostStorage.outputs.resourceId

@description('Name of the research-data storage account.')
output RESEARCH_STORAGE_ACCOUNT_NAME string = researchStorage.outputs.name

@description('Blob endpoint of the research-data storage account.')
output RESEARCH_BLOB_ENDPOINT string = researchStorage.outputs.blobEndpoint

@description('Name of the Event Grid dead-letter container.')
output DEAD_LETTER_CONTAINER_NAME string = deadLetterContainerName

@description('Name of the Event Grid system topic on the research-data account.')
output EVENT_GRID_SYSTEM_TOPIC_NAME string = eventGrid.outputs.systemTopicName

@description('Name of the custom Event Grid topic for DMP tool events.')
output EVENT_GRID_DMP_TOPIC_NAME string = eventGrid.outputs.dmpTopicName

@description('Publishing endpoint of the custom DMP topic.')
output EVENT_GRID_DMP_TOPIC_ENDPOINT string = eventGrid.outputs.dmpTopicEndpoint

@description('Name of the Application Insights component.')
output APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
