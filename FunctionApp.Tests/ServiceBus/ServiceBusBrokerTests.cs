using Azure.Messaging.ServiceBus;

namespace FunctionApp.Tests.ServiceBus;

/// <summary>The real Azure.Messaging.ServiceBus client against the test broker, on the wire.</summary>
public sealed class ServiceBusBrokerTests(ServiceBusBrokerFixture fixture) : IClassFixture<ServiceBusBrokerFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_sent_message_is_received_with_its_properties_and_completed()
    {
        var queue = fixture.CreateQueue();
        await using var client = fixture.CreateClient();
        await using var sender = client.CreateSender(queue.Name);
        await using var receiver = client.CreateReceiver(queue.Name);

        var sent = new ServiceBusMessage("hello") { MessageId = "m-1", ContentType = "application/json", Subject = "greeting" };
        sent.ApplicationProperties["kind"] = "test";
        await sender.SendMessageAsync(sent);
        Assert.Equal("m-1", Assert.Single(queue.Messages()).MessageId);

        var received = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(received);
        Assert.Equal("hello", received.Body.ToString());
        Assert.Equal("m-1", received.MessageId);
        Assert.Equal("application/json", received.ContentType);
        Assert.Equal("greeting", received.Subject);
        Assert.Equal("test", received.ApplicationProperties["kind"]);
        Assert.Equal(1, received.DeliveryCount);
        Assert.Equal(1, received.SequenceNumber);
        Assert.True(received.LockedUntil > DateTimeOffset.UtcNow);
        Assert.True(received.EnqueuedTime > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal(1, queue.LockedMessageCount);

        await receiver.CompleteMessageAsync(received);

        Assert.Equal(0, queue.ActiveMessageCount);
        Assert.Equal(1, queue.CompletedCount);
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(300)));
    }
}
