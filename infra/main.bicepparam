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

param inboundAllowList = {
  callbacks: []
  queries: []
}

// A JSON object mapping each Tencent SdkAppid to its console callback token: {"1400000001":"<token>"}.
param tencentCallbackTokens = json(readEnvironmentVariable('TENCENT_CALLBACK_TOKENS', '{}'))

// Secret last path segment of the OpenIM callback URL.
param openImCallbackKey = readEnvironmentVariable('OPENIM_CALLBACK_KEY', '')

// Object id of the user or group that may read the tables and the dead-letter queue.
param operatorPrincipalId = readEnvironmentVariable('OPERATOR_PRINCIPAL_ID', '')
