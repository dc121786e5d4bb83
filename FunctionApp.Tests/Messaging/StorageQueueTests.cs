using System.Diagnostics;
using System.Text;
using Azure;
using Azure.Storage.Queues;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.Messaging;

/// <summary>The standalone queue on Azure.Storage.Queues against Azurite: the adapter, the message format and the drain.</summary>
[Collection(AzuriteCollection.Name)]
public class StorageQueueTests(AzuriteFixture azurite)
{
    /// <summary>
    /// A message as the hand-written queue client of earlier versions put it: base64 of the batch JSON (the README's
    /// example). Messages left on a queue by those versions must still be applied.
    /// </summary>
    private const string EarlierVersionMessage =
        "eyJzY2hlbWFWZXJzaW9uIjoxLCJiYXRjaElkIjoiNWIwYzZhMGYyZjhlNGMxZDlhN2IzZTJkMWMwZjllOGEiLCJwYXJ0IjoxLCJwYXJ0Q291bnQiOjEsInNvdXJjZSI6eyJwbGF0Zm9ybSI6"
        + "InRlbmNlbnQiLCJhcHBJZCI6IjE0MDAwMDAwMDEiLCJjb21tYW5kIjoiU25zLkNhbGxiYWNrRnJpZW5kQWRkIiwiY2xpZW50SXAiOiIxMC4wLjAuNyIsIm9wdFBsYXRmb3JtIjoiaU9TIiwi"
        + "c291cmNlVGltZSI6IjIwMjMtMTItMDFUMDU6MjE6NTIrMDA6MDAiLCJyZWNlaXZlZEF0IjoiMjAyMy0xMi0wMVQwNToyMTo1Mi4zNDUrMDA6MDAifSwiZXZlbnRzIjpbeyJldmVudElkIjoi"
        + "OWUxZjBhMmIzYzRkNWU2ZjcwODE5MmEzYjRjNWQ2ZTciLCJraW5kIjoiZnJpZW5kIiwiYWN0aW9uIjoiYWRkZWQiLCJvd25lciI6ImlkIiwicGVlciI6ImlkMSIsIm9jY3VycmVkQXQiOiIy"
        + "MDIzLTEyLTAxVDA1OjIxOjUyKzAwOjAwIiwiYXR0cmlidXRlcyI6eyJpbml0aWF0b3IiOiJpZCIsImNsaWVudENtZCI6ImZyaWVuZF9hZGQiLCJmb3JjZUZsYWciOiIxIn19XX0=";

    private async Task<QueueClient> NewQueueAsync(string prefix = "q")
    {
        var queue = azurite.Queue(NewName(prefix));
        await queue.CreateIfNotExistsAsync();
        return queue;
    }

    private async Task<(QueueClient Queue, QueueClient Poison)> NewQueueWithPoisonQueueAsync()
    {
        var queue = await NewQueueAsync();
        var poison = azurite.Queue(StorageQueueDrain.PoisonQueueName(queue.Name));
        await poison.CreateIfNotExistsAsync();
        return (queue, poison);
    }

    private static RelationshipBatch Batch(string batchId, params string[] peers) =>
        new(RelationshipBatch.CurrentSchemaVersion, batchId, 1, 1,
            new CallbackSource("tencent", "1400000001", "Sns.CallbackFriendAdd", "10.0.0.7", "iOS", null, DateTimeOffset.UtcNow, null),
            [.. peers.Select(peer => new RelationshipEvent($"{batchId}-{peer}", RelationshipKind.Friend, RelationshipAction.Added, "alice", peer,
                DateTimeOffset.UtcNow, new Dictionary<string, string>()))]);

    [Fact]
    public async Task An_enqueued_batch_is_base64_of_its_json_never_expires_and_its_latency_is_recorded()
    {
        var queue = await NewQueueAsync();
        var latency = new EnqueueLatencyMonitor(TimeProvider.System);
        var batch = Batch("b-format", "bob", "carol");

        await new StorageQueueEventQueue(queue, latency).EnqueueAsync([batch], CancellationToken.None);

        var peeked = Assert.Single((await queue.PeekMessagesAsync(32)).Value);
        var text = peeked.Body.ToString();
        Assert.Equal(RelationshipBatchJson.Serialize(batch), Convert.FromBase64String(text));
        Assert.Equal("b-format", RelationshipQueueMessage.Decode(text).BatchId);
        Assert.True(peeked.ExpiresOn > DateTimeOffset.UtcNow.AddYears(100), $"expires on {peeked.ExpiresOn}");
        var window = latency.TakeWindow();
        Assert.Equal((1, 0), (window.Enqueues, window.Failed));
        Assert.True(window.Slowest > TimeSpan.Zero);
    }

