using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace FunctionApp.Hosting;

/// <summary>Retry and timeout profile of a storage client.</summary>
public enum StorageClientProfile
{
    /// <summary>Applying batches and serving queries: retries with backoff, well inside the trigger's timeout.</summary>
    Apply,

    /// <summary>Acknowledging callbacks (the enqueue, the health probes): fails inside the 1 s enqueue deadline.</summary>
    Acknowledgement,
}

/// <summary>
/// The storage account of <see cref="AppSettingNames.RelationshipStorage"/> and its SDK clients, read the way the
/// Functions host reads a connection: the setting's value is a connection string, or its section holds
/// <c>tableServiceUri</c>, <c>queueServiceUri</c> (or <c>accountName</c>) and the credential keys (<c>credential</c>,
/// <c>clientId</c>, ...) that <see cref="AzureCredentials"/> turns into a <see cref="TokenCredential"/>, as the host
/// does. Every client shares that one credential (and its token cache); each
/// service has one client per <see cref="StorageClientProfile"/>, created on first use and kept for the process.
/// </summary>
public sealed class StorageClients
{
    /// <summary>
    /// The Queue service version sent. Azure.Storage.Queues 12.28 defaults to 2026-10-06, which Azurite 3.35 refuses
    /// ("API version not supported"); 2025-11-05 is the newest it accepts, and Azure serves it too.
    /// </summary>
    public const QueueClientOptions.ServiceVersion QueueServiceVersion = QueueClientOptions.ServiceVersion.V2025_11_05;

    private readonly string _setting;
    private readonly string? _connectionString;
    private readonly Uri? _tableServiceUri;
    private readonly Uri? _queueServiceUri;
    private readonly TokenCredential? _credential;
    private readonly Lazy<TableServiceClient>[] _tables;
    private readonly Lazy<QueueServiceClient>[] _queues;

    private StorageClients(string setting, string? connectionString, Uri? tableServiceUri, Uri? queueServiceUri, TokenCredential? credential)
    {
        _setting = setting;
        _connectionString = connectionString;
        _tableServiceUri = tableServiceUri;
        _queueServiceUri = queueServiceUri;
        _credential = credential;
        _tables = Enum.GetValues<StorageClientProfile>().Select(profile => new Lazy<TableServiceClient>(() => CreateTables(profile))).ToArray();
        _queues = Enum.GetValues<StorageClientProfile>().Select(profile => new Lazy<QueueServiceClient>(() => CreateQueues(profile))).ToArray();
    }

    /// <summary>Reads the setting <paramref name="name"/>; throws <see cref="InvalidOperationException"/> naming it when it is missing or unusable.</summary>
    /// <param name="credentialOverride">Used instead of the configured identity (tests, or a host that owns its credential).</param>
    public static StorageClients FromConfiguration(
        IConfiguration configuration,
        string name = AppSettingNames.RelationshipStorage,
        TokenCredential? credentialOverride = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(name);
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            return new StorageClients(name, section.Value.Trim(), null, null, null);
        }

        var accountName = section["accountName"];
        var tableServiceUri = ServiceUri(section, name, "tableServiceUri", accountName, "table");
        var queueServiceUri = ServiceUri(section, name, "queueServiceUri", accountName, "queue");
        if (tableServiceUri is null && queueServiceUri is null)
        {
            throw new InvalidOperationException(
                $"Setting '{name}' is missing: set it to a storage connection string, or set '{name}:tableServiceUri' and " +
                $"'{name}:queueServiceUri' (or '{name}:accountName') for a managed identity.");
        }

