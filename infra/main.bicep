// Relationship callbacks on Azure: one deployment into an existing resource group creates everything the
// function app needs. Upload the package from scripts/package.sh afterwards (README "Deploy").

targetScope = 'resourceGroup'

import { alwaysReadyType, callbackTokensType, checkedSdkAppid, inboundAllowListType, principalTypeType, queueSettingsType, reconcileAppsType, serviceBusSkuType, storageSkuType, tagsType } from 'app/types.bicep'

// ---------------------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------------------

@description('Optional. Azure region of every resource. It must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@description('Optional. Short prefix of every resource name (letters, digits, hyphens).')
@minLength(2)
@maxLength(12)
param namePrefix string = 'relcb'

@description('Optional. Tags applied to every resource.')
param tags tagsType = {}

@description('Optional. Name of the Service Bus queue between ingestion and apply (app setting RelationshipEventsQueue).')
param relationshipEventsQueueName string = 'relationship-events'

@description('Optional. Service Bus tier. Standard fits callback traffic (messages up to 256 KB, which the app respects); Premium adds isolation and predictable latency. With vnetEnabled the namespace is Premium whatever this says: only Premium has private endpoints.')
param serviceBusSku serviceBusSkuType = 'Standard'

@description('Optional. Messaging units when serviceBusSku is Premium.')
@allowed([
  1
  2
  4
  8
  16
])
param serviceBusPremiumMessagingUnits int = 1

@description('''Optional. Delivery settings of the queue. The 1-minute lock is about 20 times what applying a 1,000-edge batch takes
(some 3,000 entity writes in ~30 entity-group transactions) and the host renews it while the function runs, so a crashed
instance's message comes back within a minute. 10 deliveries ride out a short storage outage before dead-lettering.''')
param queueSettings queueSettingsType = {
  lockDuration: 'PT1M'
  maxDeliveryCount: 10
  duplicateDetectionHistoryTimeWindow: 'PT10M'
  messageTimeToLive: 'P14D'
}

@description('Optional. Redundancy of the storage account.')
param storageSku storageSkuType = 'Standard_LRS'

@description('Optional. Memory of each Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Most instances the app scales out to. Table Storage accepts about 20,000 entity writes per second per account, which a few dozen busy instances already reach.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Optional. Always-ready instances for the HTTP group and for the apply function (billed while idle).')
param alwaysReady alwaysReadyType = {
  http: 0
  apply: 0
}

@description('Optional. Addresses allowed to reach the app, by caller: Tencent\'s webhook egress list (REST API v4/ConfigSvc/GetIPList, nettype 5 or 6), your OpenIM server\'s egress addresses, and query clients. Access restrictions are site-wide: once any list is non-empty, every other caller is refused, so list query clients too.')
param inboundAllowList inboundAllowListType = {
  tencent: []
  openIm: []
  queries: []
}

@description('''Optional. Put Storage, Service Bus and Key Vault behind private endpoints in a new virtual network, with public
network access off on all three, and route the app's outbound traffic through it (Flex Consumption VNet integration).
The callback and query endpoints stay public. Service Bus becomes Premium (private endpoints need it).''')
param vnetEnabled bool = false

@description('Optional. Address space of the virtual network when vnetEnabled (a /16 to /23; the app and the endpoints take its first two /24s).')
param vnetAddressPrefix string = '10.40.0.0/16'

@description('Optional. Tencent Cloud Chat apps served: an object mapping each SdkAppid to the callback token set in its console (16 to 128 characters; an app without a token is refused). Example: {"1400000001": "<token>"}.')
param tencentCallbackTokens callbackTokensType = {}

@description('Optional. Largest distance, in seconds, between a signed Tencent callback\'s RequestTime and now, and how far any source time may be ahead of the receive time. 30 s bounds how long a leaked signed URL can be replayed while leaving room for Tencent\'s delivery and clock drift.')
@minValue(1)
param tencentMaxClockSkewSeconds int = 30

@description('Optional. App id OpenIM callbacks are stored and queried under.')
param openImAppId string = 'openim'

@description('Required. Secret last path segment of the OpenIM callback URL (/api/callbacks/openim/<key>), 16 to 128 URL-safe characters (for example openssl rand -hex 24). OpenIM cannot sign its webhooks, so this key is what keeps strangers from writing edges.')
@secure()
@minLength(16)
@maxLength(128)
param openImCallbackKey string

@description('Optional. Tencent apps to reconcile against the admin REST API: an object mapping each SdkAppid to {"secretKey": "<app secret key>", "adminIdentifier": "administrator", "domain": "console.tim.qq.com"} (adminIdentifier and domain optional; domain is the region\'s API domain, such as adminapisgp.im.qcloud.com). SdkAppids are digits; each secret key becomes the Key Vault secret tencent-reconcile-secret-<SdkAppid>.')
param tencentReconcileApps reconcileAppsType = {}

@description('Optional. OpenIM API base URL (for example https://openim-api.example.com) for reconciliation; empty: OpenIM is not reconciled.')
param openImApiUrl string = ''

@description('Optional. OpenIM admin secret (share.secret in OpenIM\'s configuration), required with openImApiUrl; it becomes the Key Vault secret openim-admin-secret.')
@secure()
param openImAdminSecret string = ''

@description('Optional. OpenIM admin user id (imAdminUserID in OpenIM\'s configuration).')
param openImAdminUserId string = 'imAdmin'

@description('Optional. When the scheduled reconciliation runs: NCRONTAB with seconds (second minute hour day month weekday).')
param reconciliationSchedule string = '0 0 * * * *'

@description('Optional. Users reconciled per app per scheduled run.')
@minValue(1)
@maxValue(100000)
param reconciliationUsersPerRun int = 500

@description('Optional. Users reconciled at once.')
@minValue(1)
@maxValue(256)
param reconciliationConcurrency int = 8

@description('Optional. The platforms\' admin API limit per app, in calls per second (both allow 200); the client stays at 95 % of it.')
@minValue(1)
@maxValue(100000)
param reconciliationCallsPerSecond int = 200

@description('Optional. Largest callback body accepted, in bytes (larger ones get 413).')
@minValue(1024)
param callbackMaxBodyBytes int = 1048576

@description('Optional. Most pairs or items accepted in one callback.')
@minValue(1)
param callbackMaxPairs int = 1000

@description('Optional. Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Optional. Grant the app Azure Service Bus Data Owner on the queue (only) so the scale controller can read the queue length.')
param grantQueueManageForScaling bool = true

@description('Optional. Object id of a user or group that may read the tables and the dead-letter queue (for example: az ad signed-in-user show --query id -o tsv). Empty grants nothing.')
param operatorPrincipalId string = ''

@description('Optional. Kind of principal operatorPrincipalId is.')
param operatorPrincipalType principalTypeType = 'User'

// ---------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------

var token = uniqueString(subscription().id, resourceGroup().id, namePrefix)
var prefix = toLower(namePrefix)
var names = {
  identity: 'id-${prefix}-${token}'
  storage: take('st${replace(prefix, '-', '')}${token}', 24)
  serviceBus: 'sb-${prefix}-${token}'
  workspace: 'log-${prefix}-${token}'
  applicationInsights: 'appi-${prefix}-${token}'
  plan: 'plan-${prefix}-${token}'
  functionApp: 'func-${prefix}-${token}'
  keyVault: take('kv${replace(prefix, '-', '')}${token}', 24)
  network: 'vnet-${prefix}-${token}'
}

@description('Premium when the private network is on: Standard namespaces have no private endpoints.')
var effectiveServiceBusSku = vnetEnabled ? 'Premium' : serviceBusSku

@description('SdkAppids served (not secret: they appear in every callback URL); each token is its own Key Vault secret.')
var tencentAppIds = objectKeys(tencentCallbackTokens)

@description('SdkAppids reconciled (not secret); each app\'s secret key is its own Key Vault secret, so an id must be digits.')
var tencentReconcileAppIds = map(objectKeys(tencentReconcileApps), appId => checkedSdkAppid(appId))

@description('The non-secret part of each reconciled Tencent app, defaults filled in; the app module gets this, never the secret keys.')
var tencentReconcileAccess = toObject(tencentReconcileAppIds, appId => appId, appId => {
  adminIdentifier: tencentReconcileApps[appId].?adminIdentifier ?? 'administrator'
  domain: tencentReconcileApps[appId].?domain ?? 'console.tim.qq.com'
})

@description('OpenIM is reconciled when its API URL is set, and then its admin secret is required.')
var openImReconcileApiUrl = empty(openImApiUrl) || !empty(openImAdminSecret)
  ? openImApiUrl
  : fail('openImAdminSecret (OPENIM_ADMIN_SECRET) is required with openImApiUrl.')

@description('OpenIM is reconciled: the vault holds its admin secret and the app reads it.')
var openImReconciled = !empty(openImReconcileApiUrl)

@description('Blob container the Flex Consumption plan runs the package from.')
var deploymentContainerName = 'app-package'

@description('Tables the app reads and writes; the names are fixed by the app (FunctionApp/Hosting/ResourceNames.cs).')
var relationshipTables = [
  'RelationshipEdges'
  'RelationshipEdgesByPeer'
  'RelationshipHistory'
  'ReconciliationCursors'
]

// ---------------------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------------------

module identity 'app/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    skuName: storageSku
    privateNetworkOnly: vnetEnabled
    deploymentContainerName: deploymentContainerName
    tableNames: relationshipTables
  }
}

