using System.Diagnostics;
using System.Globalization;
using FunctionApp.Core;
using FunctionApp.Protocols;
using FunctionApp.Storage.Http;
using FunctionApp.Storage.Queues;
using FunctionApp.Storage.Relationships;
using FunctionApp.Storage.Tables;

namespace LoadGenerator;

/// <summary>
/// Edges applied per second from multi-pair batches. <c>--via queue</c> puts the batches on the app's Storage
/// queue (as the standalone ingestion does) and times the running app's drain until the queue is empty;
/// <c>--via direct</c> calls the store in this process with the same concurrency, for profiling the store alone.
/// Shapes: <c>many-owners</c> (every pair its own owner and peer) and <c>one-owner</c> (one owner, many peers).
/// </summary>
internal static class ApplyThroughput
{
    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var account = StorageConnectionString.Parse(options.Required("storage"));
        var shape = options.Get("shape", "many-owners");
        var pairs = options.Int("pairs", 100);
        var batches = options.Int("batches", 20);
        var concurrency = options.Int("concurrency", 4);
        var run = options.Get("run", Guid.NewGuid().ToString("N")[..8]);
        // Split as the standalone ingestor splits a large callback, so every part fits one queue message.
        var work = Enumerable.Range(0, batches).Select(b => Batch(shape, pairs, run, b))
            .SelectMany(b => BatchSplitter.Split(b.BatchId, b.Source, b.Events, RelationshipQueueMessage.MaxBatchJsonBytes)).ToArray();
        var edges = work.Sum(b => b.Events.Count);

        var clock = Stopwatch.StartNew();
        if (options.Get("via", "queue") == "direct")
        {
            var store = new TableRelationshipStore(new TableServiceClient(account));
            await store.EnsureTablesAsync(cancellationToken);
            clock.Restart();
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (batch, token) => await store.ApplyAsync(batch, token));
        }
        else
        {
            var queue = new RawQueue(account, options.Required("queue"));
            var messages = work.Select(RelationshipQueueMessage.Encode).ToArray();
            await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
                async (message, token) => await queue.PutAsync(message, token));
            var timeout = TimeSpan.FromSeconds(options.Double("timeout", 300));
            while (await queue.ApproximateCountAsync(cancellationToken) > 0)
            {
                if (clock.Elapsed > timeout)
                {
                    Console.Error.WriteLine($"apply: the queue did not drain within {timeout.TotalSeconds} s.");
                    return 1;
                }

                await Task.Delay(20, cancellationToken);
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"apply: shape={shape} pairs={pairs} batches={batches} messages={work.Length} edges={edges} seconds={seconds:F2} edges_per_s={edges / seconds:F1}"));
        return 0;
    }

    private static RelationshipBatch Batch(string shape, int pairs, string run, int index)
    {
        var now = DateTimeOffset.UtcNow;
        var prefix = string.Create(CultureInfo.InvariantCulture, $"{run}-b{index}");
        var events = Enumerable.Range(0, pairs).Select(i =>
        {
            var owner = shape == "one-owner" ? prefix + "-owner" : string.Create(CultureInfo.InvariantCulture, $"{prefix}-o{i}");
            var peer = string.Create(CultureInfo.InvariantCulture, $"{prefix}-p{i}");
            return new RelationshipEvent(
                string.Create(CultureInfo.InvariantCulture, $"{Guid.NewGuid():N}"), RelationshipKind.Friend, RelationshipAction.Added, owner, peer, now,
                new Dictionary<string, string> { ["initiator"] = owner, ["clientCmd"] = "friend_add" });
        }).ToList();
        return new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, Guid.NewGuid().ToString("N"), 1, 1,
            new CallbackSource("tencent", "1400000001", TencentCallbacks.Command, null, null, null, now, null), events);
    }
}
