using System.Diagnostics;
using Azure;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Storage.Http;
using FunctionApp.Storage.Queues;
using FunctionApp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public class QueueClientTests(AzuriteFixture azurite)
{
    private async Task<QueueClient> NewQueueAsync()
    {
        var queue = new QueueServiceClient(azurite.Account).GetQueueClient("q" + Guid.NewGuid().ToString("N")[..20]);
        Assert.True(await queue.CreateIfNotExistsAsync());
        return queue;
    }

    [Fact]
    public async Task Creating_an_existing_queue_is_fine_and_deleting_it_removes_it()
    {
        var queue = await NewQueueAsync();
        Assert.False(await queue.CreateIfNotExistsAsync());

        Assert.True(await queue.DeleteIfExistsAsync());
        Assert.False(await queue.DeleteIfExistsAsync());
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => queue.SendMessageAsync("x"));
        Assert.Equal(404, error.Status);
        Assert.Equal("QueueNotFound", error.ErrorCode);
    }

    [Fact]
    public async Task A_message_is_received_hidden_counted_and_deleted_with_its_receipt()
    {
        var queue = await NewQueueAsync();
        const string Text = "héllo <xml> & \"quotes\" 中文";
        var sent = await queue.SendMessageAsync(Text);
        Assert.Equal(1, await queue.GetApproximateMessageCountAsync());

        var peeked = Assert.Single(await queue.PeekMessagesAsync(32));
        Assert.Equal((sent.MessageId, 0L, Text), (peeked.MessageId, peeked.DequeueCount, peeked.MessageText));

        var received = Assert.Single(await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30)));
        Assert.Equal((sent.MessageId, 1L, Text), (received.MessageId, received.DequeueCount, received.MessageText));
        Assert.True(received.NextVisibleOn > DateTimeOffset.UtcNow.AddSeconds(20));

        // Hidden: neither a peek nor a second receive sees it, but it still counts.
        Assert.Empty(await queue.PeekMessagesAsync(32));
        Assert.Empty(await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30)));
        Assert.Equal(1, await queue.GetApproximateMessageCountAsync());

        await queue.DeleteMessageAsync(received.MessageId, received.PopReceipt);
        Assert.Equal(0, await queue.GetApproximateMessageCountAsync());
    }

    [Fact]
    public async Task A_message_not_deleted_comes_back_when_its_visibility_ends_with_a_higher_dequeue_count()
    {
        var queue = await NewQueueAsync();
        await queue.SendMessageAsync("again");

        var first = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1)));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var second = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30)));

        Assert.Equal(first.MessageId, second.MessageId);
        Assert.Equal(2, second.DequeueCount);
        Assert.NotEqual(first.PopReceipt, second.PopReceipt);

        // The first receipt is stale now.
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => queue.DeleteMessageAsync(first.MessageId, first.PopReceipt));
        Assert.Equal(400, error.Status);
        Assert.Equal("PopReceiptMismatch", error.ErrorCode);
        await queue.DeleteMessageAsync(second.MessageId, second.PopReceipt);
    }

    [Fact]
    public async Task Updating_visibility_hands_a_message_back_and_replaces_its_receipt()
    {
        var queue = await NewQueueAsync();
        await queue.SendMessageAsync("back");
        var received = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(5)));

        var updated = await queue.UpdateVisibilityAsync(received.MessageId, received.PopReceipt, TimeSpan.Zero);
        Assert.NotEqual(received.PopReceipt, updated.PopReceipt);

        var again = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(5)));
        Assert.Equal(("back", 2L), (again.MessageText, again.DequeueCount));
        var stale = await Assert.ThrowsAsync<RequestFailedException>(
            () => queue.UpdateVisibilityAsync(received.MessageId, updated.PopReceipt, TimeSpan.Zero));
        Assert.Equal("PopReceiptMismatch", stale.ErrorCode);
        var unknown = await Assert.ThrowsAsync<RequestFailedException>(
            () => queue.DeleteMessageAsync(Guid.NewGuid().ToString(), again.PopReceipt));
        Assert.Equal(404, unknown.Status);
        Assert.Equal("MessageNotFound", unknown.ErrorCode);
    }

    [Fact]
    public async Task A_message_put_with_a_visibility_timeout_stays_hidden_until_then()
    {
        var queue = await NewQueueAsync();
        var sent = await queue.SendMessageAsync("later", visibilityTimeout: TimeSpan.FromSeconds(1));
        Assert.True(sent.NextVisibleOn > sent.InsertedOn);

        Assert.Empty(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30)));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal("later", Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).MessageText);
    }

    [Fact]
    public async Task Receive_returns_at_most_the_number_asked_and_refuses_more_than_32()
    {
        var queue = await NewQueueAsync();
        await Task.WhenAll(Enumerable.Range(0, 5).Select(i => queue.SendMessageAsync($"m{i}")));

        Assert.Equal(3, (await queue.ReceiveMessagesAsync(3, TimeSpan.FromSeconds(30))).Count);
        Assert.Equal(2, (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30))).Count);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(33, TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(0, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_message_text_larger_than_64_KiB_is_refused_before_sending()
    {
        var queue = await NewQueueAsync();
        await queue.SendMessageAsync(new string('a', QueueClient.MaxMessageTextLength));
        await Assert.ThrowsAsync<ArgumentException>(() => queue.SendMessageAsync(new string('a', QueueClient.MaxMessageTextLength + 1)));
    }

    [Fact]
    public async Task A_thousand_pair_callback_with_128_character_ids_lands_as_several_messages_holding_every_event()
    {
        var queue = await NewQueueAsync();
        var settings = new ConfigurationBuilder()
            .AddInMemoryCollection([
                KeyValuePair.Create("Tencent:Apps:1400000001:CallbackToken", (string?)""),
                KeyValuePair.Create("Callbacks:AllowUnsigned", (string?)"true")]).Build();
        // The ingestor as the standalone composition configures it.
        var ingestor = new ServiceCollection().AddCallbackIngestion(settings, HostingMode.Standalone)
            .BuildServiceProvider().GetRequiredService<ICallbackIngestor>();
        var owner = "o" + new string('w', 127);
        var peers = Enumerable.Range(0, 1000).Select(i => $"p{i:D4}" + new string('x', 123)).ToArray();
        Assert.All(peers, p => Assert.Equal(128, p.Length));
        var query = new Dictionary<string, string>
        {
            ["SdkAppid"] = "1400000001",
            ["CallbackCommand"] = "Sns.CallbackFriendAdd",
            ["contenttype"] = "json",
        };
        var result = ingestor.Ingest(new InboundCallback("tencent", "", query, new Dictionary<string, string>(),
            EndToEnd.EndToEnd.Utf8(EndToEnd.EndToEnd.TencentFriendAdd(owner, peers)), DateTimeOffset.UtcNow));
        Assert.Equal("accepted", result.Outcome.Outcome);
        Assert.True(result.Batches.Count > 1);
        Assert.All(result.Batches, b => Assert.True(RelationshipBatchJson.Serialize(b).Length <= RelationshipQueueMessage.MaxBatchJsonBytes));

        await new StorageQueueEventQueue(queue).EnqueueAsync(result.Batches, CancellationToken.None);

        var stored = new List<RelationshipBatch>();
        while (stored.Count < result.Batches.Count)
        {
            var received = await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1));
            Assert.NotEmpty(received);
            Assert.All(received, m => Assert.True(m.MessageText.Length <= QueueClient.MaxMessageTextLength));
            stored.AddRange(received.Select(m => RelationshipQueueMessage.Decode(m.MessageText)));
        }

        Assert.Equal(Enumerable.Range(1, result.Batches.Count), stored.Select(b => b.Part).Order());
        Assert.All(stored, b => Assert.Equal(result.Batches.Count, b.PartCount));
        var events = stored.OrderBy(b => b.Part).SelectMany(b => b.Events).ToList();
        Assert.Equal(peers, events.Select(e => e.Peer));
        Assert.All(events, e => Assert.Equal(owner, e.Owner));
        Assert.Equal(1000, events.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task Enqueue_fails_fast_when_the_queue_service_does_not_answer()
    {
        var unreachable = StorageConnectionString.Parse(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + StorageConnectionString.DevelopmentAccountKey +
            ";QueueEndpoint=http://127.0.0.1:9/devstoreaccount1");
        var queue = new QueueServiceClient(unreachable, StorageQueueEventQueue.AcknowledgementOptions()).GetQueueClient("relationship-events");
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<Exception>(() => new StorageQueueEventQueue(queue).EnqueueAsync(
            [new RelationshipBatch(1, "b", 1, 1, new CallbackSource("openim", "openim", "c", null, null, null, DateTimeOffset.UtcNow, null), [])],
            CancellationToken.None));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1.6), $"took {stopwatch.Elapsed}");
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("eyJub3QiOiJhIGJhdGNoIn0=")] // {"not":"a batch"}
    [InlineData("")]
    public void Message_text_that_is_not_base64_of_a_batch_is_an_invalid_batch(string text)
    {
        Assert.Throws<InvalidBatchException>(() => RelationshipQueueMessage.Decode(text));
    }
}
