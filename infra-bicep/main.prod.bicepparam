using 'main.bicep'

// Production: health data. Private endpoints, Key Vault closed to public networks, zone-redundant research data,
// ten-year audit immutability, long soft-delete windows. Secrets never appear here.
param environmentName = 'prod'
param tags = {
  environment: 'prod'
  'data-classification': 'health-personal-data'
}
param enablePrivateNetworking = true
param keyVaultPublicNetworkAccess = 'Disabled'
param hostStorageSkuName = 'Standard_ZRS'
param researchStorageSkuName = 'Standard_GZRS'
param auditRetentionDays = 3650
param researchSoftDeleteRetentionDays = 90
param logRetentionInDays = 365
param maximumInstanceCount = 100
param instanceMemoryMB = 2048
param durableAlwaysReadyInstanceCount = 1
param enableResearchDataManagement = true
param apiAuthClientId = readEnvironmentVariable('GARDIEN_API_CLIENT_ID')
// Mailbox the app mails from when Teams delivery fails; scripts/deploy.sh and the workflows export it.
param notificationMailSender = readEnvironmentVariable('GARDIEN_MAIL_SENDER')
