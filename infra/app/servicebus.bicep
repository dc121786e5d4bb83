// Service Bus namespace and the queue between ReceiveCallback (sender) and ApplyRelationshipEvents
// (receiver). Local (SAS key) authentication is disabled: only Entra ID identities with data roles connect.

import { queueSettingsType, serviceBusSkuType, tagsType } from 'types.bicep'

@description('Required. Name of the namespace (6-50 characters, globally unique).')
@minLength(6)
@maxLength(50)
param name string

@description('Required. Azure region of the namespace.')
param location string

@description('Optional. Tags applied to the namespace.')
param tags tagsType = {}

@description('Optional. Namespace tier. Standard fits callback traffic; Premium adds isolation, 1 MB+ messages and predictable latency.')
param skuName serviceBusSkuType = 'Standard'

@description('Optional. Messaging units when the tier is Premium (ignored for Standard).')
@allowed([
  1
  2
  4
  8
  16
])
param premiumMessagingUnits int = 1

@description('Required. Name of the relationship-events queue.')
param queueName string

@description('Required. Delivery settings of the queue.')
param queueSettings queueSettingsType

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: skuName == 'Premium' ? premiumMessagingUnits : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    lockDuration: queueSettings.lockDuration
    maxDeliveryCount: queueSettings.maxDeliveryCount
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: queueSettings.duplicateDetectionHistoryTimeWindow
    defaultMessageTimeToLive: queueSettings.messageTimeToLive
    deadLetteringOnMessageExpiration: true
    requiresSession: false
    enablePartitioning: false
    enableBatchedOperations: true
    maxSizeInMegabytes: 1024
  }
}

@description('Name of the namespace.')
output name string = namespace.name

@description('Host name of the namespace (for example sb-x.servicebus.windows.net), as ServiceBusConnection__fullyQualifiedNamespace expects it.')
output fullyQualifiedNamespace string = replace(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':443/', '')

@description('Name of the queue.')
output queueName string = queue.name
