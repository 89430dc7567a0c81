metadata name = 'Gardien user-assigned managed identity'
metadata description = 'The single identity the Function App uses for storage, Key Vault, Event Grid, Monitor and Microsoft Graph.'

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Optional. Azure region of the identity.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('The resource ID of the identity.')
output resourceId string = identity.id

@description('The name of the identity.')
output name string = identity.name

@description('The client (application) ID of the identity.')
output clientId string = identity.properties.clientId

@description('The object ID of the identity\'s service principal, used as principalId in role assignments.')
output principalId string = identity.properties.principalId
