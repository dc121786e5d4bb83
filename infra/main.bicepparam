// Deployment choices for infra/main.bicep (README "Deploy"). Secrets never go in this file: they are read from
// the environment of the az command that deploys it.

using 'main.bicep'

param namePrefix = 'relcb'

param relationshipEventsQueueName = 'relationship-events'

param serviceBusSku = 'Standard'

param instanceMemoryMB = 2048

param maximumInstanceCount = 40

// One instance for the HTTP group, so the first callback does not wait for a cold start (Tencent gives up after 2 s).
param alwaysReady = {
  http: 1
  apply: 0
}

// true: Storage, Service Bus (then Premium) and Key Vault only through private endpoints in a new virtual network,
// the app's outbound traffic through it; the callback endpoint stays public (README "Private network").
param vnetEnabled = false

// Who may call the app (README "Restricting callers"). Empty lists: anyone. tencent: the IPList of Tencent's REST API
// v4/ConfigSvc/GetIPList (nettype=5 inside the Chinese mainland, 6 outside), pasted as is; openIm: the egress
// addresses of your OpenIM server; queries: your query clients and operators, needed as soon as either is set.
param inboundAllowList = {
  tencent: []
  openIm: []
  queries: []
}

// A JSON object mapping each Tencent SdkAppid to its console callback token (16 to 128 characters):
// {"1400000001":"<token>"}. Default {}: no Tencent app.
param tencentCallbackTokens = json(readEnvironmentVariable('TENCENT_CALLBACK_TOKENS', '{}'))

// Secret last path segment of the OpenIM callback URL (16 to 128 characters). Required: without the variable the
// build stops here, naming it.
param openImCallbackKey = readEnvironmentVariable('OPENIM_CALLBACK_KEY')

// Reconciliation (README "Reconciliation"), off by default. Tencent: a JSON object mapping each reconciled SdkAppid
// (digits) to {"secretKey": "...", "domain": "..."} (adminIdentifier and domain optional). OpenIM: its API base URL
// here, and then its admin secret (share.secret) is required. The secrets go into the Key Vault.
param tencentReconcileApps = json(readEnvironmentVariable('TENCENT_RECONCILE_APPS', '{}'))
param openImApiUrl = ''
param openImAdminSecret = readEnvironmentVariable('OPENIM_ADMIN_SECRET', '')

// Object id of the user or group that may read the tables and the dead-letter queue.
param operatorPrincipalId = readEnvironmentVariable('OPERATOR_PRINCIPAL_ID', '')
