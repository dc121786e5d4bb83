namespace FunctionApp.Hosting;

/// <summary>
/// Every configuration name the app reads, in one place, so code, <c>local.settings.sample.json</c> and the Bicep
/// app settings cannot drift apart (a test compares them). Names use ':' as .NET configuration does; environment
/// variables and app settings spell it '__' (for example <c>Tencent__Apps__1400000001__CallbackToken</c>).
/// </summary>
public static class AppSettingNames
{
    /// <summary>Section of Tencent apps served, one child per SdkAppid: <c>Tencent:Apps:&lt;SdkAppid&gt;:CallbackToken</c>.</summary>
    public const string TencentApps = "Tencent:Apps";

    /// <summary>Child of each Tencent app: the callback token from the console; empty means unsigned callbacks are accepted.</summary>
    public const string TencentCallbackTokenKey = "CallbackToken";

    /// <summary>How far a signed callback's RequestTime may be from now, and any source time ahead of it, in seconds (default 30).</summary>
    public const string TencentMaxClockSkewSeconds = "Tencent:MaxClockSkewSeconds";

    /// <summary>The app id OpenIM callbacks are stored under (default "openim").</summary>
    public const string OpenImAppId = "OpenIm:AppId";

    /// <summary>When set, the OpenIM callback URL is <c>/api/callbacks/openim/&lt;key&gt;</c> and any other key is refused.</summary>
    public const string OpenImCallbackKey = "OpenIm:CallbackKey";

    /// <summary>Largest callback body accepted, in bytes (default 1 MiB); larger ones get 413.</summary>
    public const string CallbacksMaxBodyBytes = "Callbacks:MaxBodyBytes";

    /// <summary>
    /// "true" lets the app start with a Tencent app that has no callback token or without an OpenIM callback key,
    /// accepting their callbacks unsigned (default false: startup stops with the setting named). For the one-command
    /// local run and tests only; never set it on a deployment.
    /// </summary>
    public const string CallbacksAllowUnsigned = "Callbacks:AllowUnsigned";

    /// <summary>Most pairs or items accepted in one callback (default 1000).</summary>
    public const string CallbacksMaxPairs = "Callbacks:MaxPairs";

    /// <summary>
    /// Storage for the tables (and, standalone, the queue): a connection string, or a section with
    /// <c>tableServiceUri</c>, <c>queueServiceUri</c>, <c>credential</c> ("managedidentity") and <c>clientId</c>.
    /// </summary>
    public const string RelationshipStorage = "RelationshipStorage";

    /// <summary>Name of the queue between ingestion and apply (Service Bus queue on Azure, Storage queue standalone).</summary>
    public const string RelationshipEventsQueue = "RelationshipEventsQueue";

    /// <summary>Standalone only: seconds a received queue message stays hidden while its batch is applied (default 120).</summary>
    public const string StandaloneQueueVisibilityTimeoutSeconds = "StandaloneQueue:VisibilityTimeoutSeconds";

    /// <summary>Standalone only: longest wait between polls of an empty queue, in milliseconds (default 1000).</summary>
    public const string StandaloneQueueMaxPollIntervalMilliseconds = "StandaloneQueue:MaxPollIntervalMilliseconds";

    /// <summary>
    /// Standalone only: milliseconds a callback's enqueue may take before the drain applies fewer batches at once, so
    /// that acknowledgement keeps its share of the storage account (default 100).
    /// </summary>
    public const string StandaloneQueueAcknowledgementLatencyTargetMilliseconds = "StandaloneQueue:AcknowledgementLatencyTargetMilliseconds";

    /// <summary>
    /// Standalone only: "false" makes an ingest-only instance that acknowledges and enqueues callbacks but applies
    /// nothing, so acknowledgement and apply can be scaled apart (default "true").
    /// </summary>
    public const string StandaloneQueueDrainEnabled = "StandaloneQueue:DrainEnabled";

    /// <summary>
    /// Every delivery: seconds one delivery keeps retrying a batch the store failed on, with backoff, before the message
    /// is redelivered (default 60; 0: one try). At most 240, inside the function timeout and the lock renewal; for the
    /// Storage queue at most half its visibility timeout (unset, it is cut to that).
    /// </summary>
    public const string RedeliveryRetryWithinDeliverySeconds = "Redelivery:RetryWithinDeliverySeconds";

    /// <summary>Every delivery: seconds before the first redelivery of a batch the store failed on; each next one waits twice as long (default 10).</summary>
    public const string RedeliveryFirstDelaySeconds = "Redelivery:FirstDelaySeconds";

    /// <summary>Every delivery: the longest wait between two redeliveries, in seconds (default 600).</summary>
    public const string RedeliveryMaxDelaySeconds = "Redelivery:MaxDelaySeconds";

    /// <summary>
    /// Every delivery: seconds after its first failure that a batch the store still fails on is parked in the
    /// dead-letter or poison queue (default 21600, 6 hours).
    /// </summary>
    public const string RedeliveryParkAfterSeconds = "Redelivery:ParkAfterSeconds";

