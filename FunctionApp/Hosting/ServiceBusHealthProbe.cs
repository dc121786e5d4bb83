using Azure.Messaging.ServiceBus;

namespace FunctionApp.Hosting;

/// <summary>
/// Health of the Service Bus queue: one peek past its last message, a round trip on the queue's management link that
/// returns no message, locks nothing and counts no delivery. On the acknowledgement's client, so an outage shows within
/// about a second (two tries of 400 ms) rather than after the trigger's minute.
/// </summary>
internal sealed class ServiceBusHealthProbe(ServiceBusReceiver receiver) : IHealthProbe
{
    public string Name => "servicebus";

    public Task CheckAsync(CancellationToken cancellationToken) =>
        receiver.PeekMessageAsync(fromSequenceNumber: long.MaxValue, cancellationToken);
}
