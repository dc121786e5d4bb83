using Azure.Storage.Queues;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using FunctionApp.Tests.Infrastructure;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.Redrive;

/// <summary><c>FunctionApp redrive --source poison</c> against Azurite: the standalone poison queue back onto the queue.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class PoisonQueueRedriveTests(AzuriteFixture azurite)
{
    private const string NotABatch = "this is not base64!";

    private async Task<(QueueClient Queue, QueueClient Poison, List<string> Texts)> PoisonedAsync(int batches)
    {
        var queue = azurite.Queue(NewName("rd"));
        var poison = azurite.Queue(StorageQueueDrain.PoisonQueueName(queue.Name));
        await queue.CreateIfNotExistsAsync();
        await poison.CreateIfNotExistsAsync();
        var texts = Enumerable.Range(1, batches).Select(i => RelationshipQueueMessage.Encode(Batch($"b-{i}"))).Append(NotABatch).ToList();
        foreach (var text in texts)
        {
            await poison.SendMessageAsync(text, visibilityTimeout: null, timeToLive: StorageQueueEventQueue.NeverExpires);
        }

        return (queue, poison, texts);
    }

    private Task<int> RunAsync(QueueClient queue, string[] options, RedriveOutput output, CancellationToken cancellationToken = default) =>
        RedriveCommand.RunAsync(["redrive", "--source", "poison", .. options],
            DeadLetterRedriveTests.Settings((AppSettingNames.RelationshipStorage, azurite.ConnectionString), (AppSettingNames.RelationshipEventsQueue, queue.Name)),
            output, output, cancellationToken: cancellationToken);

    [Fact]
    public async Task Moves_poisoned_messages_back_onto_the_queue_with_their_text_unchanged()
    {
        var (queue, poison, texts) = await PoisonedAsync(3);

        var output = new RedriveOutput();
        var exitCode = await RunAsync(queue, ["--max", "10"], output);

        Assert.True(exitCode == 0, output.Text);
        Assert.Contains("Summary: moved 4, skipped 0, failed 0.", output.Text, StringComparison.Ordinal);
        Assert.Contains(output.Lines, line => line.StartsWith("moved ", StringComparison.Ordinal) && line.Contains("batch b-2-1", StringComparison.Ordinal));
        Assert.Contains(output.Lines, line => line.StartsWith("moved ", StringComparison.Ordinal) && line.Contains("not a batch", StringComparison.Ordinal));
        Assert.Equal(0, await poison.ApproximateCountAsync());
        var moved = (await queue.ReceiveMessagesAsync(32)).Value;
        Assert.Equal(texts.Order(StringComparer.Ordinal), moved.Select(m => m.MessageText).Order(StringComparer.Ordinal));
        // Moved back as the app enqueues: never expiring.
        Assert.All(moved, message => Assert.True(message.ExpiresOn > DateTimeOffset.UtcNow.AddYears(100)));
    }

    [Fact]
    public async Task A_dry_run_lists_the_poisoned_messages_and_leaves_them_visible_in_the_poison_queue()
    {
        var (queue, poison, texts) = await PoisonedAsync(2);

        var output = new RedriveOutput();
        Assert.Equal(0, await RunAsync(queue, ["--max", "10", "--dry-run"], output));

        Assert.StartsWith("Dry run:", output.Lines[0], StringComparison.Ordinal);
        Assert.Equal(3, output.Lines.Count(line => line.StartsWith("would move", StringComparison.Ordinal) && line.Contains(" inserted ", StringComparison.Ordinal)));
        Assert.Contains("Summary: would move 3, skipped 0, failed 0.", output.Text, StringComparison.Ordinal);
        Assert.Equal(0, await queue.ApproximateCountAsync());
        // Handed back at once, not after the hiding time.
        Assert.Equal(texts.Order(StringComparer.Ordinal), (await poison.PeekMessagesAsync(32)).Value.Select(m => m.MessageText).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Max_bounds_the_messages_moved()
    {
        var (queue, poison, _) = await PoisonedAsync(4);

        var output = new RedriveOutput();
        Assert.Equal(0, await RunAsync(queue, ["--max", "2"], output));

        Assert.Contains("Summary: moved 2, skipped 0, failed 0.", output.Text, StringComparison.Ordinal);
        Assert.Equal((2, 3), (await queue.ApproximateCountAsync(), await poison.ApproximateCountAsync()));
        Assert.Equal(3, (await poison.PeekMessagesAsync(32)).Value.Length);
    }

    [Fact]
    public async Task Cancelled_after_a_message_the_run_stops_and_the_rest_is_visible_in_the_poison_queue_again()
    {
        var (queue, poison, texts) = await PoisonedAsync(5);

        using var cancel = new CancellationTokenSource();
        var output = new RedriveOutput("moved ", cancel);
        Assert.Equal(130, await RunAsync(queue, ["--max", "10"], output, cancel.Token));

        Assert.Contains("Interrupted", output.Text, StringComparison.Ordinal);
        var onQueue = (await queue.PeekMessagesAsync(32)).Value.Select(m => m.MessageText).ToList();
        var inPoison = (await poison.PeekMessagesAsync(32)).Value.Select(m => m.MessageText).ToList();
        Assert.Single(onQueue);
        Assert.Equal(texts.Order(StringComparer.Ordinal), onQueue.Concat(inPoison).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_missing_storage_setting_is_a_usage_error_naming_it()
    {
        var error = new RedriveOutput();
        var exitCode = await RedriveCommand.RunAsync(["redrive", "--source", "poison", "--max", "1"], DeadLetterRedriveTests.Settings(), new RedriveOutput(), error);

        Assert.Equal(RedriveCommand.UsageExitCode, exitCode);
        Assert.Contains(AppSettingNames.RelationshipStorage, error.Text, StringComparison.Ordinal);
        Assert.Contains(RedriveCommand.Usage, error.Text, StringComparison.Ordinal);
    }

    private static RelationshipBatch Batch(string batchId) =>
        new(RelationshipBatch.CurrentSchemaVersion, batchId, 1, 1,
            new CallbackSource("tencent", "1400000001", "Sns.CallbackFriendAdd", null, null, null, DateTimeOffset.UtcNow, null),
            [new RelationshipEvent(batchId + "-e", RelationshipKind.Friend, RelationshipAction.Added, "alice", "bob", DateTimeOffset.UtcNow, new Dictionary<string, string>())]);
}
