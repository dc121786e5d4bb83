using Azure.Messaging.ServiceBus;
using ServiceBusTestBroker;

namespace FunctionApp.Tests.ServiceBus;

/// <summary>One test broker per test class, on a free port; each test makes its own queue.</summary>
public sealed class ServiceBusBrokerFixture : IAsyncLifetime
{
    private ServiceBusBroker? _broker;

    public ServiceBusBroker Broker => _broker ?? throw new InvalidOperationException("The broker has not started.");

    /// <summary>Retries short enough that a failing test fails in seconds, not minutes.</summary>
    public ServiceBusClient CreateClient(TimeSpan? tryTimeout = null, int maxRetries = 2) =>
        new(Broker.ConnectionString, new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions
            {
                Mode = ServiceBusRetryMode.Fixed,
                TryTimeout = tryTimeout ?? TimeSpan.FromSeconds(5),
                MaxRetries = maxRetries,
                Delay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromMilliseconds(200),
            },
        });

    public BrokerQueue CreateQueue(int maxDeliveryCount = 10, TimeSpan? lockDuration = null, TimeSpan? duplicateDetectionWindow = null) =>
        Broker.CreateQueue("q-" + Guid.NewGuid().ToString("N")[..12], maxDeliveryCount, lockDuration, duplicateDetectionWindow);

    /// <summary>A new queue with a client, a sender and a peek-lock receiver on it.</summary>
    public QueueClients OpenQueue(int maxDeliveryCount = 10, TimeSpan? lockDuration = null, TimeSpan? duplicateDetectionWindow = null) =>
        new(CreateQueue(maxDeliveryCount, lockDuration, duplicateDetectionWindow), CreateClient());

    public Task InitializeAsync()
    {
        _broker = ServiceBusBroker.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }
}

/// <summary>A queue and the client objects a test uses on it; disposing the client closes the rest.</summary>
public sealed class QueueClients : IAsyncDisposable
{
    public QueueClients(BrokerQueue queue, ServiceBusClient client)
    {
        Queue = queue;
        Client = client;
        Sender = client.CreateSender(queue.Name);
        Receiver = client.CreateReceiver(queue.Name);
    }

    public BrokerQueue Queue { get; }
    public ServiceBusClient Client { get; }
    public ServiceBusSender Sender { get; }
    public ServiceBusReceiver Receiver { get; }

    public ValueTask DisposeAsync() => Client.DisposeAsync();
}
