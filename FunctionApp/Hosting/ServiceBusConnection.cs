using Azure.Core;
using Azure.Messaging.ServiceBus;
using FunctionApp.Messaging;

namespace FunctionApp.Hosting;

/// <summary>
/// The one <see cref="ServiceBusClient"/> of the process, from <see cref="AppSettingNames.ServiceBusConnection"/> read
/// the way the Functions trigger reads that connection: the setting's value is a connection string (the Service Bus
/// emulator's, with <c>UseDevelopmentEmulator=true</c>, or a namespace's shared key), or its section holds
/// <c>fullyQualifiedNamespace</c> with the identity keys (<c>credential</c>, <c>clientId</c>, ...) that
/// <see cref="AzureCredentials"/> turns into a credential, as the host does. Its retries are the acknowledgement's
/// (<see cref="ServiceBusEventQueue.AcknowledgementRetryOptions"/>). Registered so the container disposes it on shutdown.
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

    /// <summary>The client of the setting <paramref name="name"/>; throws <see cref="InvalidOperationException"/> naming it when it is missing or unusable.</summary>
    /// <param name="credentialOverride">Used instead of the configured identity (tests).</param>
    public static ServiceBusClient CreateClient(
        IConfiguration configuration,
        string name = AppSettingNames.ServiceBusConnection,
        TokenCredential? credentialOverride = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(name);
        var options = new ServiceBusClientOptions
        {
            RetryOptions = ServiceBusEventQueue.AcknowledgementRetryOptions(),
            Identifier = "relationship-callbacks",
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
