metadata name = 'Gardien Event Grid subscriptions (stage 2)'
metadata description = 'Runs after the function code is published (scripts/deploy.sh, deploy.yml): Event Grid validates an AzureFunction endpoint when the subscription is created, so OnBlobEvent and OnDmpEvent must already exist. Takes the stage-1 outputs as parameters.'

targetScope = 'resourceGroup'

@description('Required. FUNCTION_APP_NAME output of main.bicep.')
param functionAppName string

@description('Required. EVENT_GRID_SYSTEM_TOPIC_NAME output of main.bicep.')
param systemTopicName string

@description('Required. EVENT_GRID_DMP_TOPIC_NAME output of main.bicep.')
param dmpTopicName string

@description('Required. IDENTITY_RESOURCE_ID output of main.bicep.')
param identityResourceId string

@description('Required. HOST_STORAGE_ACCOUNT_ID output of main.bicep.')
param deadLetterStorageAccountId string

@description('Optional. DEAD_LETTER_CONTAINER_NAME output of main.bicep.')
param deadLetterContainerName string = 'eventgrid-deadletter'

@description('Optional. Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Optional. Minutes Event Grid keeps retrying an event before dead-lettering it.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

module subscriptions 'modules/eventgrid-subscriptions.bicep' = {
  name: 'eventgrid-subscriptions'
  params: {
    functionAppName: functionAppName
    systemTopicName: systemTopicName
    dmpTopicName: dmpTopicName
    identityResourceId: identityResourceId
    deadLetterStorageAccountId: deadLetterStorageAccountId
    deadLetterContainerName: deadLetterContainerName
    maxDeliveryAttempts: maxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
  }
}

@description('Resource ID of the research-data blob-event subscription.')
output BLOB_EVENT_SUBSCRIPTION_ID string = subscriptions.outputs.blobEventSubscriptionId

@description('Resource ID of the DMP-event subscription.')
output DMP_EVENT_SUBSCRIPTION_ID string = subscriptions.outputs.dmpEventSubscriptionId
