using System.Net;
using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Storage.Relationships;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// Messages the drain can never apply end in the poison queue at once, one the store keeps failing on only after the
/// retry period, each with its reason logged; the drain keeps going.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class PoisonMessageTests(AzuriteFixture azurite)
{
    private const string FailingBatchId = "always-fails";

    /// <summary>The real store, except that one batch id always fails as a transient error would.</summary>
    private sealed class FailingForOneBatch(TableRelationshipStore store) : IRelationshipBatchApplier
    {
        public Task ApplyAsync(RelationshipBatch batch, CancellationToken cancellationToken) =>
            batch.BatchId == FailingBatchId
                ? Task.FromException(new IOException("the store timed out"))
                : store.ApplyAsync(batch, cancellationToken);
    }

    [Fact]
    public async Task Unreadable_and_unstorable_messages_are_poisoned_at_once_and_a_failing_one_after_the_retry_period()
    {
        var appId = NewTencentAppId();
        var queueName = NewName("poison");
        await using var app = await TestApp.StartStandaloneAsync(
            services => services.AddSingleton<IRelationshipBatchApplier>(provider => new FailingForOneBatch(provider.GetRequiredService<TableRelationshipStore>())),
            "--RelationshipStorage=" + azurite.ConnectionString,
            "--RelationshipEventsQueue=" + queueName,
            $"--Tencent:Apps:{appId}:CallbackToken=",
            "--Redelivery:RetryWithinDeliverySeconds=0",
            "--Redelivery:FirstDelaySeconds=1",
            "--Redelivery:ParkAfterSeconds=4");
        var queue = azurite.Queue(queueName);
        var poison = azurite.Queue(queueName + "-poison");

        await queue.SendMessageAsync("this is not base64!");
        var source = new CallbackSource("tencent", appId, "Sns.CallbackFriendAdd", null, null, null, DateTimeOffset.UtcNow, null);
        var failing = new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, FailingBatchId, 1, 1, source,
            [new RelationshipEvent("e-fails", RelationshipKind.Friend, RelationshipAction.Added, "x", "y", DateTimeOffset.UtcNow, new Dictionary<string, string>())]);
        await queue.SendMessageAsync(RelationshipQueueMessage.Encode(failing));
        // A 600-character owner is over the Table key limit: no store can ever hold it.
        var unstorable = new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, "b-unstorable", 1, 1, source,
            [new RelationshipEvent("e-unstorable", RelationshipKind.Friend, RelationshipAction.Added, new string('u', 600), "peer", DateTimeOffset.UtcNow, new Dictionary<string, string>())]);
        await queue.SendMessageAsync(RelationshipQueueMessage.Encode(unstorable));
        var (status, _) = await PostTencentAsync(app.Client, appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd("alice", ["bob"])));
        Assert.Equal(HttpStatusCode.OK, status);

        await ExpectUsersAsync(app.Client, appId, "alice", "friends", "bob");
        await EventuallyAsync("the unreadable and the unstorable message in the poison queue", async () => await poison.ApproximateCountAsync() == 2);
        await EventuallyAsync("the failing batch in the poison queue after the retry period", async () => await poison.ApproximateCountAsync() == 3);
        await EventuallyAsync("the main queue empty", async () => await queue.ApproximateCountAsync() == 0);

        // Poisoned as first put: each can be put back as it is.
        var poisoned = (await poison.PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()).ToList();
        Assert.Contains(poisoned, text => text == "this is not base64!");
        Assert.Contains(poisoned, text => text.Length > 20 && RelationshipQueueMessage.Decode(text).BatchId == FailingBatchId
            && !text.StartsWith(RelationshipQueueMessage.RedeliveryPrefix, StringComparison.Ordinal));
        Assert.Contains(poisoned, text => text.Length > 20 && RelationshipQueueMessage.Decode(text).BatchId == "b-unstorable");

        var batchLines = app.Logs.Entries.Where(e => e.Category == RelationshipBatchProcessor.LogCategory).Select(e => e.Message).ToList();
        Assert.Contains(batchLines, m => m.Contains("outcome=invalid", StringComparison.Ordinal) && m.Contains("not base64", StringComparison.Ordinal)
            && m.Contains("deliveryCount=1", StringComparison.Ordinal));
        Assert.Contains(batchLines, m => m.StartsWith("Batch batchId=b-unstorable part=1/1", StringComparison.Ordinal) && m.Contains("outcome=invalid", StringComparison.Ordinal)
            && m.Contains("deliveryCount=1", StringComparison.Ordinal));
        Assert.Contains(batchLines, m => m.StartsWith($"Batch batchId={FailingBatchId} part=1/1 app={appId} events=1 outcome=retry reason=IOException: the store timed out deliveryCount=1 redelivery=1 after 1 s", StringComparison.Ordinal));
        // The second delivery knew it was the first redelivery: the message text carried the state.
        Assert.Contains(batchLines, m => m.StartsWith($"Batch batchId={FailingBatchId} part=1/1 app={appId} events=1 outcome=retry reason=IOException: the store timed out deliveryCount=2 redelivery=2 after 2 s", StringComparison.Ordinal));
        Assert.Contains(batchLines, m => m.StartsWith($"Batch batchId={FailingBatchId} part=1/1 app={appId} events=1 outcome=expired", StringComparison.Ordinal)
            && m.Contains("last: IOException: the store timed out", StringComparison.Ordinal));
        Assert.Contains(batchLines, m => m.Contains($"app={appId} events=1 outcome=applied reason= deliveryCount=1", StringComparison.Ordinal));
        var drainLines = app.Logs.Entries.Where(e => e.Category == StorageQueueDrain.LogCategory).Select(e => e.Message).ToList();
        Assert.Equal(3, drainLines.Count(m => m.Contains($"moved to {queueName}-poison", StringComparison.Ordinal)));
    }
}
