metadata name = 'Gardien private networking'
metadata description = 'Virtual network with a subnet delegated to Microsoft.App/environments for Flex Consumption VNet integration, a subnet for private endpoints, and private endpoints plus private DNS zones for storage (blob, queue, table) and Key Vault.'

@description('Required. Name of the virtual network.')
param name string

@description('Optional. Azure region of the network resources.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the network resources.')
param tags object = {}

@description('Optional. Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Optional. Subnet for Function App outbound integration (at least /27 is recommended for Flex Consumption).')
param functionsSubnetPrefix string = '10.40.1.0/24'

@description('Optional. Subnet for private endpoints.')
param privateEndpointsSubnetPrefix string = '10.40.2.0/24'

@description('Required. Resource ID of the host storage account.')
param hostStorageAccountId string

@description('Required. Resource ID of the research-data storage account.')
param researchStorageAccountId string

@description('Required. Resource ID of the Key Vault.')
param keyVaultId string

var storageSuffix = environment().suffixes.storage
// privatelink.vaultcore.azure.net in the public cloud, derived so sovereign clouds get their own suffix.
var vaultZone = 'privatelink${replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')}'

var zones = {
  blob: 'privatelink.blob.${storageSuffix}'
  queue: 'privatelink.queue.${storageSuffix}'
  table: 'privatelink.table.${storageSuffix}'
  vault: vaultZone
}

var endpoints = [
  {
    name: 'pe-${last(split(hostStorageAccountId, '/'))}-blob'
    resourceId: hostStorageAccountId
    groupId: 'blob'
  }
  {
    name: 'pe-${last(split(hostStorageAccountId, '/'))}-queue'
    resourceId: hostStorageAccountId
    groupId: 'queue'
  }
  {
    name: 'pe-${last(split(hostStorageAccountId, '/'))}-table'
    resourceId: hostStorageAccountId
    groupId: 'table'
  }
  {
    name: 'pe-${last(split(researchStorageAccountId, '/'))}-blob'
    resourceId: researchStorageAccountId
    groupId: 'blob'
  }
  {
    name: 'pe-${last(split(researchStorageAccountId, '/'))}-table'
    resourceId: researchStorageAccountId
    groupId: 'table'
  }
  {
    name: 'pe-${last(split(keyVaultId, '/'))}-vault'
    resourceId: keyVaultId
    groupId: 'vault'
  }
]

resource vnet 'Microsoft.Network/virtualNetworks@2026-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'snet-functions'
        properties: {
          addressPrefix: functionsSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'snet-private-endpoints'
        properties: {
          addressPrefix: privateEndpointsSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource functionsSubnet 'Microsoft.Network/virtualNetworks/subnets@2026-03-01' existing = {
  parent: vnet
  name: 'snet-functions'
}

resource privateEndpointsSubnet 'Microsoft.Network/virtualNetworks/subnets@2026-03-01' existing = {
  parent: vnet
  name: 'snet-private-endpoints'
}

resource dnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in items(zones): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource dnsLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in items(zones): {
    parent: dnsZones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

module privateEndpoints 'private-endpoint.bicep' = [
  for (endpoint, i) in endpoints: {
    name: '${deployment().name}-pe-${i}'
    params: {
      name: endpoint.name
      location: location
      tags: tags
      subnetId: privateEndpointsSubnet.id
      privateLinkServiceId: endpoint.resourceId
      groupId: endpoint.groupId
      privateDnsZoneId: resourceId('Microsoft.Network/privateDnsZones', zones[endpoint.groupId])
    }
    dependsOn: [
      dnsZones
    ]
  }
]

@description('The resource ID of the virtual network.')
output resourceId string = vnet.id

@description('The resource ID of the subnet delegated to Microsoft.App/environments for Function App VNet integration.')
output functionsSubnetId string = functionsSubnet.id

@description('The resource ID of the private endpoints subnet.')
output privateEndpointsSubnetId string = privateEndpointsSubnet.id
