// Types shared by main.bicep and its modules.

@export()
@description('Resource tags: names to string values.')
type tagsType = {
  *: string
}

@export()
@secure()
@description('Tencent callback token per SdkAppid, for example {"1400000001": "<token>"}. Every app must sign its callbacks: a token is 16 to 128 characters (Tencent allows up to 128; the app refuses shorter ones).')
type callbackTokensType = {
  @minLength(16)
  @maxLength(128)
  *: string
}

@export()
@description('Admin API access of one reconciled Tencent app.')
type reconcileAppType = {
  @description('The app\'s secret key from the Chat console, used to sign the admin UserSig.')
  @minLength(1)
  secretKey: string

  @description('App admin the REST API is called as; default administrator.')
  adminIdentifier: string?

  @description('The region\'s admin API domain, such as adminapisgp.im.qcloud.com; default console.tim.qq.com.')
  domain: string?
}

@export()
@secure()
@description('Tencent apps to reconcile per SdkAppid, for example {"1400000001": {"secretKey": "<secret key>"}}.')
type reconcileAppsType = {
  *: reconcileAppType
}

@export()
@description('The non-secret part of each reconciled Tencent app, per SdkAppid: its secret key stays in the Key Vault.')
type reconcileAppAccessType = {
  *: {
    @description('App admin the REST API is called as.')
    adminIdentifier: string

    @description('The region\'s admin API domain.')
    domain: string
  }
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
@description('Addresses allowed to reach the function app, by who calls it: IPv4 or IPv6 addresses (counted as /32 or /128) or CIDR ranges. All empty: no restriction.')
type inboundAllowListType = {
  @description('Tencent Cloud Chat webhook egress addresses: the IPList the REST API v4/ConfigSvc/GetIPList returns for nettype=5 (servers in the Chinese mainland and Hong Kong) or nettype=6 (elsewhere), pasted as is.')
  @maxLength(200)
  tencent: string[]

  @description('Egress addresses of your OpenIM server (it is self-hosted: the public address or NAT gateway it calls out from).')
  @maxLength(50)
  openIm: string[]

  @description('Query API clients and operators. Access restrictions are site-wide, so list them as soon as a platform list is set.')
  @maxLength(200)
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

@export()
@description('Names of the Key Vault secrets the app reads: the callback secrets and the reconciliation secrets. A per-app secret is the prefix and its SdkAppid.')
var callbackSecretNames = {
  openImCallbackKey: 'openim-callback-key'
  tencentCallbackTokenPrefix: 'tencent-callback-token-'
  openImAdminSecret: 'openim-admin-secret'
  tencentReconcileSecretKeyPrefix: 'tencent-reconcile-secret-'
}

@export()
@description('Whether an id is a Tencent SdkAppid: digits only, so it is safe in a Key Vault secret name (letters, digits and dashes only) and in an app setting name.')
func isSdkAppid(appId string) bool =>
  !empty(appId) && empty(reduce(range(0, 10), appId, (rest, digit) => replace(rest, string(digit), '')))

@export()
@description('appId when it is a Tencent SdkAppid; anything else stops the deployment, naming it.')
func checkedSdkAppid(appId string) string =>
  isSdkAppid(appId) ? appId : fail('A Tencent SdkAppid is digits only: \'${appId}\' is not one.')
