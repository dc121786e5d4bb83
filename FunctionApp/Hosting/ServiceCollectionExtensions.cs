using FunctionApp.Core;
using FunctionApp.Protocols;
using FunctionApp.Storage.Http;
using FunctionApp.Storage.Queues;
using FunctionApp.Storage.Relationships;
using FunctionApp.Storage.Tables;

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
        var account = StorageAccountOf(services, configuration);
        var tables = ForSetting(() => new TableServiceClient(account));
        var fastTables = new TableServiceClient(account, StorageQueueEventQueue.AcknowledgementOptions());
        var store = new TableRelationshipStore(tables);

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

        var account = StorageAccountOf(services, configuration);
        var queueName = QueueName(configuration);
        var drainOptions = StandaloneQueueDrainOptions.Read(configuration);
        var queues = ForSetting(() => new QueueServiceClient(account));
        var acknowledgementQueues = new QueueServiceClient(account, StorageQueueEventQueue.AcknowledgementOptions());
        var queue = queues.GetQueueClient(queueName);
        var poisonQueue = queues.GetQueueClient(StandaloneQueueDrain.PoisonQueueName(queueName));
        var acknowledgementQueue = acknowledgementQueues.GetQueueClient(queueName);

        services.AddSingleton(drainOptions);
        services.AddSingleton<IRelationshipEventQueue>(new StorageQueueEventQueue(acknowledgementQueue));
        services.AddSingleton<IHealthProbe>(new QueueHealthProbe(acknowledgementQueue));
        services.AddHostedService(_ => new StandaloneQueueStartup(queue, poisonQueue));
        if (DrainEnabled(configuration))
        {
            services.AddHostedService(provider => new StandaloneQueueDrain(queue, poisonQueue,
                provider.GetRequiredService<IRelationshipBatchApplier>(), drainOptions, provider.GetRequiredService<ILoggerFactory>()));
        }

        return services;
    }

    /// <summary>Whether this standalone instance applies queued batches; a value other than true or false stops startup.</summary>
    internal static bool DrainEnabled(IConfiguration configuration) =>
        SettingValues.Bool(configuration, AppSettingNames.StandaloneQueueDrainEnabled, fallback: true);

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
    /// The account of <c>RelationshipStorage</c>, read and registered once: the tables and the queue share it, and so
    /// one credential and its token cache.
    /// </summary>
    private static StorageAccount StorageAccountOf(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.LastOrDefault(d => d.ServiceType == typeof(StorageAccount))?.ImplementationInstance is StorageAccount registered)
        {
            return registered;
        }

        var account = StorageAccountConfiguration.FromConfiguration(configuration);
        services.AddSingleton(account);
        return account;
    }

    /// <summary>Names the setting when the configured account lacks what a client needs (a queue endpoint, say).</summary>
    private static T ForSetting<T>(Func<T> create)
    {
        try
        {
            return create();
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"Setting '{AppSettingNames.RelationshipStorage}': {ex.Message}", ex);
        }
    }

    /// <summary>Storage queue names: 3-63 lower-case letters, digits and single hyphens; the poison queue adds a suffix.</summary>
    private static string QueueName(IConfiguration configuration)
    {
        var name = configuration[AppSettingNames.RelationshipEventsQueue];
        name = string.IsNullOrWhiteSpace(name) ? ResourceNames.DefaultRelationshipEventsQueue : name.Trim();
        var maxLength = 63 - StandaloneQueueDrain.PoisonQueueSuffix.Length;
        var valid = name.Length >= 3 && name.Length <= maxLength
                    && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
                    && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
                    && !name.Contains("--", StringComparison.Ordinal);
        return valid
            ? name
            : throw new InvalidOperationException(
                $"Setting '{AppSettingNames.RelationshipEventsQueue}' must be a Storage queue name of 3 to {maxLength} lower-case letters, digits and single hyphens; it is '{name}'.");
    }
}