    [Fact]
    public void A_message_of_an_earlier_version_decodes_to_the_same_batch()
    {
        var batch = RelationshipQueueMessage.Decode(EarlierVersionMessage);

        Assert.Equal(("5b0c6a0f2f8e4c1d9a7b3e2d1c0f9e8a", 1, 1), (batch.BatchId, batch.Part, batch.PartCount));
        Assert.Equal(("tencent", "1400000001", "Sns.CallbackFriendAdd", "10.0.0.7", "iOS"),
            (batch.Source.Platform, batch.Source.AppId, batch.Source.Command, batch.Source.ClientIp, batch.Source.OptPlatform));
        var item = Assert.Single(batch.Events);
        Assert.Equal(("9e1f0a2b3c4d5e6f708192a3b4c5d6e7", RelationshipKind.Friend, RelationshipAction.Added, "id", "id1"),
            (item.EventId, item.Kind, item.Action, item.Owner, item.Peer));
        Assert.Equal("friend_add", item.Attributes["clientCmd"]);
        // The codec writes the same text again: the format did not move.
        Assert.Equal(Encoding.UTF8.GetString(Convert.FromBase64String(EarlierVersionMessage)),
            Encoding.UTF8.GetString(Convert.FromBase64String(RelationshipQueueMessage.Encode(batch))));
    }

    [Fact]
    public async Task The_drain_applies_a_message_an_earlier_version_left_on_the_queue_and_deletes_it()
    {
        var (queue, poison) = await NewQueueWithPoisonQueueAsync();
        await queue.SendMessageAsync(EarlierVersionMessage);
        var applier = new RecordingBatchApplier();

        using (var drain = new StorageQueueDrain(queue, poison, TestProcessors.Of(applier), new StorageQueueDrainOptions(), new EnqueueLatencyMonitor(TimeProvider.System), NullLoggerFactory.Instance))
        {
            await drain.StartAsync(CancellationToken.None);
            await EventuallyAsync("the message applied", () => Task.FromResult(!applier.Applied.IsEmpty));
            await EventuallyAsync("the message deleted", async () => await queue.ApproximateCountAsync() == 0);
            await drain.StopAsync(CancellationToken.None);
        }

        var applied = Assert.Single(applier.Applied);
        Assert.Equal("5b0c6a0f2f8e4c1d9a7b3e2d1c0f9e8a", applied.BatchId);
        Assert.Equal(0, await poison.ApproximateCountAsync());
    }

