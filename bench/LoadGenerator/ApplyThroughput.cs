using System.Diagnostics;
using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using FunctionApp.Protocols;
using FunctionApp.Storage.Relationships;

namespace LoadGenerator;

/// <summary>
/// Edges applied per second from multi-pair batches. <c>--via queue</c> puts the batches on the app's Storage
/// queue (as the standalone ingestion does) and times the running app's drain until the queue is empty;
/// <c>--via servicebus</c> does the same on the Service Bus queue of a standalone app on Service Bus (the
/// <c>ServiceBusProcessor</c> drain), timed until the test broker reports every message completed;
/// <c>--via direct</c> calls the store in this process with the same concurrency, for profiling the store alone
/// (<c>--parallel-requests</c> sets the store's requests in flight per batch); <c>--via floor</c> writes the rows the
/// layout needs for the same batches raw, with the fewest requests the layout allows (the layout floor; inserts, or
/// unconditional upserts with <c>--upsert</c>). Shapes: <c>many-owners</c> (every pair its own owner and peer) and <c>one-owner</c> (one owner, many peers).
/// </summary>
internal static class ApplyThroughput
{
    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var shape = options.Get("shape", "many-owners");
        var pairs = options.Int("pairs", 100);
        var batches = options.Int("batches", 20);
        var concurrency = options.Int("concurrency", 4);
        var run = options.Get("run", Guid.NewGuid().ToString("N")[..8]);
        var via = options.Get("via", "queue");
        // Cut as the ingestor cuts a callback for the queue it sends to.
        var maxBatchJsonBytes = via == "servicebus"
            ? (int)(ServiceBusEventQueue.StandardTierMaxMessageBytes - ServiceBusEventQueue.MessageOverheadBytes)
            : RelationshipQueueMessage.MaxBatchJsonBytes;
        var work = Work(shape, pairs, batches, run, maxBatchJsonBytes);
        var edges = work.Sum(b => b.Events.Count);

        if (via == "floor")
        {
            // The app measured beside it has run for a while: warm this process's code and connections up first.
            var warmup = Work(shape, pairs, options.Int("warmup-batches", 2), run + "-warmup", maxBatchJsonBytes);
            return await LayoutFloorAsync(options.Required("storage"), shape, pairs, batches, warmup, work, options.Flag("upsert"), cancellationToken);
        }

