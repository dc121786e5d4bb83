using Azure.Core;
using Azure.Core.Pipeline;

namespace FunctionApp.Storage.Http;

/// <summary>
/// Options of the storage clients: Azure.Core's retry (exponential; 408, 429, 500, 502, 503, 504 and network
/// failures), per-attempt timeout, transport and diagnostics, plus the service version and signing scheme.
/// </summary>
public sealed class StorageClientOptions : ClientOptions
{
    /// <summary>The storage REST version sent as <c>x-ms-version</c>; Azurite 3.35 accepts it.</summary>
    public const string DefaultServiceVersion = "2025-05-05";

    public StorageClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 5;
        Retry.Delay = TimeSpan.FromMilliseconds(200);
        Retry.MaxDelay = TimeSpan.FromSeconds(10);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        // Logs carry method, URI path, status and timing: no bodies, and Azure.Core redacts Authorization.
        Diagnostics.IsLoggingContentEnabled = false;
        Diagnostics.ApplicationId = "relationship-callbacks";
    }

    public string ServiceVersion { get; set; } = DefaultServiceVersion;

    /// <summary>SharedKey (default) or SharedKeyLite, when the account authenticates with its key.</summary>
    public SharedKeyScheme SharedKeyScheme { get; set; } = SharedKeyScheme.SharedKey;
}

/// <summary>Builds the HTTP pipeline the Table client (and the Queue client) send through.</summary>
public static class StoragePipeline
{
    public static HttpPipeline Create(StorageAccount account, StorageService service, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        options ??= new StorageClientOptions();
        HttpPipelinePolicy authentication = account.SharedKey is not null
            ? new StorageSharedKeyPolicy(account.SharedKey, service, options.SharedKeyScheme)
            : new BearerTokenAuthenticationPolicy(
                account.TokenCredential ?? throw new ArgumentException("The account has neither a key nor a credential.", nameof(account)),
                StorageAccountConfiguration.StorageScope);
        return HttpPipelineBuilder.Build(
            options,
            [new StorageVersionPolicy(options.ServiceVersion)],
            [authentication],
            new ResponseClassifier());
    }
}

/// <summary>
/// One storage service of an account: its pipeline and endpoint, shared by every client of its tables or queues.
/// </summary>
public sealed class StorageServiceConnection
{
    public StorageServiceConnection(StorageAccount account, StorageService service, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        Endpoint = account.GetServiceUri(service);
        Pipeline = StoragePipeline.Create(account, service, options);
    }

    public HttpPipeline Pipeline { get; }

    public Uri Endpoint { get; }

    /// <summary>A request to <paramref name="path"/> below the service endpoint; the path is sent as given (already escaped).</summary>
    public HttpMessage CreateMessage(RequestMethod method, string path)
    {
        var message = Pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(Endpoint);
        request.Uri.AppendPath("/", escape: false);
        request.Uri.AppendPath(path, escape: false);
        return message;
    }

    public ValueTask SendAsync(HttpMessage message, CancellationToken cancellationToken) => Pipeline.SendAsync(message, cancellationToken);
}

/// <summary>Sets <c>x-ms-version</c> on every request.</summary>
internal sealed class StorageVersionPolicy(string version) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message) => message.Request.Headers.SetValue("x-ms-version", version);
}
