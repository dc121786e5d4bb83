using Azure.Core;
using Azure.Messaging.ServiceBus;
using FunctionApp.Messaging;

namespace FunctionApp.Hosting;

/// <summary>
/// The process's <see cref="ServiceBusClient"/>s, from <see cref="AppSettingNames.ServiceBusConnection"/> read the way
/// the Functions trigger reads that connection: the setting's value is a connection string (the Service Bus emulator's,
/// with <c>UseDevelopmentEmulator=true</c>, or a namespace's shared key), or its section holds
/// <c>fullyQualifiedNamespace</c> with the identity keys (<c>credential</c>, <c>clientId</c>, ...) that
/// <see cref="AzureCredentials"/> turns into a credential, as the host does. One client per
/// <see cref="ServiceBusClientProfile"/>, registered so the container disposes it on shutdown.
/// </summary>
public static class ServiceBusConnection
{
    /// <summary>Whether the setting names a Service Bus namespace at all.</summary>
    public static bool IsConfigured(IConfiguration configuration, string name = AppSettingNames.ServiceBusConnection)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(name);
        return !string.IsNullOrWhiteSpace(section.Value) || !string.IsNullOrWhiteSpace(section[FullyQualifiedNamespaceKey]);
    }

    public const string FullyQualifiedNamespaceKey = "fullyQualifiedNamespace";

    /// <summary>
    /// The retries host.json gives the Functions trigger (<c>extensions.serviceBus.clientRetryOptions</c>), for the
    /// standalone drain and the re-drive command: a receive waits up to a minute for a message, and a lock renewal or a
    /// settlement rides out a slow minute instead of failing after the acknowledgement's 850 ms.
    /// </summary>
    public static ServiceBusRetryOptions ApplyRetryOptions() => new()
    {
        Mode = ServiceBusRetryMode.Exponential,
        MaxRetries = 3,
        Delay = TimeSpan.FromMilliseconds(800),
        MaxDelay = TimeSpan.FromSeconds(30),
        TryTimeout = TimeSpan.FromMinutes(1),
    };

    /// <summary>The client of the setting <paramref name="name"/>; throws <see cref="InvalidOperationException"/> naming it when it is missing or unusable.</summary>
    /// <param name="credentialOverride">Used instead of the configured identity (tests).</param>
    /// <param name="profile">Whose retries the client has.</param>
    public static ServiceBusClient CreateClient(
        IConfiguration configuration,
        string name = AppSettingNames.ServiceBusConnection,
        TokenCredential? credentialOverride = null,
        ServiceBusClientProfile profile = ServiceBusClientProfile.Acknowledgement)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(name);
        var options = new ServiceBusClientOptions
        {
            RetryOptions = profile == ServiceBusClientProfile.Acknowledgement
                ? ServiceBusEventQueue.AcknowledgementRetryOptions()
                : ApplyRetryOptions(),
            Identifier = profile == ServiceBusClientProfile.Acknowledgement ? "relationship-callbacks" : "relationship-callbacks-apply",
        };
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            try
            {
                return new ServiceBusClient(section.Value.Trim(), options);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                // The parser may quote the value, which holds a key: only the exception's type is passed on.
                throw new InvalidOperationException(
                    $"Setting '{name}' is not a Service Bus connection string the client accepts ({ex.GetType().Name}): use " +
                    "Endpoint=sb://<namespace>/;SharedAccessKeyName=..;SharedAccessKey=.. (with UseDevelopmentEmulator=true for the emulator), " +
                    $"or set '{name}:{FullyQualifiedNamespaceKey}' for a managed identity.");
            }
        }

        var fullyQualifiedNamespace = section[FullyQualifiedNamespaceKey]?.Trim();
        if (string.IsNullOrWhiteSpace(fullyQualifiedNamespace))
        {
            throw new InvalidOperationException(
                $"Setting '{name}' is missing: set it to a Service Bus connection string, or set '{name}:{FullyQualifiedNamespaceKey}' " +
                $"(with '{name}:credential' managedidentity and '{name}:clientId') for a managed identity.");
        }

        if (Uri.CheckHostName(fullyQualifiedNamespace) != UriHostNameType.Dns)
        {
            throw new InvalidOperationException(
                $"Setting '{name}:{FullyQualifiedNamespaceKey}' must be a host name such as contoso.servicebus.windows.net; it is '{fullyQualifiedNamespace}'.");
        }

        return new ServiceBusClient(fullyQualifiedNamespace, credentialOverride ?? AzureCredentials.FromSection(section), options);
    }
}

/// <summary>Which retries a <see cref="ServiceBusClient"/> has; the client options are per client, so each profile is its own client.</summary>
public enum ServiceBusClientProfile
{
    /// <summary>
    /// The callback's send and the health probe: a failure must show inside the 1 s acknowledgement deadline
    /// (<see cref="ServiceBusEventQueue.AcknowledgementRetryOptions"/>).
    /// </summary>
    Acknowledgement,

    /// <summary>
    /// The standalone drain's processor and the re-drive command (<see cref="ServiceBusConnection.ApplyRetryOptions"/>).
    /// Not the acknowledgement's retries: with a 400 ms try timeout the processor would poll an empty queue every
    /// 400 ms, and a lock renewal or the settlement of a batch applied for seconds would give up after 850 ms on a slow
    /// network, so the lock lapses and the whole batch is applied again.
    /// </summary>
    Apply,
}
