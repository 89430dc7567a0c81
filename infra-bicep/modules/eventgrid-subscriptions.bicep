metadata name = 'Gardien Event Grid subscriptions'
metadata description = '''
Research-data blob events and DMP-change CloudEvents delivered to storage queues of the host account, each topic with
its own system-assigned identity (delivery with resource identity), which may only send to its queue and write dead
letters. The Functions app reads the queues with queue triggers, so no subscription depends on published code.
'''

@description('Required. Name of the existing system topic on the research-data account.')
param systemTopicName string

@description('Required. Name of the existing custom DMP topic.')
param dmpTopicName string

@description('Required. Principal ID of the system topic\'s system-assigned identity.')
param systemTopicPrincipalId string

@description('Required. Principal ID of the DMP topic\'s system-assigned identity.')
param dmpTopicPrincipalId string

@description('Required. Name of the host storage account holding the event queues and the dead-letter container.')
param hostStorageAccountName string

@description('Required. Queue receiving research-data blob events (read by OnBlobEvent).')
param blobEventsQueueName string

@description('Required. Queue receiving DMP-change CloudEvents (read by OnDmpEvent).')
param dmpEventsQueueName string

@description('Required. Blob container Event Grid writes undeliverable events to.')
param deadLetterContainerName string

@description('Optional. Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Optional. Minutes Event Grid keeps retrying an event before dead-lettering it.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

@description('Optional. Seconds a delivered message stays in its queue before it expires unread (7 days by default).')
@minValue(60)
@maxValue(604800)
param queueMessageTimeToLiveInSeconds int = 604800

// Built-in role definition IDs (identical in every Azure cloud).
var roles = {
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource dmpTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: dmpTopicName
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: hostStorageAccountName
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2026-06-01' existing = {
  parent: hostStorage
  name: 'default'
}

resource blobEventsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-06-01' existing = {
  parent: queueService
  name: blobEventsQueueName
}

resource dmpEventsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-06-01' existing = {
  parent: queueService
  name: dmpEventsQueueName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' existing = {
  parent: hostStorage
  name: 'default'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' existing = {
  parent: blobService
  name: deadLetterContainerName
}

// Each topic may put messages on its own queue only (not read, not delete, not the other queue)...
resource systemTopicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(blobEventsQueue.id, systemTopic.id, roles.storageQueueDataMessageSender)
  scope: blobEventsQueue
  properties: {
    principalId: systemTopicPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
  }
}

resource dmpTopicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dmpEventsQueue.id, dmpTopic.id, roles.storageQueueDataMessageSender)
  scope: dmpEventsQueue
  properties: {
    principalId: dmpTopicPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
  }
}

// ...and write its undeliverable events into the dead-letter container only.
resource systemTopicDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, systemTopic.id, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    principalId: systemTopicPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource dmpTopicDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, dmpTopic.id, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    principalId: dmpTopicPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

var retryPolicy = {
  maxDeliveryAttempts: maxDeliveryAttempts
  eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
}

var deadLetterWithTopicIdentity = {
  identity: {
    type: 'SystemAssigned'
  }
  deadLetterDestination: {
    endpointType: 'StorageBlob'
    properties: {
      resourceId: hostStorage.id
      blobContainerName: deadLetterContainer.name
    }
  }
}

resource blobEvents 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'research-blobs-to-${blobEventsQueue.name}'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    deliveryWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      destination: {
        endpointType: 'StorageQueue'
        properties: {
          resourceId: hostStorage.id
          queueName: blobEventsQueue.name
          queueMessageTimeToLiveInSeconds: queueMessageTimeToLiveInSeconds
        }
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
    deadLetterWithResourceIdentity: deadLetterWithTopicIdentity
  }
  // Event Grid checks at creation that the identity may deliver and dead-letter.
  dependsOn: [
    systemTopicSender
    systemTopicDeadLetters
  ]
}

resource dmpEvents 'Microsoft.EventGrid/topics/eventSubscriptions@2025-02-15' = {
  parent: dmpTopic
  name: 'dmp-events-to-${dmpEventsQueue.name}'
  properties: {
    eventDeliverySchema: 'CloudEventSchemaV1_0'
    deliveryWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      destination: {
        endpointType: 'StorageQueue'
        properties: {
          resourceId: hostStorage.id
          queueName: dmpEventsQueue.name
          queueMessageTimeToLiveInSeconds: queueMessageTimeToLiveInSeconds
        }
      }
    }
    filter: {
      includedEventTypes: [
        'Gardien.Dmp.Submitted'
        'Gardien.Dmp.Updated'
      ]
    }
    retryPolicy: retryPolicy
    deadLetterWithResourceIdentity: deadLetterWithTopicIdentity
  }
  dependsOn: [
    dmpTopicSender
    dmpTopicDeadLetters
  ]
}

@description('The resource ID of the blob-event subscription.')
output blobEventSubscriptionId string = blobEvents.id

@description('The resource ID of the DMP-event subscription.')
output dmpEventSubscriptionId string = dmpEvents.id
