// Types shared by main.bicep and its modules.

@export()
@description('Resource tags: names to string values.')
type tagsType = {
  *: string
}

@export()
@secure()
@description('Tencent callback token per SdkAppid (empty string: unsigned callbacks accepted), for example {"1400000001": "token"}.')
type callbackTokensType = {
  *: string
}

@export()
@description('Always-ready (pre-warmed) instances per Flex Consumption scale group. 0 lets the group scale to zero.')
type alwaysReadyType = {
  @description('Instances kept for the HTTP group: callbacks, queries and health. 1 avoids a cold start on the first callback (Tencent waits 2 s).')
  @minValue(0)
  http: int

  @description('Instances kept for ApplyRelationshipEvents, the Service Bus trigger.')
  @minValue(0)
  apply: int
}

@export()
@description('CIDR ranges allowed to reach the function app, by purpose. All empty: no restriction.')
type inboundAllowListType = {
  @description('Ranges the IM platforms call the callback URLs from.')
  callbacks: string[]

  @description('Ranges of query API clients and operators. Access restrictions are site-wide, so they must be listed as soon as callbacks are.')
  queries: string[]
}

@export()
@description('Delivery settings of the relationship-events queue.')
type queueSettingsType = {
  @description('How long a receiver holds a message before Service Bus redelivers it (ISO 8601, at most PT5M). The host renews the lock while the function runs.')
  lockDuration: string

  @description('Deliveries before a message moves to the dead-letter queue.')
  @minValue(1)
  @maxValue(2000)
  maxDeliveryCount: int

  @description('Window in which a message whose MessageId was already seen is dropped (ISO 8601, PT20S to P7D).')
  duplicateDetectionHistoryTimeWindow: string

  @description('How long an unprocessed message lives before it is dead-lettered (ISO 8601).')
  messageTimeToLive: string
}

@export()
@description('Service Bus tiers this template allows.')
type serviceBusSkuType = 'Standard' | 'Premium'

@export()
@description('Storage redundancy options this template allows.')
type storageSkuType = 'Standard_LRS' | 'Standard_ZRS' | 'Standard_GRS' | 'Standard_GZRS' | 'Standard_RAGRS' | 'Standard_RAGZRS'

@export()
@description('Kinds of principal a role can be assigned to.')
type principalTypeType = 'User' | 'Group' | 'ServicePrincipal'
