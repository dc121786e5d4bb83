using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using FunctionApp.Protocols;
using FunctionApp.Tests.Protocols;
using FunctionApp.Tests.ServiceBus;
using Microsoft.Extensions.Configuration;
using ServiceBusTestBroker;

namespace FunctionApp.Tests.Messaging;

/// <summary>
/// <see cref="ServiceBusEventQueue"/> with the client the app builds from its <c>ServiceBusConnection</c> setting,
/// sending to the test broker on the wire.
/// </summary>
public sealed class ServiceBusEventQueueTests(ServiceBusBrokerFixture fixture) : IClassFixture<ServiceBusBrokerFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    /// <summary>The acknowledgement deadline plus what a loaded test machine may add to a timer.</summary>
    private static readonly TimeSpan FailureAnswerBound = ServiceBusEventQueue.MaxEnqueueTime + TimeSpan.FromMilliseconds(250);

    [Fact]
    public async Task Each_part_is_one_message_with_batch_id_and_part_as_its_message_id_and_the_batch_json_as_body()
    {
        var queue = fixture.CreateQueue();
        await using var client = AppClient(fixture.Broker);
        var events = new ServiceBusEventQueue(client.CreateSender(queue.Name));
        var batches = Split(Ingest(40), maxBatchJsonBytes: 2048);
        Assert.True(batches.Count >= 3);

        await events.EnqueueAsync(batches, CancellationToken.None);

        await using var receiver = client.CreateReceiver(queue.Name);
        var received = await receiver.ReceiveMessagesAsync(batches.Count, Wait);
        while (received.Count < batches.Count)
        {
            received = [.. received, .. await receiver.ReceiveMessagesAsync(batches.Count - received.Count, Wait)];
        }

        Assert.Equal(batches.Select(b => $"{b.BatchId}-{b.Part}"), received.Select(m => m.MessageId).Order(StringComparer.Ordinal));
        Assert.All(received, m => Assert.Equal("application/json", m.ContentType));
        var decoded = received.Select(m => RelationshipBatchJson.Deserialize(m.Body.ToArray())).OrderBy(b => b.Part).ToList();
        Assert.Equal(batches.SelectMany(b => b.Events).Select(e => e.EventId), decoded.SelectMany(b => b.Events).Select(e => e.EventId));
        Assert.Equal(batches.Count, queue.TotalSent);
    }

    [Fact]
    public async Task A_one_part_callback_is_sent_as_one_message_with_the_same_id_and_body()
    {
        var queue = fixture.CreateQueue();
        await using var client = AppClient(fixture.Broker);
        var events = new ServiceBusEventQueue(client.CreateSender(queue.Name));
        var batch = Assert.Single(Split(Ingest(3), maxBatchJsonBytes: 64 * 1024));

        await events.EnqueueAsync([batch], CancellationToken.None);

        await using var receiver = client.CreateReceiver(queue.Name);
        var message = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(message);
        Assert.Equal(($"{batch.BatchId}-1", "application/json"), (message.MessageId, message.ContentType));
        Assert.Equal(batch.Events.Select(e => e.EventId), RelationshipBatchJson.Deserialize(message.Body.ToArray()).Events.Select(e => e.EventId));
        Assert.Equal(1, queue.TotalSent);
    }

    [Fact]
    public async Task A_thousand_pair_callback_is_cut_to_the_entity_message_size_the_link_reports()
    {
        var queue = fixture.CreateQueue();
        await using var client = AppClient(fixture.Broker);
        var events = new ServiceBusEventQueue(client.CreateSender(queue.Name));
        await events.ConnectAsync(CancellationToken.None);
        Assert.Equal(ServiceBusBroker.DefaultMaxMessageSize - ServiceBusEventQueue.MessageOverheadBytes, events.MaxBatchJsonBytes);

        var result = Ingestor(events).Ingest(CallbackFactory.Tencent("Sns.CallbackFriendAdd", HostileBodyTests.PairList(1000, idLength: 128)));
        // README "Queue message", Splitting: 3 messages on Standard.
        Assert.Equal(3, result.Batches.Count);
        await events.EnqueueAsync(result.Batches, CancellationToken.None);

        var stored = queue.Messages();
        Assert.Equal(result.Batches.Count, stored.Count);
        Assert.All(stored, m => Assert.InRange(m.Body.Length, 1, events.MaxBatchJsonBytes));
        // Nearly full parts: the cut follows the entity's size, not a smaller constant.
        Assert.All(stored.SkipLast(1), m => Assert.True(m.Body.Length > events.MaxBatchJsonBytes * 0.9, $"{m.Body.Length} bytes"));
        var parts = stored.Select(m => RelationshipBatchJson.Deserialize(m.Body)).OrderBy(b => b.Part).ToList();
        Assert.Equal(1000, parts.Sum(p => p.Events.Count));
        Assert.All(parts, p => Assert.Equal(parts.Count, p.PartCount));
    }

    [Fact]
    public async Task A_smaller_entity_limit_gives_more_and_smaller_parts()
    {
        await using var small = ServiceBusBroker.Start(maxMessageSize: 64 * 1024);
        var queue = small.CreateQueue("small", maxDeliveryCount: 10, lockDuration: null, duplicateDetectionWindow: null);
        await using var client = AppClient(small);
        var events = new ServiceBusEventQueue(client.CreateSender(queue.Name));
        await events.ConnectAsync(CancellationToken.None);
        Assert.Equal((64 * 1024) - ServiceBusEventQueue.MessageOverheadBytes, events.MaxBatchJsonBytes);

        var result = Ingestor(events).Ingest(CallbackFactory.Tencent("Sns.CallbackFriendAdd", HostileBodyTests.PairList(1000, idLength: 128)));
        Assert.True(result.Batches.Count >= 6, $"{result.Batches.Count} parts");
        await events.EnqueueAsync(result.Batches, CancellationToken.None);

        Assert.Equal(result.Batches.Count, queue.Messages().Count);
        Assert.All(queue.Messages(), m => Assert.True(m.Body.Length <= 64 * 1024));
    }

    [Fact]
    public async Task A_callback_sent_again_is_dropped_by_duplicate_detection()
    {
        var queue = fixture.CreateQueue(duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        await using var client = AppClient(fixture.Broker);
        var events = new ServiceBusEventQueue(client.CreateSender(queue.Name));
        var callback = CallbackFactory.Tencent("Sns.CallbackFriendAdd", HostileBodyTests.PairList(600, idLength: 128));

        var first = Ingestor(events).Ingest(callback);
        await events.EnqueueAsync(first.Batches, CancellationToken.None);
        // The platform's retry: the same delivery ingested again gives the same ids.
        var again = Ingestor(events).Ingest(callback);
        await events.EnqueueAsync(again.Batches, CancellationToken.None);

        Assert.True(first.Batches.Count >= 2);
        Assert.Equal(first.Batches.Count, queue.ActiveMessageCount);
        Assert.Equal(first.Batches.Count, queue.DuplicatesDropped);
    }

    [Theory]
    [InlineData(BrokerAvailability.Refusing)]
    [InlineData(BrokerAvailability.Stalled)]
    public async Task An_outage_fails_the_enqueue_inside_the_acknowledgement_deadline_and_stores_nothing(BrokerAvailability outage)
    {
        await using var broker = ServiceBusBroker.Start();
        var queue = broker.CreateQueue("events", maxDeliveryCount: 10, lockDuration: null, duplicateDetectionWindow: TimeSpan.FromMinutes(10));
        await using var client = AppClient(broker);
        var events = new ServiceBusEventQueue(client.CreateSender(queue.Name));
        await events.ConnectAsync(CancellationToken.None);
        var batches = Split(Ingest(5), maxBatchJsonBytes: events.MaxBatchJsonBytes);

        broker.SetAvailability(outage);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var clock = Stopwatch.StartNew();
            var failure = await Record.ExceptionAsync(() => events.EnqueueAsync(batches, CancellationToken.None));
            clock.Stop();
            Assert.NotNull(failure);
            Assert.True(clock.Elapsed < FailureAnswerBound, $"{outage}: failed after {clock.ElapsedMilliseconds} ms ({failure.GetType().Name})");
        }

        Assert.Equal(0, queue.TotalSent);

        broker.SetAvailability(BrokerAvailability.Online);
        await RetryUntilSentAsync(events, batches);
        Assert.Equal(batches.Count, queue.ActiveMessageCount);
    }

    private static async Task RetryUntilSentAsync(ServiceBusEventQueue events, IReadOnlyList<RelationshipBatch> batches)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await events.EnqueueAsync(batches, CancellationToken.None);
                return;
            }
            catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(15))
            {
                // The client reconnects after the outage; the platform would retry the same way.
                await Task.Delay(100);
            }
        }
    }

    private static ServiceBusClient AppClient(ServiceBusBroker broker) =>
        ServiceBusConnection.CreateClient(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [AppSettingNames.ServiceBusConnection] = broker.ConnectionString })
            .Build());

    private static CallbackIngestor Ingestor(IRelationshipEventQueue queue) =>
        new(new ProtocolOptions { Tencent = { Apps = { [CallbackFactory.UnsignedApp] = "" } } }, queue);

    private static IReadOnlyList<RelationshipEvent> Ingest(int pairs) =>
        CallbackFactory.AllEvents(CallbackFactory.Ingestor().Ingest(CallbackFactory.Tencent("Sns.CallbackFriendAdd", HostileBodyTests.PairList(pairs))));

    private static IReadOnlyList<RelationshipBatch> Split(IReadOnlyList<RelationshipEvent> events, int maxBatchJsonBytes)
    {
        var source = new CallbackSource("tencent", CallbackFactory.UnsignedApp, "Sns.CallbackFriendAdd", null, null, null, CallbackFactory.ReceivedAt, null);
        return BatchSplitter.Split("b" + Guid.NewGuid().ToString("N"), source, events, maxBatchJsonBytes);
    }
}
