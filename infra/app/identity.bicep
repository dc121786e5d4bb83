// The one identity the function app uses for everything: host storage, package download, tables,
// Service Bus and Application Insights. A user-assigned identity exists before the app does, so its
// role assignments can be made (and can propagate) in the same deployment.

import { tagsType } from 'types.bicep'

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Required. Azure region of the identity.')
param location string

@description('Optional. Tags applied to the identity.')
param tags tagsType = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity.')
output resourceId string = identity.id

@description('Client (application) id of the identity, used by identity-based app settings.')
output clientId string = identity.properties.clientId

@description('Principal (object) id of the identity, used by role assignments.')
output principalId string = identity.properties.principalId
