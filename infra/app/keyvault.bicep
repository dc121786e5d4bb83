// Key Vault holding the callback secrets (the OpenIM key and one Tencent token per SdkAppid) and the reconciliation
// secrets (the OpenIM admin secret and one Tencent secret key per reconciled SdkAppid). The app reads them
// through Key Vault references with its identity, which may read these secrets and nothing else (roles.bicep).
// Authorization is Azure RBAC only: no access policies, no vault-wide grants.

import { callbackSecretNames, callbackTokensType, checkedSdkAppid, reconcileAppsType, tagsType } from 'types.bicep'

@description('Required. Name of the vault (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region of the vault.')
param location string

@description('Optional. Tags applied to the vault.')
param tags tagsType = {}

@description('Optional. Refuse every caller from outside the private network: the vault is reached through its private endpoint only (vnetEnabled).')
param privateNetworkOnly bool = false

@description('Required. OpenIM callback key.')
@secure()
@minLength(16)
@maxLength(128)
param openImCallbackKey string

@description('Optional. Tencent callback token per SdkAppid.')
param tencentCallbackTokens callbackTokensType = {}

@description('Optional. Admin API access per reconciled Tencent SdkAppid; only each app\'s secretKey is stored.')
param tencentReconcileApps reconcileAppsType = {}

@description('Optional. OpenIM is reconciled, so its admin secret is stored.')
param openImReconciled bool = false

@description('Optional. OpenIM admin secret (share.secret) for reconciliation, required when openImReconciled.')
@secure()
param openImAdminSecret string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    accessPolicies: []
    // A deleted secret or vault can be recovered for 90 days and nobody can purge it early, so a slip or a hostile
    // delete cannot take the callback secrets away for good.
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: privateNetworkOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: privateNetworkOnly ? 'None' : 'AzureServices'
      defaultAction: privateNetworkOnly ? 'Deny' : 'Allow'
    }
  }
}

resource openImCallbackKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: callbackSecretNames.openImCallbackKey
  properties: {
    value: openImCallbackKey
    contentType: 'OpenIM callback key (last path segment of the callback URL)'
  }
}

resource tencentCallbackTokenSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for app in items(tencentCallbackTokens): {
    parent: vault
    name: '${callbackSecretNames.tencentCallbackTokenPrefix}${app.key}'
    properties: {
      value: app.value
      contentType: 'Tencent Cloud Chat callback token of SdkAppid ${app.key}'
    }
  }
]

resource openImAdminSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (openImReconciled) {
  parent: vault
  name: callbackSecretNames.openImAdminSecret
  properties: {
    value: openImAdminSecret
    contentType: 'OpenIM admin secret (share.secret), for reconciliation'
  }
}

resource tencentReconcileSecretKeySecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for app in items(tencentReconcileApps): {
    parent: vault
    name: '${callbackSecretNames.tencentReconcileSecretKeyPrefix}${checkedSdkAppid(app.key)}'
    properties: {
      value: app.value.secretKey
      contentType: 'Tencent Cloud Chat secret key of SdkAppid ${app.key}, for reconciliation'
    }
  }
]

@description('Name of the vault.')
output name string = vault.name

@description('URI of the vault, ending with a slash; a secret\'s versionless URI is <vaultUri>secrets/<name>.')
output vaultUri string = vault.properties.vaultUri
