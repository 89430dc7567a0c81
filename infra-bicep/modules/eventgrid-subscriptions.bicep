metadata name = 'Gardien Event Grid subscriptions'
metadata description = 'Second-stage subscriptions: research-data blob events to OnBlobEvent and DMP tool CloudEvents to OnDmpEvent, each with a retry policy and identity-based dead-lettering. Deploy only after the function code is published: Event Grid validates an AzureFunction endpoint when the subscription is created.'

@description('Required. Name of the existing system topic on the research-data account.')
param systemTopicName string

@description('Required. Name of the existing custom DMP topic.')
param dmpTopicName string

@description('Required. Name of the existing Function App hosting OnBlobEvent and OnDmpEvent.')
param functionAppName string

@description('Required. Resource ID of the user-assigned identity (assigned to both topics) that writes dead-lettered events.')
param identityResourceId string

@description('Required. Resource ID of the storage account holding the dead-letter container.')
param deadLetterStorageAccountId string

@description('Required. Name of the dead-letter blob container.')
param deadLetterContainerName string

@description('Optional. Name of the function receiving research-data blob events.')
param blobEventFunctionName string = 'OnBlobEvent'

@description('Optional. Name of the function receiving DMP tool CloudEvents.')
param dmpEventFunctionName string = 'OnDmpEvent'

@description('Optional. Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Optional. Minutes Event Grid keeps retrying an event before dead-lettering it.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource dmpTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: dmpTopicName
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

var retryPolicy = {
  maxDeliveryAttempts: maxDeliveryAttempts
  eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
}

var deadLetterWithIdentity = {
  identity: {
    type: 'UserAssigned'
    userAssignedIdentity: identityResourceId
  }
  deadLetterDestination: {
    endpointType: 'StorageBlob'
    properties: {
      resourceId: deadLetterStorageAccountId
      blobContainerName: deadLetterContainerName
    }
  }
}

resource blobEvents 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'research-blobs-to-${toLower(blobEventFunctionName)}'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/${blobEventFunctionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
        'Microsoft.Storage.BlobDeleted'
      ]
      enableAdvancedFilteringOnArrays: true
    }
    retryPolicy: retryPolicy
    deadLetterWithResourceIdentity: deadLetterWithIdentity
  }
}

resource dmpEvents 'Microsoft.EventGrid/topics/eventSubscriptions@2025-02-15' = {
  parent: dmpTopic
  name: 'dmp-events-to-${toLower(dmpEventFunctionName)}'
  properties: {
    eventDeliverySchema: 'CloudEventSchemaV1_0'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/${dmpEventFunctionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    retryPolicy: retryPolicy
    deadLetterWithResourceIdentity: deadLetterWithIdentity
  }
}

@description('The resource ID of the blob-event subscription.')
output blobEventSubscriptionId string = blobEvents.id

@description('The resource ID of the DMP-event subscription.')
output dmpEventSubscriptionId string = dmpEvents.id
