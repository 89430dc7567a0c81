metadata name = 'Gardien private endpoint'
metadata description = 'One private endpoint with its private DNS zone group.'

@description('Required. Name of the private endpoint.')
param name string

@description('Optional. Azure region of the private endpoint.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the private endpoint.')
param tags object = {}

@description('Required. Resource ID of the subnet the endpoint is placed in.')
param subnetId string

@description('Required. Resource ID of the resource exposed through the endpoint.')
param privateLinkServiceId string

@description('Required. Sub-resource (group ID) exposed, e.g. blob, queue, table, vault.')
param groupId string

@description('Required. Resource ID of the private DNS zone that resolves the sub-resource.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2026-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: privateLinkServiceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2026-03-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}

@description('The resource ID of the private endpoint.')
output resourceId string = endpoint.id

@description('The name of the private endpoint.')
output name string = endpoint.name