    [Fact]
    public async Task A_received_message_stays_hidden_and_counted_until_deleted_with_its_pop_receipt()
    {
        var queue = await NewQueueAsync();
        await queue.SendMessageAsync("hidden");

        var received = Assert.Single((await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30))).Value);
        Assert.Equal(("hidden", 1L), (received.Body.ToString(), received.DequeueCount));
        Assert.Empty((await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30))).Value);
        Assert.Equal(1, await queue.ApproximateCountAsync());

        await queue.DeleteMessageAsync(received.MessageId, received.PopReceipt);
        Assert.Equal(0, await queue.ApproximateCountAsync());
    }

    [Fact]
    public async Task A_message_back_after_its_visibility_has_a_new_receipt_and_the_old_one_is_refused()
    {
        var queue = await NewQueueAsync();
        await queue.SendMessageAsync("again");

        var first = Assert.Single((await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1))).Value);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var second = Assert.Single((await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).Value);

        Assert.Equal((first.MessageId, 2L), (second.MessageId, second.DequeueCount));
        var stale = await Assert.ThrowsAsync<RequestFailedException>(() => queue.DeleteMessageAsync(first.MessageId, first.PopReceipt));
        Assert.Equal((400, "PopReceiptMismatch"), (stale.Status, stale.ErrorCode));
        await queue.DeleteMessageAsync(second.MessageId, second.PopReceipt);
    }

    [Fact]
    public async Task Updating_only_the_visibility_hands_a_message_back_with_its_text_unchanged()
    {
        var queue = await NewQueueAsync();
        await queue.SendMessageAsync(EarlierVersionMessage);
        var received = Assert.Single((await queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(5))).Value);

        var updated = await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt, (BinaryData?)null, TimeSpan.Zero);
        Assert.NotEqual(received.PopReceipt, updated.Value.PopReceipt);

        var again = Assert.Single((await queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(5))).Value);
        Assert.Equal((EarlierVersionMessage, 2L), (again.Body.ToString(), again.DequeueCount));
    }

    [Fact]
    public async Task A_thousand_pair_callback_with_128_character_ids_lands_as_several_messages_holding_every_event()
    {
        var queue = await NewQueueAsync();
        var settings = new ConfigurationBuilder()
            .AddInMemoryCollection([
                KeyValuePair.Create("Tencent:Apps:1400000001:CallbackToken", (string?)""),
                KeyValuePair.Create(AppSettingNames.CallbacksAllowUnsigned, (string?)"true"),
            ]).Build();
        // The ingestor as the standalone composition configures it: batches cut to its queue's message size.
        var adapter = new StorageQueueEventQueue(queue, new EnqueueLatencyMonitor(TimeProvider.System));
        var ingestor = new ServiceCollection().AddSingleton<IRelationshipEventQueue>(adapter).AddCallbackIngestion(settings)
            .BuildServiceProvider().GetRequiredService<ICallbackIngestor>();
        var owner = "o" + new string('w', 127);
        var peers = Enumerable.Range(0, 1000).Select(i => $"p{i:D4}" + new string('x', 123)).ToArray();
        var query = new Dictionary<string, string>
        {
            ["SdkAppid"] = "1400000001",
            ["CallbackCommand"] = "Sns.CallbackFriendAdd",
            ["contenttype"] = "json",
        };
        var result = ingestor.Ingest(new InboundCallback("tencent", "", query, new Dictionary<string, string>(),
            Utf8(TencentFriendAdd(owner, peers)), DateTimeOffset.UtcNow));
        Assert.Equal("accepted", result.Outcome.Outcome);
        Assert.True(result.Batches.Count > 1);
        Assert.All(result.Batches, b => Assert.True(RelationshipBatchJson.Serialize(b).Length <= adapter.MaxBatchJsonBytes));

        await adapter.EnqueueAsync(result.Batches, CancellationToken.None);

        var stored = new List<RelationshipBatch>();
        while (stored.Count < result.Batches.Count)
        {
            var received = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value;
            Assert.NotEmpty(received);
            Assert.All(received, m => Assert.True(m.Body.ToMemory().Length <= queue.MessageMaxBytes));
            stored.AddRange(received.Select(m => RelationshipQueueMessage.Decode(m.Body.ToString())));
        }

        Assert.Equal(Enumerable.Range(1, result.Batches.Count), stored.Select(b => b.Part).Order());
        var events = stored.OrderBy(b => b.Part).SelectMany(b => b.Events).ToList();
        Assert.Equal(peers, events.Select(e => e.Peer));
        Assert.Equal(1000, events.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task Enqueue_fails_inside_the_deadline_when_the_queue_service_does_not_answer_and_counts_as_failed()
    {
        var unreachable = StorageClients.FromConnectionString(
            TestApp.UnreachableStorage);
        var queue = unreachable.GetQueueServiceClient(StorageClientProfile.Acknowledgement).GetQueueClient("relationship-events");
        var latency = new EnqueueLatencyMonitor(TimeProvider.System);
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<Exception>(() => new StorageQueueEventQueue(queue, latency).EnqueueAsync([Batch("b-down", "bob")], CancellationToken.None));

        Assert.True(stopwatch.Elapsed < StorageQueueEventQueue.MaxEnqueueTime + TimeSpan.FromMilliseconds(600), $"took {stopwatch.Elapsed}");
        Assert.Equal(1, latency.TakeWindow().Failed);
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("eyJub3QiOiJhIGJhdGNoIn0=")] // {"not":"a batch"}
    [InlineData("")]
    public void Message_text_that_is_not_base64_of_a_batch_is_an_invalid_batch(string text)
    {
        Assert.Throws<InvalidBatchException>(() => RelationshipQueueMessage.Decode(text));
    }

    [Fact]
    public async Task A_drain_held_back_by_slow_acknowledgement_receives_nothing_and_applies_everything_once_callbacks_calm_down()
    {
        var (queue, poison) = await NewQueueWithPoisonQueueAsync();
        await Task.WhenAll(Enumerable.Range(0, 5).Select(i => queue.SendMessageAsync(RelationshipQueueMessage.Encode(Batch($"b-{i}", "bob")))));
        var applier = new RecordingBatchApplier();
        var clock = new FakeTimeProvider();
        var latency = new EnqueueLatencyMonitor(clock);
        // One apply at most: the first window, slow, halves that to none.
        var options = new StorageQueueDrainOptions { MaxParallelApplies = 1, AdjustInterval = TimeSpan.FromMilliseconds(50) };

        // A callback whose enqueue has been waiting on the account three times longer than the target.
        var stuck = latency.Started();
        clock.Advance(options.AcknowledgementLatencyTarget * 3);

        using var drain = new StorageQueueDrain(queue, poison, TestProcessors.Of(applier), options, latency, NullLoggerFactory.Instance);
        await drain.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.Empty(applier.Applied);
            // Not even received: every message is still visible to another instance.
            Assert.Equal(5, (await queue.PeekMessagesAsync(32)).Value.Length);

            latency.Finished(stuck, succeeded: true);
            await EventuallyAsync("every batch applied", () => Task.FromResult(applier.Applied.Count == 5));
            await EventuallyAsync("the queue empty", async () => await queue.ApproximateCountAsync() == 0);
        }
        finally
        {
            await drain.StopAsync(CancellationToken.None);
        }

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"b-{i}"), applier.Applied.Select(b => b.BatchId).Order(StringComparer.Ordinal));
    }
}
