using Azure.Messaging.ServiceBus;
using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Protocols;
using FunctionApp.Storage.Relationships;
using Microsoft.Extensions.Options;

namespace FunctionApp.Hosting;

/// <summary>Registrations of the parts behind the Core interfaces, for the mode the process runs in.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// The callback ingestor (<see cref="ICallbackIngestor"/>), the body limit the hosts enforce, and the protocol
    /// configuration with its startup warnings. Batches are cut to what one message of the registered
    /// <see cref="IRelationshipEventQueue"/> holds (<see cref="IRelationshipEventQueue.MaxBatchJsonBytes"/>). A malformed
    /// setting stops startup with the setting named.
    /// </summary>
    public static IServiceCollection AddCallbackIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        var protocol = ProtocolConfiguration.Read(configuration);
        services.AddSingleton(protocol);
        services.AddSingleton(new CallbackBodyLimit(protocol.Options.Limits.MaxBodyBytes));
        services.AddSingleton<ICallbackIngestor>(provider => new CallbackIngestor(protocol.Options, provider.GetRequiredService<IRelationshipEventQueue>()));
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
        // Resolved through the container, so a replaced applier (tests) is the one every delivery uses.
        services.AddRedeliveryOptions(configuration);
        services.AddSingleton<IRelationshipBatchProcessor>(provider => new RelationshipBatchProcessor(
            provider.GetRequiredService<IRelationshipBatchApplier>(), provider.GetRequiredService<IOptions<RedeliveryOptions>>().Value,
            TimeProvider.System, provider.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IHealthProbe>(new TablesHealthProbe(fastTables.GetTableClient(ResourceNames.EdgesTable)));
        services.AddHostedService(provider => new RelationshipTablesStartup(store, mode, provider.GetRequiredService<ILoggerFactory>()));
        return services;
    }

    /// <summary>
    /// The queue between ingestion and apply. Functions mode: the Service Bus queue named by
    /// <c>RelationshipEventsQueue</c> on <c>ServiceBusConnection</c> (<see cref="AddServiceBusQueue"/>); the host's
    /// trigger drains it. Standalone with <c>ServiceBusConnection</c> set: the same queue and sender, drained by this
    /// process (<see cref="ServiceBusQueueDrain"/>). Standalone otherwise: the Storage queue of that name (<see cref="IRelationshipEventQueue"/>), its poison
    /// queue, both created at startup, the background drain and an <see cref="IHealthProbe"/> named "queue".
    /// </summary>
    public static IServiceCollection AddRelationshipQueue(this IServiceCollection services, IConfiguration configuration, HostingMode mode)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (mode == HostingMode.Functions)
        {
            return services.AddServiceBusQueue(configuration);
        }

        if (ServiceBusConnection.IsConfigured(configuration))
        {
            // Standalone on Service Bus: the same sender, and this process drains the queue itself.
            services.AddServiceBusQueue(configuration);
            if (StandaloneQueueSettings.DrainEnabled(configuration))
            {
                // The drain's own client, with the trigger's retries (ServiceBusClientProfile.Apply says why).
                var applyClient = ServiceBusConnection.CreateClient(configuration, profile: ServiceBusClientProfile.Apply);
                services.AddKeyedSingleton(ServiceBusClientProfile.Apply, (_, _) => applyClient);
                var serviceBusQueue = StandaloneQueueSettings.QueueName(configuration);
                services.AddHostedService(provider => new ServiceBusQueueDrain(
                    provider.GetRequiredKeyedService<ServiceBusClient>(ServiceBusClientProfile.Apply), serviceBusQueue,
                    provider.GetRequiredService<IRelationshipBatchProcessor>(), provider.GetRequiredService<IBatchRedeliveryScheduler>(),
                    new ServiceBusQueueDrainOptions(), provider.GetRequiredService<ILoggerFactory>()));
            }

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
            // A delivery's retries must end while its message is still hidden, or another receive applies it at the same
            // time: unless set, they are cut to half the visibility timeout; set longer, startup stops.
            services.PostConfigure<RedeliveryOptions>(options =>
            {
                if (string.IsNullOrWhiteSpace(configuration[AppSettingNames.RedeliveryRetryWithinDeliverySeconds]))
                {
                    options.RetryWithinDelivery = TimeSpan.FromTicks(Math.Min(options.RetryWithinDelivery.Ticks, drainOptions.VisibilityTimeout.Ticks / 2));
                }
            });
            services.AddOptions<RedeliveryOptions>().Validate(options => options.RetryWithinDelivery <= drainOptions.VisibilityTimeout / 2,
                $"{AppSettingNames.RedeliveryRetryWithinDeliverySeconds} must be at most half of {AppSettingNames.StandaloneQueueVisibilityTimeoutSeconds} " +
                $"({drainOptions.VisibilityTimeout.TotalSeconds / 2:0}).");
            services.AddHostedService(provider => new StorageQueueDrain(queue, poisonQueue,
                provider.GetRequiredService<IRelationshipBatchProcessor>(), drainOptions, latency, provider.GetRequiredService<ILoggerFactory>()));
        }

        return services;
    }

    /// <summary>
    /// The acknowledgement's <see cref="ServiceBusClient"/> on <c>ServiceBusConnection</c> (created at registration, so
    /// a malformed setting stops startup; disposed by the container on shutdown), the <see cref="ServiceBusEventQueue"/>
    /// on <c>RelationshipEventsQueue</c> as the <see cref="IRelationshipEventQueue"/>, its connection opened in the
    /// background at startup, and an <see cref="IHealthProbe"/> named "servicebus" on the same client.
    /// </summary>
    public static IServiceCollection AddServiceBusQueue(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        var client = ServiceBusConnection.CreateClient(configuration);
        var queueName = StandaloneQueueSettings.QueueName(configuration);
        services.AddSingleton(_ => client);
        // Resolved through the client, so whatever uses the queue makes the container own (and dispose) the client.
        services.AddSingleton(provider => new ServiceBusEventQueue(provider.GetRequiredService<ServiceBusClient>().CreateSender(queueName)));
        services.AddSingleton<IRelationshipEventQueue>(provider => provider.GetRequiredService<ServiceBusEventQueue>());
        services.AddSingleton<IBatchRedeliveryScheduler>(provider => provider.GetRequiredService<ServiceBusEventQueue>());
        services.AddHostedService(provider => new ServiceBusStartup(provider.GetRequiredService<ServiceBusEventQueue>(), provider.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IHealthProbe>(provider => new ServiceBusHealthProbe(provider.GetRequiredService<ServiceBusClient>().CreateReceiver(queueName)));
        return services;
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
