using Azure.Messaging.ServiceBus;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using ServiceBusTestBroker;

namespace FunctionApp.Tests.Messaging;

/// <summary>
/// Redelivery on Service Bus with the real client against the test broker: the scheduled copies' ids and duplicate
/// detection, and the standalone drain settling a batch the store fails on by a copy rather than by an abandon.
/// </summary>
public sealed class ServiceBusRedeliveryTests(ServiceBusBrokerFixture fixture) : IClassFixture<ServiceBusBrokerFixture>
{
    private static ServiceBusClient AppClient(ServiceBusBroker broker) =>
        ServiceBusConnection.CreateClient(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [AppSettingNames.ServiceBusConnection] = broker.ConnectionString })
            .Build());

    [Fact]
    public async Task A_copy_reusing_the_original_id_would_be_dropped_so_each_generation_has_its_own_and_a_repeated_one_is_dropped_once()
    {
        // Duplicate detection applies to scheduled messages as to any other send (the test broker does as Service Bus does).
        var queue = fixture.CreateQueue(duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        await using var client = AppClient(fixture.Broker);
        var events = new ServiceBusEventQueue(client.CreateSender(queue.Name));
        // The connection first, as the app opens it at startup: a cold one does not fit the enqueue's 1 s deadline under load.
        await events.ConnectAsync(CancellationToken.None);
        var batch = Samples.Batch("b-copy");
        await events.EnqueueAsync([batch], CancellationToken.None);

        await using (var sender = client.CreateSender(queue.Name))
        {
            await sender.SendMessageAsync(new ServiceBusMessage(RelationshipBatchJson.Serialize(batch))
            {
                MessageId = "b-copy-1",
                ScheduledEnqueueTime = DateTimeOffset.UtcNow.AddSeconds(30),
            });
        }

        Assert.Equal(1, queue.DuplicatesDropped);

        var json = RelationshipBatchJson.Serialize(batch);
        var first = new Redelivery(TimeSpan.FromSeconds(30), new RedeliveryState(1, DateTimeOffset.UtcNow));
        await events.ScheduleAsync(json, "b-copy-1", first, CancellationToken.None);
        await events.ScheduleAsync(json, "b-copy-1", first, CancellationToken.None);
        await events.ScheduleAsync(json, "b-copy-1", first with { Next = first.Next with { Generation = 2 } }, CancellationToken.None);

        Assert.Equal(2, queue.DuplicatesDropped);
        Assert.Equal(2, queue.ScheduledMessageCount);
        Assert.Equal(["b-copy-1", "b-copy-1-r1", "b-copy-1-r2"], queue.Messages().Select(m => m.MessageId));
    }

    [Fact]
    public async Task The_drain_redelivers_a_batch_the_store_fails_on_after_growing_delays_and_never_dead_letters_it()
    {
        var queue = fixture.CreateQueue(maxDeliveryCount: 2, duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        await using var client = AppClient(fixture.Broker);
        var events = new ServiceBusEventQueue(client.CreateSender(queue.Name));
        // The connection first, as the app opens it at startup: a cold one does not fit the enqueue's 1 s deadline under load.
        await events.ConnectAsync(CancellationToken.None);
        // Fails four deliveries, twice the queue's max delivery count: abandons would have dead-lettered it.
        var applier = new RecordingBatchApplier { FailWith = new IOException("the store is down"), FailuresLeft = 4 };
        var options = new RedeliveryOptions { RetryWithinDelivery = TimeSpan.Zero, FirstDelay = TimeSpan.FromSeconds(0.5), MaxDelay = TimeSpan.FromSeconds(1) };
        await using var drain = new ServiceBusQueueDrain(client, queue.Name, TestProcessors.Of(applier, options), events, new ServiceBusQueueDrainOptions(),
            NullLoggerFactory.Instance);
        await events.EnqueueAsync([Samples.Batch("b-down")], CancellationToken.None);

        await drain.StartAsync(CancellationToken.None);
        try
        {
            await EventuallyAppliedAsync(applier);
        }
        finally
        {
            await drain.StopAsync(CancellationToken.None);
        }

        Assert.Equal(5, applier.Calls);
        Assert.Equal("b-down", Assert.Single(applier.Applied).BatchId);
        await queue.WaitUntilAsync(q => q.CompletedCount == 5 && q.ActiveMessageCount == 0 && q.ScheduledMessageCount == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, queue.DeadLetterMessageCount);
        Assert.Equal(0, queue.DuplicatesDropped);
        Assert.Equal(5, queue.TotalSent);
    }

    [Fact]
    public async Task The_drain_dead_letters_a_batch_failing_for_the_whole_retry_period_with_the_last_failure()
    {
        var queue = fixture.CreateQueue(maxDeliveryCount: 10);
        await using var client = AppClient(fixture.Broker);
        var events = new ServiceBusEventQueue(client.CreateSender(queue.Name));
        // The connection first, as the app opens it at startup: a cold one does not fit the enqueue's 1 s deadline under load.
        await events.ConnectAsync(CancellationToken.None);
        var applier = new RecordingBatchApplier { FailWith = new IOException("the store is down") };
        var options = new RedeliveryOptions { RetryWithinDelivery = TimeSpan.Zero, FirstDelay = TimeSpan.FromSeconds(0.5), ParkAfter = TimeSpan.FromSeconds(1) };
        await using var drain = new ServiceBusQueueDrain(client, queue.Name, TestProcessors.Of(applier, options), events, new ServiceBusQueueDrainOptions(),
            NullLoggerFactory.Instance);
        await events.EnqueueAsync([Samples.Batch("b-gone")], CancellationToken.None);

        await drain.StartAsync(CancellationToken.None);
        try
        {
            await queue.WaitUntilAsync(q => q.DeadLetterMessageCount == 1, TimeSpan.FromSeconds(20));
        }
        finally
        {
            await drain.StopAsync(CancellationToken.None);
        }

        var dead = Assert.Single(queue.DeadLetterMessages());
        Assert.Equal(ServiceBusQueueDrain.RetryPeriodExceededReason, dead.DeadLetterReason);
        Assert.StartsWith("b-gone-1-r", dead.MessageId, StringComparison.Ordinal);
        Assert.Contains("last: IOException: the store is down", dead.DeadLetterDescription, StringComparison.Ordinal);
        Assert.Equal("b-gone", RelationshipBatchJson.Deserialize(dead.Body).BatchId);
    }

    private static async Task EventuallyAppliedAsync(RecordingBatchApplier applier)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (applier.Applied.IsEmpty)
        {
            Assert.True(DateTime.UtcNow < deadline, $"not applied after {applier.Calls} tries");
            await Task.Delay(50);
        }
    }
}
