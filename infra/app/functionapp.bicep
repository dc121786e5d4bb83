// The Flex Consumption plan and the function app. The app is a custom handler (runtime `custom`): the
// package holds host.json, the function folders and the self-contained linux-x64 handler the host starts.
// Every connection is identity-based through the one user-assigned identity, and the callback and reconciliation
// secrets the IM platforms need are Key Vault references resolved with that identity: no key, token or connection
// string with a secret is stored in the app's settings.

import { alwaysReadyType, callbackSecretNames, inboundAllowListType, reconcileAppAccessType, tagsType } from 'types.bicep'

@description('Required. Name of the function app (globally unique host name).')
param name string

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Required. Azure region of the plan and the app.')
param location string

@description('Optional. Tags applied to the plan and the app.')
param tags tagsType = {}

@description('Required. Resource id of the user-assigned identity the app runs as.')
param identityResourceId string

@description('Required. Client id of that identity, for the identity-based connection settings.')
param identityClientId string

@description('Required. URL of the blob container the platform deploys the package from.')
param deploymentContainerUrl string

@description('Required. Blob endpoint of the storage account (host storage).')
param storageBlobEndpoint string

@description('Required. Queue endpoint of the storage account (host storage).')
param storageQueueEndpoint string

@description('Required. Table endpoint of the storage account (host storage and the relationship tables).')
param storageTableEndpoint string

@description('Required. Host name of the Service Bus namespace.')
param serviceBusFullyQualifiedNamespace string

@description('Required. Name of the relationship-events queue.')
param relationshipEventsQueueName string

@description('Required. Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Optional. Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Required. Instances kept running for each scale group.')
param alwaysReady alwaysReadyType

@description('Required. Inbound access rules (CIDR lists by purpose). When every list is empty the site accepts any caller.')
param inboundAllowList inboundAllowListType

@description('Required. URI of the Key Vault holding the callback and reconciliation secrets, ending with a slash.')
param keyVaultUri string

@description('Optional. SdkAppids of the Tencent apps served; each has its token secret in the vault.')
param tencentAppIds string[] = []

@description('Optional. Largest distance, in seconds, between a signed Tencent callback\'s RequestTime and now, and how far any source time may be ahead of the receive time. 30 s bounds how long a leaked signed URL can be replayed while leaving room for Tencent\'s delivery and clock drift.')
param tencentMaxClockSkewSeconds int = 30

@description('Optional. App id OpenIM callbacks are stored under.')
param openImAppId string = 'openim'

@description('Optional. Resource id of the subnet the app sends its outbound traffic through (private network); empty: none.')
param virtualNetworkSubnetId string = ''

@description('Optional. Reconciled Tencent apps per SdkAppid: admin identifier and domain; each app\'s secret key is a secret in the vault.')
param tencentReconcileApps reconcileAppAccessType = {}

@description('Optional. OpenIM API base URL for reconciliation; empty: OpenIM is not reconciled. Set, the vault holds the admin secret.')
param openImApiUrl string = ''

@description('Optional. OpenIM admin user id.')
param openImAdminUserId string = 'imAdmin'

@description('Optional. NCRONTAB schedule (with seconds) of the scheduled reconciliation.')
param reconciliationSchedule string = '0 0 * * * *'

@description('Optional. Users reconciled per app per scheduled run.')
param reconciliationUsersPerRun int = 500

@description('Optional. Users reconciled at once.')
param reconciliationConcurrency int = 8

@description('Optional. The platforms\' admin API limit per app, in calls per second; the client stays at 95 % of it.')
param reconciliationCallsPerSecond int = 200

@description('Optional. Largest callback body accepted, in bytes.')
param callbackMaxBodyBytes int = 1048576

@description('Optional. Most pairs or items accepted in one callback.')
param callbackMaxPairs int = 1000

@description('Optional. Seconds one invocation keeps retrying a batch the store failed on, with backoff, before it schedules the batch\'s redelivery; inside the 5-minute function timeout and lock renewal.')
@minValue(0)
@maxValue(240)
param redeliveryRetryWithinDeliverySeconds int = 60

@description('Optional. Seconds before the first redelivery of a batch the store failed on; each next one waits twice as long.')
@minValue(1)
param redeliveryFirstDelaySeconds int = 10

@description('Optional. Longest wait between two redeliveries of a batch, in seconds.')
@minValue(1)
@maxValue(604800)
param redeliveryMaxDelaySeconds int = 600

@description('Optional. Seconds after its first failure that a batch the store still fails on goes to the dead-letter queue (6 hours: a storage outage parks nothing).')
@minValue(1)
param redeliveryParkAfterSeconds int = 21600

// Flex Consumption names the HTTP group `http` and a single function `function:<name>`.
var alwaysReadyConfig = filter(
  [
    {
      name: 'http'
      instanceCount: alwaysReady.http
    }
    {
      name: 'function:ApplyRelationshipEvents'
      instanceCount: alwaysReady.apply
    }
  ],
  group => group.instanceCount > 0
)

// Access restrictions apply to the whole site (App Service cannot filter by path), so the platform and query lists
// are merged into one allow list; the deployment (SCM) site keeps its own, open, rules.
var allowRules = concat(
  allowRulesFor('tencent', 100, inboundAllowList.tencent),
  allowRulesFor('openim', 400, inboundAllowList.openIm),
  allowRulesFor('queries', 500, inboundAllowList.queries)
)

