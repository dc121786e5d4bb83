using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Protocols;
using FunctionApp.Storage.Relationships;

namespace FunctionApp.Hosting;

/// <summary>Registrations of the parts behind the Core interfaces, for the mode the process runs in.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// The callback ingestor (<see cref="ICallbackIngestor"/>), the body limit the hosts enforce, and the protocol
    /// configuration with its startup warnings; batches are cut to fit the mode's queue (<see cref="MaxQueueMessageBytes"/>). A malformed setting stops startup with the setting named.
    /// </summary>
    public static IServiceCollection AddCallbackIngestion(this IServiceCollection services, IConfiguration configuration, HostingMode mode)
    {
        ArgumentNullException.ThrowIfNull(services);
        var protocol = ProtocolConfiguration.Read(configuration);
        protocol.Options.Limits.MaxMessageBytes = MaxQueueMessageBytes(mode, protocol.Options.Limits);
        services.AddSingleton(protocol);
        services.AddSingleton(new CallbackBodyLimit(protocol.Options.Limits.MaxBodyBytes));
        services.AddSingleton<ICallbackIngestor>(new CallbackIngestor(protocol.Options));
        return services;
    }

    /// <summary>
    /// The Table store: <see cref="IRelationshipBatchApplier"/>, <see cref="IRelationshipQueries"/> and an
    /// <see cref="IHealthProbe"/> named "tables", configured from <c>RelationshipStorage</c>. The tables are created
    /// at startup (standalone: before the app serves; Functions mode: in the background).
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>RelationshipStorage</c> is missing or malformed (the message names it).</exception>
    public static IServiceCollection AddRelationshipStore(this IServiceCollection services, IConfiguration configuration, HostingMode mode)
    {
        ArgumentNullException.ThrowIfNull(services);
        var clients = StorageClientsOf(services, configuration);
        var store = new TableRelationshipStore(clients.GetTableServiceClient());
        var fastTables = clients.GetTableServiceClient(StorageClientProfile.Acknowledgement);

        services.AddSingleton(store);
        services.AddSingleton<IRelationshipBatchApplier>(store);
        services.AddSingleton<IRelationshipQueries>(store);
        services.AddSingleton<IHealthProbe>(new TablesHealthProbe(fastTables.GetTableClient(ResourceNames.EdgesTable)));
        services.AddHostedService(provider => new RelationshipTablesStartup(store, mode, provider.GetRequiredService<ILoggerFactory>()));
        return services;
    }

    /// <summary>
    /// Standalone only: the Storage queue named by <c>RelationshipEventsQueue</c> (<see cref="IRelationshipEventQueue"/>),
    /// its poison queue, both created at startup, the background drain and an <see cref="IHealthProbe"/> named "queue".
    /// In Functions mode the host's Service Bus bindings are the queue, so nothing is registered.
    /// </summary>
    public static IServiceCollection AddRelationshipQueue(this IServiceCollection services, IConfiguration configuration, HostingMode mode)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (mode != HostingMode.Standalone)
        {
            return services;
        }

        var clients = StorageClientsOf(services, configuration);
        var queueName = StandaloneQueueSettings.QueueName(configuration);
        var drainOptions = StandaloneQueueSettings.ReadDrainOptions(configuration);
        var drainEnabled = StandaloneQueueSettings.DrainEnabled(configuration);

        // Two profiles of the Queue service client: an enqueue must fail inside the 1 s acknowledgement deadline (short
        // retries and network timeouts), while the drain's receives may wait on a busy account, because a receive given
        // up on still hides the messages it took for the whole visibility timeout.
        var acknowledgementQueue = clients.GetQueueServiceClient(StorageClientProfile.Acknowledgement).GetQueueClient(queueName);
        var drainQueues = clients.GetQueueServiceClient(StorageClientProfile.Apply);
        var queue = drainQueues.GetQueueClient(queueName);
        var poisonQueue = drainQueues.GetQueueClient(StorageQueueDrain.PoisonQueueName(queueName));
        var latency = new EnqueueLatencyMonitor(TimeProvider.System);

        services.AddSingleton(drainOptions);
        services.AddSingleton(latency);
        services.AddSingleton<IRelationshipEventQueue>(new StorageQueueEventQueue(acknowledgementQueue, latency));
        services.AddSingleton<IHealthProbe>(new QueueHealthProbe(acknowledgementQueue));
        services.AddHostedService(_ => new StandaloneQueueStartup(queue, poisonQueue));
        if (drainEnabled)
        {
            services.AddHostedService(provider => new StorageQueueDrain(queue, poisonQueue,
                provider.GetRequiredService<IRelationshipBatchApplier>(), drainOptions, latency, provider.GetRequiredService<ILoggerFactory>()));
        }

        return services;
    }

    /// <summary>
    /// Largest queue message the ingestor writes: Service Bus Standard takes 256 KB, so Functions mode keeps the
    /// protocol default; a Storage queue message holds 64 KiB of base64 text, so standalone batches are cut smaller.
    /// </summary>
    public static int MaxQueueMessageBytes(HostingMode mode, CallbackLimits defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        return mode == HostingMode.Standalone ? RelationshipQueueMessage.MaxBatchJsonBytes : defaults.MaxMessageBytes;
    }

    /// <summary>
    /// The storage clients of <c>RelationshipStorage</c>, read and registered once: the tables and the queue share its
    /// one credential, and each service has one client per profile in the process.
    /// </summary>
    public static StorageClients StorageClientsOf(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.LastOrDefault(d => d.ServiceType == typeof(StorageClients))?.ImplementationInstance is StorageClients registered)
        {
            return registered;
        }

        var clients = StorageClients.FromConfiguration(configuration);
        services.AddSingleton(clients);
        return clients;
    }
}
