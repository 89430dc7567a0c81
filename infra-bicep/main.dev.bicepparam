using 'main.bicep'

// Development: public endpoints, smallest footprint, short retention. Secrets never appear here.
param environmentName = 'dev'
param tags = {
  environment: 'dev'
  'data-classification': 'test-data-only'
}
param enablePrivateNetworking = false
param keyVaultPublicNetworkAccess = 'Enabled'
param hostStorageSkuName = 'Standard_LRS'
param researchStorageSkuName = 'Standard_LRS'
param auditRetentionDays = 7
param researchSoftDeleteRetentionDays = 7
param logRetentionInDays = 30
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param durableAlwaysReadyInstanceCount = 1
param enableResearchDataManagement = true
// Client ID of the API's Entra ID app registration; scripts/deploy.sh and the workflows export it.
param apiAuthClientId = readEnvironmentVariable('GARDIEN_API_CLIENT_ID')
// Mailbox the app mails from when Teams delivery fails; scripts/deploy.sh and the workflows export it.
param notificationMailSender = readEnvironmentVariable('GARDIEN_MAIL_SENDER')
