using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Messaging;

namespace LoadGenerator;

/// <summary>
/// The storage baselines, measured against the same Azurite in the same run as the app, through the same clients
/// the app uses (the table baselines through <see cref="StorageClients"/>' Azure.Data.Tables client), with nothing else around them.
/// </summary>
internal static class StorageBaselines
{
    /// <summary>
    /// Raw Storage-queue puts through the SDK's <c>QueueClient.SendMessageAsync</c>, closed loop on N connections: the
    /// app's acknowledgement client (same options and service version), the same time to live, a message the size of a
    /// 3-pair batch.
    /// </summary>
    public static async Task<int> QueuePutAsync(Options options, CancellationToken cancellationToken)
    {
        var queue = BenchQueues.Get(options.Required("storage"), options.Get("queue", "bench-baseline"), StorageClientProfile.Acknowledgement);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var message = RelationshipQueueMessage.Encode(SampleBatch(options.Int("pairs", 3), "baseline"));
        var connections = options.Int("connections", 16);
        var duration = TimeSpan.FromSeconds(options.Double("duration", 10));
        var warmup = TimeSpan.FromSeconds(options.Double("warmup", 2));
        var latencies = await ClosedLoopAsync(connections, warmup, duration,
            _ => queue.SendMessageAsync(message, visibilityTimeout: null, timeToLive: StorageQueueEventQueue.NeverExpires, cancellationToken), cancellationToken);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"queue-put: ok={latencies.Length} rps={latencies.Length / duration.TotalSeconds:F1} p50_ms={HttpLoad.Percentile(latencies, 0.5):F2} "
            + $"p99_ms={HttpLoad.Percentile(latencies, 0.99):F2} message_bytes={message.Length}"));
        return 0;
    }

    /// <summary>
    /// Raw entity inserts, each request one entity group transaction of <c>--batch-size</c> new rows in a fresh
    /// partition, rows shaped like the store's history rows. Prints entities per second.
    /// </summary>
    public static async Task<int> TableBatchAsync(Options options, CancellationToken cancellationToken)
    {
        var tables = StorageClients.FromConnectionString(options.Required("storage")).GetTableServiceClient();
        var table = tables.GetTableClient(options.Get("table", "BenchBaseline"));
        await table.CreateIfNotExistsAsync(cancellationToken);
        var batchSize = options.Int("batch-size", 100);
        var connections = options.Int("connections", 4);
        var duration = TimeSpan.FromSeconds(options.Double("duration", 10));
        var warmup = TimeSpan.FromSeconds(options.Double("warmup", 2));
        var run = options.Get("run", Guid.NewGuid().ToString("N")[..8]);
        long partitions = 0;
        var latencies = await ClosedLoopAsync(connections, warmup, duration, async _ =>
        {
            var partition = string.Create(CultureInfo.InvariantCulture, $"bench|{run}-{Interlocked.Increment(ref partitions)}");
            var actions = new List<TableTransactionAction>(batchSize);
            for (var i = 0; i < batchSize; i++)
            {
                actions.Add(new TableTransactionAction(TableTransactionActionType.Add, HistoryLikeRow(partition, i)));
            }

            await table.SubmitTransactionAsync(actions, cancellationToken);
        }, cancellationToken);
        var transactions = latencies.Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"table-batch: entities={transactions * batchSize} entities_per_s={transactions * batchSize / duration.TotalSeconds:F1} "
            + $"transactions_per_s={transactions / duration.TotalSeconds:F1} p50_ms={HttpLoad.Percentile(latencies, 0.5):F2} batch_size={batchSize}"));
        return 0;
    }

    public static async Task<int> QueueCountAsync(Options options, CancellationToken cancellationToken)
    {
        var queue = BenchQueues.Get(options.Required("storage"), options.Required("queue"));
        Console.WriteLine(await BenchQueues.ApproximateCountAsync(queue, cancellationToken));
        return 0;
    }

    /// <summary>Deletes a queue a measurement filled, so its messages do not slow the emulator in later measurements.</summary>
    public static async Task<int> QueueDeleteAsync(Options options, CancellationToken cancellationToken)
    {
        await BenchQueues.Get(options.Required("storage"), options.Required("queue")).DeleteIfExistsAsync(cancellationToken);
        return 0;
    }

    /// <summary>Runs <paramref name="operation"/> on N loops; returns the sorted latencies (ms) of those inside the window.</summary>
    internal static async Task<double[]> ClosedLoopAsync(
        int connections, TimeSpan warmup, TimeSpan duration, Func<int, Task> operation, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var stopAt = warmup + duration;
        var perWorker = new List<double>[connections];
        var failures = 0L;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(worker => Task.Run(async () =>
        {
            var latencies = perWorker[worker] = [];
            while (clock.Elapsed < stopAt && !cancellationToken.IsCancellationRequested)
            {
                var started = clock.Elapsed;
                try
                {
                    await operation(worker);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    if (Interlocked.Increment(ref failures) <= 3)
                    {
                        Console.Error.WriteLine($"baseline operation failed: {ex.Message}");
                    }

                    continue;
                }

                if (started >= warmup && clock.Elapsed <= stopAt)
                {
                    latencies.Add((clock.Elapsed - started).TotalMilliseconds);
                }
            }
        }, CancellationToken.None)));
        return [.. perWorker.SelectMany(l => l).Order()];
    }

    internal static TableEntity HistoryLikeRow(string partition, int index)
    {
        var row = new TableEntity(partition, string.Create(CultureInfo.InvariantCulture, $"{long.MaxValue - index:D19}|{long.MaxValue - index:D19}|{Guid.NewGuid():N}"));
        row["AppId"] = "1400000001";
        row["User"] = partition;
        row["OtherUser"] = string.Create(CultureInfo.InvariantCulture, $"peer-{index}");
        row["Side"] = "owner";
        row["EventId"] = Guid.NewGuid().ToString("N");
        row["Kind"] = "friend";
        row["Action"] = "added";
        row["OccurredAt"] = DateTimeOffset.UtcNow;
        row["ReceivedAt"] = DateTimeOffset.UtcNow;
        row["Platform"] = "tencent";
        row["Command"] = TencentCallbacks.Command;
        row["Attributes"] = """{"initiator":"owner","clientCmd":"friend_add"}""";
        return row;
    }

    internal static RelationshipBatch SampleBatch(int pairs, string owner)
    {
        var now = DateTimeOffset.UtcNow;
        var events = Enumerable.Range(1, pairs).Select(i => new RelationshipEvent(
            Guid.NewGuid().ToString("N"), RelationshipKind.Friend, RelationshipAction.Added, owner, TencentCallbacks.PeerId(owner, i), now,
            new Dictionary<string, string> { ["initiator"] = owner, ["clientCmd"] = "friend_add", ["adminAccount"] = "admin", ["forceFlag"] = "0" }))
            .ToList();
        return new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, Guid.NewGuid().ToString("N"), 1, 1,
            new CallbackSource("tencent", "1400000001", TencentCallbacks.Command, "203.0.113.7", "iOS", now, now, null), events);
    }
}
