metadata name = 'Gardien Event Grid topics'
metadata description = '''
A system topic on the research-data account (blob events) and a custom CloudEvents 1.0 topic for DMP changes, each
with its own system-assigned identity, which delivers events to the host storage queues and writes dead letters.
'''

@description('Required. Name of the system topic on the research-data storage account.')
param systemTopicName string

@description('Required. Name of the custom topic receiving DMP tool events.')
param dmpTopicName string

@description('Optional. Azure region of the topics (the system topic must share the storage account\'s region).')
param location string = resourceGroup().location

@description('Optional. Tags applied to the topics.')
param tags object = {}

@description('Required. Resource ID of the research-data storage account the system topic listens to.')
param researchStorageAccountId string

@description('Optional. Whether the custom topic accepts keys/SAS. Off: publishers (the DMP poller) use Entra ID, EventGrid Data Sender.')
param dmpTopicDisableLocalAuth bool = true

@description('Required. Resource ID of the Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: researchStorageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource dmpTopic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: dmpTopicName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: dmpTopicDisableLocalAuth
    minimumTlsVersionAllowed: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

#disable-next-line use-recent-api-versions // newest version with categoryGroup; the only GA one (2016-09-01) predates it
resource systemTopicDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: systemTopic
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

#disable-next-line use-recent-api-versions // newest version with categoryGroup; the only GA one (2016-09-01) predates it
resource dmpTopicDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: dmpTopic
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('The resource ID of the system topic.')
output systemTopicResourceId string = systemTopic.id

@description('The name of the system topic.')
output systemTopicName string = systemTopic.name

@description('The resource ID of the custom DMP topic.')
output dmpTopicResourceId string = dmpTopic.id

@description('The name of the custom DMP topic.')
output dmpTopicName string = dmpTopic.name

@description('The publishing endpoint of the custom DMP topic.')
output dmpTopicEndpoint string = dmpTopic.properties.endpoint

@description('The principal ID of the system topic\'s identity (delivers blob events, writes their dead letters).')
output systemTopicPrincipalId string = systemTopic.identity.principalId

@description('The principal ID of the DMP topic\'s identity (delivers DMP events, writes their dead letters).')
output dmpTopicPrincipalId string = dmpTopic.identity.principalId
