using System.Net;
using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Storage.Relationships;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>Messages the drain cannot apply end in the poison queue with their reason logged, and the drain keeps going.</summary>
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
    public async Task Unreadable_and_repeatedly_failing_messages_are_poisoned_while_good_ones_are_applied()
    {
        var appId = NewTencentAppId();
        var queueName = NewName("poison");
        await using var app = await TestApp.StartStandaloneAsync(
            services => services.AddSingleton<IRelationshipBatchApplier>(provider => new FailingForOneBatch(provider.GetRequiredService<TableRelationshipStore>())),
            "--RelationshipStorage=" + azurite.ConnectionString,
            "--RelationshipEventsQueue=" + queueName,
            $"--Tencent:Apps:{appId}:CallbackToken=",
            "--StandaloneQueue:MaxDequeueCount=2",
            "--StandaloneQueue:RetryDelaySeconds=0");
        var queue = azurite.Queue(queueName);
        var poison = azurite.Queue(queueName + "-poison");

        await queue.SendMessageAsync("this is not base64!");
        var failing = new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, FailingBatchId, 1, 1,
            new CallbackSource("tencent", appId, "Sns.CallbackFriendAdd", null, null, null, DateTimeOffset.UtcNow, null),
            [new RelationshipEvent("e-fails", RelationshipKind.Friend, RelationshipAction.Added, "x", "y", DateTimeOffset.UtcNow, new Dictionary<string, string>())]);
        await queue.SendMessageAsync(RelationshipQueueMessage.Encode(failing));
        var (status, _) = await PostTencentAsync(app.Client, appId, "Sns.CallbackFriendAdd", Utf8(TencentFriendAdd("alice", ["bob"])));
        Assert.Equal(HttpStatusCode.OK, status);

        await ExpectUsersAsync(app.Client, appId, "alice", "friends", "bob");
        await EventuallyAsync("both bad messages in the poison queue", async () => await poison.ApproximateCountAsync() == 2);
        await EventuallyAsync("the main queue empty", async () => await queue.ApproximateCountAsync() == 0);

        var poisoned = (await poison.PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()).ToList();
        Assert.Contains(poisoned, text => text == "this is not base64!");
        Assert.Contains(poisoned, text => text.Length > 20 && RelationshipQueueMessage.Decode(text).BatchId == FailingBatchId);

        var batchLines = app.Logs.Entries.Where(e => e.Category == "FunctionApp.Api.Apply").Select(e => e.Message).ToList();
        Assert.Contains(batchLines, m => m.Contains("outcome=poisoned", StringComparison.Ordinal) && m.Contains("not base64", StringComparison.Ordinal)
            && m.Contains("deliveryCount=1", StringComparison.Ordinal));
        Assert.Contains(batchLines, m => m.StartsWith($"Batch batchId={FailingBatchId} part=1/1 app={appId} events=1 outcome=retry reason=IOException: the store timed out deliveryCount=1", StringComparison.Ordinal));
        Assert.Contains(batchLines, m => m.StartsWith($"Batch batchId={FailingBatchId} part=1/1 app={appId} events=1 outcome=poisoned", StringComparison.Ordinal)
            && m.Contains("failed 2 times; last: IOException: the store timed out deliveryCount=2", StringComparison.Ordinal));
        Assert.Contains(batchLines, m => m.Contains($"app={appId} events=1 outcome=applied reason= deliveryCount=1", StringComparison.Ordinal));
    }
}