        var credential = credentialOverride ?? AzureCredentials.FromSection(section);
        return new StorageClients(name, null, tableServiceUri, queueServiceUri, credential);
    }

    /// <summary>Clients of the account a connection string names (benchmarks and tools).</summary>
    public static StorageClients FromConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new StorageClients("connection string", connectionString, null, null, null);
    }

    /// <summary>The credential of an identity-based setting (null for a connection string, which carries its key).</summary>
    internal TokenCredential? Credential => _credential;

    /// <summary>The Table service client of <paramref name="profile"/>; throws naming the setting when it has no table endpoint.</summary>
    public TableServiceClient GetTableServiceClient(StorageClientProfile profile = StorageClientProfile.Apply) => _tables[(int)profile].Value;

    /// <summary>The Queue service client of <paramref name="profile"/>; throws naming the setting when it has no queue endpoint.</summary>
    public QueueServiceClient GetQueueServiceClient(StorageClientProfile profile = StorageClientProfile.Apply) => _queues[(int)profile].Value;

    /// <summary>Table client options of a profile.</summary>
    public static TableClientOptions CreateTableOptions(StorageClientProfile profile) => WithProfile(new TableClientOptions(), profile);

    /// <summary>Queue client options of a profile, at <see cref="QueueServiceVersion"/>.</summary>
    public static QueueClientOptions CreateQueueOptions(StorageClientProfile profile) => WithProfile(new QueueClientOptions(QueueServiceVersion), profile);

    /// <summary>
    /// Apply: exponential retries (the SDK's defaults retry 408, 429, 500, 502, 503, 504 and network failures) from
    /// 200 ms up to 10 s, 5 times, 30 s per attempt: a batch rides out a short outage and still ends well inside the
    /// trigger's 5 minutes. Acknowledgement: 2 quick retries (100 ms, at most 250 ms) and 500 ms per attempt, so a
    /// storage outage fails the enqueue inside its 1 s deadline instead of waiting on a retry.
    /// </summary>
    private static T WithProfile<T>(T options, StorageClientProfile profile) where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        if (profile == StorageClientProfile.Acknowledgement)
        {
            options.Retry.MaxRetries = 2;
            options.Retry.Delay = TimeSpan.FromMilliseconds(100);
            options.Retry.MaxDelay = TimeSpan.FromMilliseconds(250);
            options.Retry.NetworkTimeout = TimeSpan.FromMilliseconds(500);
        }
        else
        {
            options.Retry.MaxRetries = 5;
            options.Retry.Delay = TimeSpan.FromMilliseconds(200);
            options.Retry.MaxDelay = TimeSpan.FromSeconds(10);
            options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        }

        // Logs carry method, path, status and timing, never bodies; the SDK redacts signatures and tokens.
        options.Diagnostics.IsLoggingContentEnabled = false;
        options.Diagnostics.ApplicationId = "relationship-callbacks";
        return options;
    }

    private TableServiceClient CreateTables(StorageClientProfile profile)
    {
        var options = CreateTableOptions(profile);
        return Create(_tableServiceUri, "table", cs => new TableServiceClient(cs, options), (uri, credential) => new TableServiceClient(uri, credential, options), c => c.Uri);
    }

    private QueueServiceClient CreateQueues(StorageClientProfile profile)
    {
        var options = CreateQueueOptions(profile);
        return Create(_queueServiceUri, "queue", cs => new QueueServiceClient(cs, options), (uri, credential) => new QueueServiceClient(uri, credential, options), c => c.Uri);
    }

    /// <summary>A service client from the connection string, else from the service's URI and the credential.</summary>
    private T Create<T>(Uri? serviceUri, string service, Func<string, T> fromConnectionString, Func<Uri, TokenCredential, T> fromIdentity, Func<T, Uri> endpoint)
    {
        if (_connectionString is not null)
        {
            return Checked(() => fromConnectionString(_connectionString), endpoint);
        }

        return serviceUri is null
            ? throw new InvalidOperationException($"Setting '{_setting}' names no {service} service: set '{_setting}:{service}ServiceUri' or '{_setting}:accountName'.")
            : fromIdentity(serviceUri, _credential!);
    }

    /// <summary>
    /// The SDK's connection-string parsers may quote a malformed part, which could be a key: their message is not passed
    /// on, nor the exception, so nothing of the value reaches a log.
    /// </summary>
    private T Checked<T>(Func<T> create, Func<T, Uri> endpoint)
    {
        T client;
        try
        {
            client = create();
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"Setting '{_setting}' is not a storage connection string the Azure SDK accepts ({ex.GetType().Name}): use " +
                "UseDevelopmentStorage=true, or AccountName and AccountKey with optional DefaultEndpointsProtocol, EndpointSuffix and service endpoints.");
        }

        return endpoint(client).Scheme is "https" or "http"
            ? client
            : throw new InvalidOperationException($"Setting '{_setting}': its endpoints must be http or https.");
    }

    private static Uri? ServiceUri(IConfigurationSection section, string name, string key, string? accountName, string service)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return string.IsNullOrWhiteSpace(accountName) ? null : new Uri($"https://{accountName.Trim()}.{service}.core.windows.net");
        }

        return Uri.TryCreate(value.Trim().TrimEnd('/'), UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            ? uri
            : throw new InvalidOperationException($"Setting '{name}:{key}' must be an absolute https URI (tokens are only sent over TLS).");
    }
}