// A versionless secret URI, so a new secret version reaches the app without a redeployment.
var openImCallbackKeyReference = '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${callbackSecretNames.openImCallbackKey})'

// One setting per Tencent app: Tencent__Apps__<SdkAppid>__CallbackToken, a reference to that app's token secret.
var tencentAppSettings = toObject(
  tencentAppIds,
  appId => 'Tencent__Apps__${appId}__CallbackToken',
  appId => '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${callbackSecretNames.tencentCallbackTokenPrefix}${appId})'
)

// The OpenIM admin secret, only when OpenIM is reconciled (the vault holds it only then).
var openImAdminSecretReference = empty(openImApiUrl)
  ? ''
  : '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${callbackSecretNames.openImAdminSecret})'

// Reconciliation per Tencent app: Reconciliation__Tencent__Apps__<SdkAppid>__{SecretKey,AdminIdentifier,Domain}, the
// secret key a reference to that app's secret.
var tencentReconcileSecretKeySettings = toObject(
  objectKeys(tencentReconcileApps),
  appId => 'Reconciliation__Tencent__Apps__${appId}__SecretKey',
  appId => '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${callbackSecretNames.tencentReconcileSecretKeyPrefix}${appId})'
)
var tencentReconcileAdminSettings = toObject(
  items(tencentReconcileApps),
  app => 'Reconciliation__Tencent__Apps__${app.key}__AdminIdentifier',
  app => app.value.adminIdentifier
)
var tencentReconcileDomainSettings = toObject(
  items(tencentReconcileApps),
  app => 'Reconciliation__Tencent__Apps__${app.key}__Domain',
  app => app.value.domain
)

var identityAppSettings = {
  // Host storage (keys, leases, diagnostics) through the identity: shared keys are disabled on the account.
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId

  // Service Bus: the trigger (read by the host) and the handler's sender (read by the handler, the same way).
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identityClientId

  // Relationship tables (read by the handler).
  RelationshipStorage__tableServiceUri: storageTableEndpoint
  RelationshipStorage__credential: 'managedidentity'
  RelationshipStorage__clientId: identityClientId

  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

var productAppSettings = {
  RelationshipEventsQueue: relationshipEventsQueueName
  Tencent__MaxClockSkewSeconds: string(tencentMaxClockSkewSeconds)
  OpenIm__AppId: openImAppId
  OpenIm__CallbackKey: openImCallbackKeyReference
  Callbacks__MaxBodyBytes: string(callbackMaxBodyBytes)
  Callbacks__MaxPairs: string(callbackMaxPairs)
  Redelivery__RetryWithinDeliverySeconds: string(redeliveryRetryWithinDeliverySeconds)
  Redelivery__FirstDelaySeconds: string(redeliveryFirstDelaySeconds)
  Redelivery__MaxDelaySeconds: string(redeliveryMaxDelaySeconds)
  Redelivery__ParkAfterSeconds: string(redeliveryParkAfterSeconds)
  ReconciliationSchedule: reconciliationSchedule
  Reconciliation__UsersPerRun: string(reconciliationUsersPerRun)
  Reconciliation__Concurrency: string(reconciliationConcurrency)
  Reconciliation__CallsPerSecond: string(reconciliationCallsPerSecond)
  Reconciliation__OpenIm__ApiUrl: openImApiUrl
  Reconciliation__OpenIm__Secret: openImAdminSecretReference
  Reconciliation__OpenIm__AdminUserId: openImAdminUserId
}

@description('One App Service access restriction that lets a range in.')
type allowRuleType = {
  name: string
  ipAddress: string
  action: 'Allow'
  priority: int
}

@description('Allow rules named <purpose>-<n> from priority firstPriority on; a bare address becomes a /32 (IPv4) or /128 (IPv6) range, as GetIPList returns some.')
func allowRulesFor(purpose string, firstPriority int, addresses string[]) allowRuleType[] =>
  map(range(0, length(addresses)), i => {
    name: '${purpose}-${i}'
    ipAddress: contains(addresses[i], '/') ? addresses[i] : '${addresses[i]}/${contains(addresses[i], ':') ? 128 : 32}'
    action: 'Allow'
    priority: firstPriority + i
  })

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Public even with the private network: the IM platforms call in over the internet (inboundAllowList narrows it).
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    keyVaultReferenceIdentity: identityResourceId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      ipSecurityRestrictions: allowRules
      ipSecurityRestrictionsDefaultAction: empty(allowRules) ? 'Allow' : 'Deny'
      scmIpSecurityRestrictionsUseMain: false
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        alwaysReady: alwaysReadyConfig
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(
    identityAppSettings,
    productAppSettings,
    tencentAppSettings,
    tencentReconcileSecretKeySettings,
    tencentReconcileAdminSettings,
    tencentReconcileDomainSettings
  )
}

// No FTP and no basic-auth publishing: deployments authenticate with Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Name of the function app.')
output name string = site.name

@description('Default host name of the function app.')
output defaultHostName string = site.properties.defaultHostName