module serviceBus 'app/servicebus.bicep' = {
  name: 'serviceBus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    skuName: effectiveServiceBusSku
    privateNetworkOnly: vnetEnabled
    premiumMessagingUnits: serviceBusPremiumMessagingUnits
    queueName: relationshipEventsQueueName
    queueSettings: queueSettings
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyVault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    privateNetworkOnly: vnetEnabled
    openImCallbackKey: openImCallbackKey
    tencentCallbackTokens: tencentCallbackTokens
    tencentReconcileApps: tencentReconcileApps
    openImReconciled: openImReconciled
    openImAdminSecret: openImAdminSecret
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  // The endpoints attach to the services by name.
  dependsOn: [
    storage
    serviceBus
    keyVault
  ]
  params: {
    name: names.network
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    storageAccountName: names.storage
    serviceBusNamespaceName: names.serviceBus
    keyVaultName: names.keyVault
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: names.workspace
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module roles 'app/roles.bicep' = {
  name: 'roles'
  // The resources are named here, not read from module outputs, so what-if can predict every assignment's scope.
  dependsOn: [
    storage
    serviceBus
    monitoring
    keyVault
  ]
  params: {
    // Known only once the identity exists; keeping it in the assignment names lets a recreated identity get fresh
    // assignments instead of failing on a principal change.
    #disable-next-line what-if-short-circuiting
    appPrincipalId: identity.outputs.principalId
    storageAccountName: names.storage
    serviceBusNamespaceName: names.serviceBus
    queueName: relationshipEventsQueueName
    applicationInsightsName: names.applicationInsights
    keyVaultName: names.keyVault
    tencentAppIds: tencentAppIds
    tencentReconcileAppIds: tencentReconcileAppIds
    openImReconciled: openImReconciled
    grantQueueManageForScaling: grantQueueManageForScaling
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

module functionApp 'app/functionapp.bicep' = {
  name: 'functionApp'
  // The host reads its storage and the package with the identity as soon as the app starts, and resolves the
  // Key Vault references with it.
  dependsOn: [
    roles
  ]
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    relationshipEventsQueueName: serviceBus.outputs.queueName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReady: alwaysReady
    inboundAllowList: inboundAllowList
    keyVaultUri: keyVault.outputs.vaultUri
    tencentAppIds: tencentAppIds
    tencentMaxClockSkewSeconds: tencentMaxClockSkewSeconds
    openImAppId: openImAppId
    virtualNetworkSubnetId: network.?outputs.appSubnetId ?? ''
    callbackMaxBodyBytes: callbackMaxBodyBytes
    callbackMaxPairs: callbackMaxPairs
    tencentReconcileApps: tencentReconcileAccess
    openImApiUrl: openImReconcileApiUrl
    openImAdminUserId: openImAdminUserId
    reconciliationSchedule: reconciliationSchedule
    reconciliationUsersPerRun: reconciliationUsersPerRun
    reconciliationConcurrency: reconciliationConcurrency
    reconciliationCallsPerSecond: reconciliationCallsPerSecond
  }
}

// ---------------------------------------------------------------------------------------------------------
// Outputs (read by the deploy commands in the README)
// ---------------------------------------------------------------------------------------------------------

var appUrl = 'https://${functionApp.outputs.defaultHostName}'

@description('Resource group holding everything.')
output AZURE_RESOURCE_GROUP string = resourceGroup().name

@description('Name of the function app (target of the package upload).')
output FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Base URL of the function app.')
output FUNCTION_APP_URL string = appUrl

@description('Blob container the platform runs the package from.')
output DEPLOYMENT_CONTAINER_URL string = storage.outputs.deploymentContainerUrl

@description('Storage account holding the relationship tables.')
output STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('Key Vault holding the secrets (openim-callback-key, tencent-callback-token-<SdkAppid>, and for reconciliation openim-admin-secret, tencent-reconcile-secret-<SdkAppid>).')
output KEY_VAULT_NAME string = keyVault.outputs.name

@description('Service Bus namespace host name.')
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace

@description('Queue between ingestion and apply (its dead-letter queue is <queue>/$deadletterqueue).')
output RELATIONSHIP_EVENTS_QUEUE string = serviceBus.outputs.queueName

@description('Callback URL to enter in the Tencent Cloud Chat console.')
output TENCENT_CALLBACK_URL string = '${appUrl}/api/callbacks/tencent'

@description('Callback URL to enter in OpenIM\'s webhook configuration; append /<openImCallbackKey> when a key is set.')
output OPENIM_CALLBACK_URL string = '${appUrl}/api/callbacks/openim'

@description('Base URL of the query API (function key required).')
output QUERY_API_BASE_URL string = '${appUrl}/api/v1'
