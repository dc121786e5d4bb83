// Least-privilege role assignments for the app's identity, and optional read access for an operator.
// Assignment names are deterministic (guid of scope, principal and role), so redeploying is idempotent.

import { callbackSecretNames, principalTypeType } from 'types.bicep'

@description('Required. Principal id of the function app identity.')
param appPrincipalId string

@description('Required. Name of the storage account (host storage, deployment container and tables).')
param storageAccountName string

@description('Required. Name of the Service Bus namespace.')
param serviceBusNamespaceName string

@description('Required. Name of the relationship-events queue.')
param queueName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Name of the Key Vault holding the callback and reconciliation secrets.')
param keyVaultName string

@description('Required. SdkAppids of the Tencent apps served, one token secret each.')
param tencentAppIds string[]

@description('Optional. SdkAppids of the Tencent apps reconciled, one secret-key secret each.')
param tencentReconcileAppIds string[] = []

@description('Optional. OpenIM is reconciled, so the vault holds its admin secret.')
param openImReconciled bool = false

@description('Optional. Also grant Azure Service Bus Data Owner on the queue (not the namespace). The Functions scale controller needs the Manage right to read the queue length; without it, scaling sees only whether a message is waiting.')
param grantQueueManageForScaling bool = true

@description('Optional. Principal id of a person or group allowed to read the tables and receive from the dead-letter queue. Empty grants nothing.')
param operatorPrincipalId string = ''

@description('Optional. Type of the operator principal.')
param operatorPrincipalType principalTypeType = 'User'

// Built-in role definition ids (the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName

  resource queue 'queues' existing = {
    name: queueName
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName

  resource openImCallbackKey 'secrets' existing = {
    name: callbackSecretNames.openImCallbackKey
  }

  resource openImAdminSecret 'secrets' existing = {
    name: callbackSecretNames.openImAdminSecret
  }
}

resource tencentCallbackTokens 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = [
  for appId in tencentAppIds: {
    parent: keyVault
    name: '${callbackSecretNames.tencentCallbackTokenPrefix}${appId}'
  }
]

resource tencentReconcileSecretKeys 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = [
  for appId in tencentReconcileAppIds: {
    parent: keyVault
    name: '${callbackSecretNames.tencentReconcileSecretKeyPrefix}${appId}'
  }
]

// The host keeps its keys, locks and leases in blobs of AzureWebJobsStorage (Blob Data Owner is the role the
// Functions docs require for it); it also covers reading the package from the deployment container.
resource appBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Account scope, not table scope: besides the relationship tables, the host creates its own diagnostic and
// scale-metrics tables in AzureWebJobsStorage.
resource appTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appQueueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace::queue.id, appPrincipalId, roles.serviceBusDataSender)
  scope: namespace::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appQueueReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace::queue.id, appPrincipalId, roles.serviceBusDataReceiver)
  scope: namespace::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Manage right on the queue only, so the scale controller can read its length.
resource appQueueOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantQueueManageForScaling) {
  name: guid(namespace::queue.id, appPrincipalId, roles.serviceBusDataOwner)
  scope: namespace::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Each callback secret on its own, never the vault: the app resolves its Key Vault references with these and can
// read no other secret, nor list, change or delete any.
resource appOpenImKeyReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault::openImCallbackKey.id, appPrincipalId, roles.keyVaultSecretsUser)
  scope: keyVault::openImCallbackKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appTencentTokenReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (appId, i) in tencentAppIds: {
    name: guid(tencentCallbackTokens[i].id, appPrincipalId, roles.keyVaultSecretsUser)
    scope: tencentCallbackTokens[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The reconciliation secrets likewise, each on its own.
resource appOpenImAdminSecretReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (openImReconciled) {
  name: guid(keyVault::openImAdminSecret.id, appPrincipalId, roles.keyVaultSecretsUser)
  scope: keyVault::openImAdminSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appTencentReconcileSecretKeyReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (appId, i) in tencentReconcileAppIds: {
    name: guid(tencentReconcileSecretKeys[i].id, appPrincipalId, roles.keyVaultSecretsUser)
    scope: tencentReconcileSecretKeys[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource operatorTableReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(storage.id, operatorPrincipalId, roles.storageTableDataReader)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataReader)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource operatorQueueReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(namespace::queue.id, operatorPrincipalId, roles.serviceBusDataReceiver)
  scope: namespace::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}
