// The optional private network (vnetEnabled): a virtual network whose `app` subnet carries the function app's
// outbound traffic (Flex Consumption VNet integration) and whose `private-endpoints` subnet holds one private
// endpoint per service the app calls, each with the private DNS zone that makes its usual host name resolve to
// the endpoint inside the network. Inbound callbacks still reach the app over its public host name.

import { tagsType } from 'types.bicep'

@description('Required. Name of the virtual network.')
param name string

@description('Required. Azure region of the network and the endpoints.')
param location string

@description('Optional. Tags applied to every resource.')
param tags tagsType = {}

@description('Optional. Address space of the network; the app subnet takes its first /24, the endpoints the second.')
param addressPrefix string = '10.40.0.0/16'

@description('Required. Name of the storage account (blob, queue and table endpoints).')
param storageAccountName string

@description('Required. Name of the Service Bus namespace (Premium: only Premium has private endpoints).')
param serviceBusNamespaceName string

@description('Required. Name of the Key Vault.')
param keyVaultName string

@description('One private endpoint: the service, its sub-resource and the DNS zone its host names move to.')
type privateEndpointType = {
  name: string
  serviceType: string
  serviceName: string
  groupId: string
  dnsZone: string
}

var privateEndpoints privateEndpointType[] = [
  {
    name: 'blob'
    serviceType: 'Microsoft.Storage/storageAccounts'
    serviceName: storageAccountName
    groupId: 'blob'
    dnsZone: 'privatelink.blob.${environment().suffixes.storage}'
  }
  {
    name: 'queue'
    serviceType: 'Microsoft.Storage/storageAccounts'
    serviceName: storageAccountName
    groupId: 'queue'
    dnsZone: 'privatelink.queue.${environment().suffixes.storage}'
  }
  {
    name: 'table'
    serviceType: 'Microsoft.Storage/storageAccounts'
    serviceName: storageAccountName
    groupId: 'table'
    dnsZone: 'privatelink.table.${environment().suffixes.storage}'
  }
  {
    name: 'servicebus'
    serviceType: 'Microsoft.ServiceBus/namespaces'
    serviceName: serviceBusNamespaceName
    groupId: 'namespace'
    dnsZone: 'privatelink.servicebus.windows.net'
  }
  {
    name: 'vault'
    serviceType: 'Microsoft.KeyVault/vaults'
    serviceName: keyVaultName
    groupId: 'vault'
    dnsZone: 'privatelink.vaultcore.azure.net'
  }
]

resource network 'Microsoft.Network/virtualNetworks@2024-05-01' = {
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
        // Flex Consumption integrates through a subnet delegated to Microsoft.App/environments.
        name: 'app'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 0)
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
        name: 'private-endpoints'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: 'app'
  }

  resource endpointSubnet 'subnets' existing = {
    name: 'private-endpoints'
  }
}

resource dnsZones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for endpoint in privateEndpoints: {
    name: endpoint.dnsZone
    location: 'global'
    tags: tags
  }
]

resource dnsZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (endpoint, i) in privateEndpoints: {
    parent: dnsZones[i]
    name: name
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: network.id
      }
    }
  }
]

resource endpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in privateEndpoints: {
    name: 'pe-${endpoint.name}-${name}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: network::endpointSubnet.id
      }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: {
            privateLinkServiceId: resourceId(endpoint.serviceType, endpoint.serviceName)
            groupIds: [
              endpoint.groupId
            ]
          }
        }
      ]
    }
  }
]

resource endpointDnsRecords 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in privateEndpoints: {
    parent: endpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: endpoint.name
          properties: {
            privateDnsZoneId: dnsZones[i].id
          }
        }
      ]
    }
  }
]

@description('Resource id of the subnet the function app integrates with.')
output appSubnetId string = network::appSubnet.id