    /// <summary>Standalone only: most connections served at once; more are closed at once (default 500).</summary>
    public const string HttpMaxConcurrentConnections = "Http:MaxConcurrentConnections";

    /// <summary>Standalone only: slowest request body accepted after a 5 s grace period, in bytes per second (default 4096).</summary>
    public const string HttpMinRequestBodyBytesPerSecond = "Http:MinRequestBodyBytesPerSecond";

    /// <summary>Standalone only: seconds a client has to send its request headers (default 10).</summary>
    public const string HttpRequestHeadersTimeoutSeconds = "Http:RequestHeadersTimeoutSeconds";

    /// <summary>Standalone only: seconds after which any request is ended, with 504 if nothing was answered yet (default 30).</summary>
    public const string HttpRequestTimeoutSeconds = "Http:RequestTimeoutSeconds";

    /// <summary>
    /// Service Bus connection, read the same way by the host's trigger and the handler's sender: a connection string, or
    /// a section with <c>fullyQualifiedNamespace</c>, <c>credential</c> and <c>clientId</c>. Required in Functions mode;
    /// standalone, setting it puts the queue on Service Bus instead of the Storage queue.
    /// </summary>
    public const string ServiceBusConnection = "ServiceBusConnection";

    /// <summary>Comma-separated keys accepted by the standalone query API (header <c>x-api-key</c>) for every app.</summary>
    public const string QueryApiKeys = "QueryApi:Keys";

    /// <summary>Section of app-scoped query keys: <c>QueryApi:AppKeys:&lt;appId&gt;</c> = comma-separated keys that read that app only.</summary>
    public const string QueryApiAppKeys = "QueryApi:AppKeys";

    /// <summary>Set by the Functions host: the loopback port the custom handler must listen on. Its presence means Functions mode.</summary>
    public const string FunctionsCustomHandlerPort = "FUNCTIONS_CUSTOMHANDLER_PORT";

    /// <summary>Standalone listening port (default 7071).</summary>
    public const string Port = "PORT";

    /// <summary>
    /// Benchmarks only (default false): <c>true</c> maps <c>POST /benchmark/baseline</c>, a bare endpoint that answers a
    /// fixed 200, so <c>bench/run</c> can compare the callback endpoints with the same server doing no work.
    /// </summary>
    public const string BenchmarkBaselineEndpoint = "Benchmark:BaselineEndpoint";

    /// <summary>
    /// Section of Tencent apps reconciled, one child per SdkAppid with <see cref="ReconciliationSecretKeyKey"/>,
    /// <see cref="ReconciliationAdminIdentifierKey"/> and <see cref="ReconciliationDomainKey"/>.
    /// </summary>
    public const string ReconciliationTencentApps = "Reconciliation:Tencent:Apps";

    /// <summary>Child of each reconciled Tencent app: the app's secret key from the Chat console (UserSigs are made from it).</summary>
    public const string ReconciliationSecretKeyKey = "SecretKey";

    /// <summary>Child of each reconciled Tencent app: the admin account the REST API is called as (default "administrator").</summary>
    public const string ReconciliationAdminIdentifierKey = "AdminIdentifier";

    /// <summary>Child of each reconciled Tencent app: the region's REST API domain (default console.tim.qq.com).</summary>
    public const string ReconciliationDomainKey = "Domain";

    /// <summary>The OpenIM API's base URL (for example http://openim-api:10002); empty: OpenIM is not reconciled.</summary>
    public const string ReconciliationOpenImApiUrl = "Reconciliation:OpenIm:ApiUrl";

    /// <summary>OpenIM's admin secret (<c>share.secret</c>), for <c>/auth/get_admin_token</c>.</summary>
    public const string ReconciliationOpenImSecret = "Reconciliation:OpenIm:Secret";

    /// <summary>OpenIM admin user id (default "imAdmin").</summary>
    public const string ReconciliationOpenImAdminUserId = "Reconciliation:OpenIm:AdminUserId";

    /// <summary>
    /// When the scheduled reconciliation runs: a six-field NCRONTAB expression with seconds (default "0 0 * * * *",
    /// hourly). One flat name, because the timer function's binding reads it as <c>%ReconciliationSchedule%</c>.
    /// </summary>
    public const string ReconciliationSchedule = "ReconciliationSchedule";

    /// <summary>Users reconciled per app per scheduled run (default 500).</summary>
    public const string ReconciliationUsersPerRun = "Reconciliation:UsersPerRun";

    /// <summary>Users reconciled at once (default 8).</summary>
    public const string ReconciliationConcurrency = "Reconciliation:Concurrency";

    /// <summary>The platform's admin API limit per app in calls per second (default 200); the client stays at 95 % of it.</summary>
    public const string ReconciliationCallsPerSecond = "Reconciliation:CallsPerSecond";

    /// <summary>Standalone only: "true" runs the scheduled reconciliation in the background (default "false").</summary>
    public const string ReconciliationStandaloneEnabled = "Reconciliation:StandaloneEnabled";
}
