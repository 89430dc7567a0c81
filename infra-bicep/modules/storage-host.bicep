metadata name = 'Gardien host storage'
metadata description = '''
Storage for the Functions host: Durable Functions task hub (queues, tables, blobs), the Flex Consumption deployment
package, the queues Event Grid delivers events to (and their poison queues) and the Event Grid dead-letter container.
Shared keys are disabled; every client uses Entra ID.
'''

@description('Required. Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Azure region of the storage account.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the storage account.')
param tags object = {}

@description('Optional. Storage SKU.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_LRS'

@description('Required. Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Required. Blob container Event Grid writes undeliverable events to.')
param deadLetterContainerName string

@description('Required. Queues Event Grid delivers events to; each gets its -poison queue, where the app moves messages it cannot handle.')
param eventQueueNames array

@description('Optional. Deny public network traffic except trusted Azure services; clients reach the account through private endpoints.')
param enablePrivateNetworking bool = false

@description('Optional. Blob and container soft-delete retention in days.')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 7

@description('Required. Resource ID of the Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

resource account 'Microsoft.Storage/storageAccounts@2026-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: enablePrivateNetworking ? 'Deny' : 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2026-06-01' existing = {
  parent: account
  name: 'default'
}

// Created here, not left to the Functions host: Event Grid cannot deliver to a queue that does not exist yet, and the
// role assignments are scoped to each queue.
resource eventQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-06-01' = [
  for queueName in flatten(map(eventQueueNames, queue => [queue, '${queue}-poison'])): {
    parent: queueService
    name: queueName
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2026-06-01' existing = {
  parent: account
  name: 'default'
}

#disable-next-line use-recent-api-versions // newest version with categoryGroup; the only GA one (2016-09-01) predates it
resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

#disable-next-line use-recent-api-versions // newest version with categoryGroup; the only GA one (2016-09-01) predates it
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

#disable-next-line use-recent-api-versions // newest version with categoryGroup; the only GA one (2016-09-01) predates it
resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

#disable-next-line use-recent-api-versions // newest version with categoryGroup; the only GA one (2016-09-01) predates it
resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

@description('The resource ID of the storage account.')
output resourceId string = account.id

@description('The name of the storage account.')
output name string = account.name

@description('The blob service endpoint.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('The queue service endpoint.')
output queueEndpoint string = account.properties.primaryEndpoints.queue

@description('The table service endpoint.')
output tableEndpoint string = account.properties.primaryEndpoints.table

@description('The name of the deployment package container.')
output deploymentContainerName string = deploymentContainer.name

@description('The name of the Event Grid dead-letter container.')
output deadLetterContainerName string = deadLetterContainer.name