        var counter = new RequestCounter();
        var clock = Stopwatch.StartNew();
        if (via == "direct")
        {
            var clientOptions = StorageClients.CreateTableOptions(StorageClientProfile.Apply);
            clientOptions.AddPolicy(counter, HttpPipelinePosition.PerRetry);
            var store = new TableRelationshipStore(new TableServiceClient(options.Required("storage"), clientOptions), new TableRelationshipStoreOptions
            {
                MaxParallelRequests = options.Int("parallel-requests", new TableRelationshipStoreOptions().MaxParallelRequests),
            });
            await store.EnsureTablesAsync(cancellationToken);
            counter.Requests.Clear();
            clock.Restart();
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (batch, token) => await store.ApplyAsync(batch, token));
        }
        else if (via == "servicebus")
        {
            if (await ServiceBusDrainAsync(options, work, clock, cancellationToken) is { } failed)
            {
                Console.Error.WriteLine("apply: " + failed);
                return 1;
            }
        }
        else
        {
            var queue = BenchQueues.Get(options.Required("storage"), options.Required("queue"));
            var messages = work.Select(RelationshipQueueMessage.Encode).ToArray();
            await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
                async (message, token) => await queue.SendMessageAsync(message, visibilityTimeout: null, timeToLive: StorageQueueEventQueue.NeverExpires, token));
            var timeout = TimeSpan.FromSeconds(options.Double("timeout", 300));
            while (await BenchQueues.ApproximateCountAsync(queue, cancellationToken) > 0)
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
            $"apply: via={via} shape={shape} pairs={pairs} batches={batches} messages={work.Length} edges={edges} seconds={seconds:F2} edges_per_s={edges / seconds:F1}")
            + (via == "direct" ? $" requests={string.Join(',', counter.Requests.OrderBy(r => r.Key).Select(r => $"{r.Key}:{r.Value}"))}" : ""));
        return 0;
    }

    /// <summary>
    /// Sends the batches to the Service Bus queue the standalone app drains (<c>--service-bus</c>, <c>--queue</c>), as
    /// the app's sender makes their messages, and waits until the broker (<c>--broker-status</c>) reports them all
    /// completed and the queue empty; the clock runs from the first send. Null when done, else what went wrong.
    /// </summary>
    private static async Task<string?> ServiceBusDrainAsync(Options options, RelationshipBatch[] work, Stopwatch clock, CancellationToken cancellationToken)
    {
        var queueName = options.Required("queue");
        var statusFile = options.Required("broker-status");
        var timeout = TimeSpan.FromSeconds(options.Double("timeout", 300));
        await using var client = ServiceBusBaselines.Client(options.Required("service-bus"));
        await using var sender = client.CreateSender(queueName);
        await ServiceBusBaselines.OpenAsync(sender, cancellationToken);

        var before = BrokerStatus.Read(statusFile, queueName);
        clock.Restart();
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (batch, token) => await sender.SendMessageAsync(ServiceBusEventQueue.ToMessage(batch), token));
        while (true)
        {
            var now = BrokerStatus.Read(statusFile, queueName);
            if (now.DeadLetter != before.DeadLetter)
            {
                return $"{now.DeadLetter - before.DeadLetter} messages were dead-lettered on {queueName}.";
            }

            if (now.Completed - before.Completed >= work.Length && now.Active == 0)
            {
                return null;
            }

            if (clock.Elapsed > timeout)
            {
                return $"{queueName} did not drain within {timeout.TotalSeconds} s ({now.Completed - before.Completed} of {work.Length} completed).";
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>
    /// The best any client could do with this table layout: for every edge of the same batches, the rows the store
    /// writes (owner edge, owner history and the event's receipt, peer-side mirror, peer history) in the store's tables, built by the store's own code and written raw — inserts,
    /// no reads, no conditions — grouped by table and partition into entity group transactions of up to 100 (a single
    /// insert where a partition gets one row), with the app's parallelism: as many batches at once as the drain applies,
    /// as many requests in flight per batch as the store allows. Prints edges per second.
    /// </summary>
    private static async Task<int> LayoutFloorAsync(string connectionString, string shape, int pairs, int batches,
        RelationshipBatch[] warmup, RelationshipBatch[] work, bool upsert, CancellationToken cancellationToken)
    {
        var tables = StorageClients.FromConnectionString(connectionString).GetTableServiceClient();
        var edges = tables.GetTableClient(TableRelationshipStore.EdgesTableName);
        var mirrors = tables.GetTableClient(TableRelationshipStore.EdgesByPeerTableName);
        var history = tables.GetTableClient(TableRelationshipStore.HistoryTableName);
        foreach (var table in new[] { edges, mirrors, history })
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
        }

        var parallelBatches = new StorageQueueDrainOptions().MaxParallelApplies;
        var parallelRequests = new TableRelationshipStoreOptions().MaxParallelRequests;
        await WriteLayoutRowsAsync(warmup, edges, mirrors, history, parallelBatches, parallelRequests, upsert, cancellationToken);
        var clock = Stopwatch.StartNew();
        var (requests, rows) = await WriteLayoutRowsAsync(work, edges, mirrors, history, parallelBatches, parallelRequests, upsert, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        var edgeCount = work.Sum(b => b.Events.Count);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"apply-floor: write={(upsert ? "upsert" : "insert")} shape={shape} pairs={pairs} batches={batches} messages={work.Length} edges={edgeCount} rows={rows} requests={requests} "
            + $"parallel={parallelBatches}x{parallelRequests} seconds={seconds:F2} edges_per_s={edgeCount / seconds:F1}"));
        return 0;
    }

    /// <summary>Writes the layout's rows of <paramref name="work"/>; returns the requests and rows written.</summary>
    private static async Task<(long Requests, long Rows)> WriteLayoutRowsAsync(RelationshipBatch[] work, TableClient edges, TableClient mirrors,
        TableClient history, int parallelBatches, int parallelRequests, bool upsert, CancellationToken cancellationToken)
    {
        var requests = 0L;
        var rows = 0L;
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = parallelBatches, CancellationToken = cancellationToken },
            async (batch, token) =>
            {
                var writes = LayoutRows(batch, edges, mirrors, history)
                    .GroupBy(w => (w.Table.Name, w.Row.PartitionKey))
                    .SelectMany(g => g.Chunk(ApplyPlanner.MaxTransactionActions).Select(chunk => (chunk[0].Table, Rows: chunk.Select(w => w.Row).ToList())))
                    .ToList();
                Interlocked.Add(ref requests, writes.Count);
                Interlocked.Add(ref rows, writes.Sum(w => w.Rows.Count));
                await Parallel.ForEachAsync(writes, new ParallelOptions { MaxDegreeOfParallelism = parallelRequests, CancellationToken = token },
                    async (write, ct) =>
                    {
                        if (write.Rows.Count == 1)
                        {
                            _ = upsert
                                ? await write.Table.UpsertEntityAsync(write.Rows[0], TableUpdateMode.Replace, ct)
                                : await write.Table.AddEntityAsync(write.Rows[0], ct);
                        }
                        else
                        {
                            var kind = upsert ? TableTransactionActionType.UpsertReplace : TableTransactionActionType.Add;
                            await write.Table.SubmitTransactionAsync(write.Rows.Select(row => new TableTransactionAction(kind, row)).ToList(), ct);
                        }
                    });
            });
        return (requests, rows);
    }

    /// <summary>The rows the store writes for a batch of new edges, built by the store's own code.</summary>
    private static IEnumerable<(TableClient Table, TableEntity Row)> LayoutRows(RelationshipBatch batch, TableClient edges, TableClient mirrors, TableClient history)
    {
        var received = ApplyPlanner.Receive(batch);
        foreach (var transaction in received.GroupBy(e => e.OwnerPartition).SelectMany(ApplyPlanner.ReceiptTransactions))
        {
            foreach (var action in transaction)
            {
                yield return (history, (TableEntity)action.Entity);
            }
        }

        foreach (var row in ApplyPlanner.PeerHistoryRows(received))
        {
            yield return (history, row);
        }

        foreach (var change in ApplyPlanner.EdgeChanges(received))
        {
            var edge = EdgeRecord.Fold(null, [change])!;
            yield return (edges, edge.ToEntity(change.OwnerRow));
            yield return (mirrors, edge.ToEntity(change.MirrorRow));
        }
    }

    /// <summary>The batches, split as the ingestor splits a large callback, so every part fits one queue message.</summary>
    private static RelationshipBatch[] Work(string shape, int pairs, int batches, string run, int maxBatchJsonBytes) =>
        Enumerable.Range(0, batches).Select(b => Batch(shape, pairs, run, b))
            .SelectMany(b => BatchSplitter.Split(b.BatchId, b.Source, b.Events, maxBatchJsonBytes)).ToArray();

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

/// <summary>Counts the store's requests (each attempt) by method and answer status.</summary>
internal sealed class RequestCounter : HttpPipelineSynchronousPolicy
{
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> Requests { get; } = new();

    public override void OnReceivedResponse(HttpMessage message)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{message.Request.Method.Method}{(message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) ? "-batch" : "")}-{message.Response.Status}");
        Requests.AddOrUpdate(key, 1, (_, n) => n + 1);
    }
}
