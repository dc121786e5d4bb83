using System.Diagnostics;
using System.Globalization;
using System.Security;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Storage.Http;
using FunctionApp.Storage.Queues;

namespace LoadGenerator;

/// <summary>
/// The storage baselines, measured against the same Azurite in the same run as the app, through the same clients
/// the app uses (the table baselines through <see cref="StorageClients"/>' Azure.Data.Tables client), with nothing else around them.
/// </summary>
internal static class StorageBaselines
{
    /// <summary>Raw Storage-queue Put Message, closed loop on N connections, messages the size of a 3-pair batch.</summary>
    public static async Task<int> QueuePutAsync(Options options, CancellationToken cancellationToken)
    {
        var queue = new RawQueue(StorageConnectionString.Parse(options.Required("storage")), options.Get("queue", "bench-baseline"));
        await queue.CreateAsync(cancellationToken);
        var message = RelationshipQueueMessage.Encode(SampleBatch(options.Int("pairs", 3), "baseline"));
        var connections = options.Int("connections", 16);
        var duration = TimeSpan.FromSeconds(options.Double("duration", 10));
        var warmup = TimeSpan.FromSeconds(options.Double("warmup", 2));
        var latencies = await ClosedLoopAsync(connections, warmup, duration, _ => queue.PutAsync(message, cancellationToken), cancellationToken);
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
        var queue = new RawQueue(StorageConnectionString.Parse(options.Required("storage")), options.Required("queue"));
        Console.WriteLine(await queue.ApproximateCountAsync(cancellationToken));
        return 0;
    }

    /// <summary>Deletes a queue a measurement filled, so its messages do not slow the emulator in later measurements.</summary>
    public static async Task<int> QueueDeleteAsync(Options options, CancellationToken cancellationToken)
    {
        var queues = new FunctionApp.Storage.Queues.QueueServiceClient(StorageConnectionString.Parse(options.Required("storage")));
        await queues.GetQueueClient(options.Required("queue")).DeleteIfExistsAsync(cancellationToken);
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

/// <summary>The three Queue REST calls the baselines and checks need, on the app's storage pipeline.</summary>
internal sealed class RawQueue
{
    private readonly HttpPipeline _pipeline;
    private readonly Uri _queueUri;

    public RawQueue(StorageAccount account, string name)
    {
        _pipeline = StoragePipeline.Create(account, StorageService.Queue);
        _queueUri = new Uri(account.GetServiceUri(StorageService.Queue).ToString().TrimEnd('/') + "/" + name);
    }

    public async Task CreateAsync(CancellationToken cancellationToken)
    {
        using var message = Message(RequestMethod.Put, "");
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status is not (201 or 204))
        {
            throw StorageErrors.ToException(message.Response, "Create queue");
        }
    }

    public async Task PutAsync(string text, CancellationToken cancellationToken)
    {
        using var message = Message(RequestMethod.Post, "/messages");
        message.Request.Headers.SetValue("Content-Type", "application/xml");
        message.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(
            "<QueueMessage><MessageText>" + SecurityElement.Escape(text) + "</MessageText></QueueMessage>"));
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status != 201)
        {
            throw StorageErrors.ToException(message.Response, "Put message");
        }
    }

    public async Task<long> ApproximateCountAsync(CancellationToken cancellationToken)
    {
        using var message = Message(RequestMethod.Get, "?comp=metadata");
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status == 404)
        {
            return 0;
        }

        if (message.Response.Status != 200 || !message.Response.Headers.TryGetValue("x-ms-approximate-messages-count", out var count))
        {
            throw StorageErrors.ToException(message.Response, "Get queue metadata");
        }

        return long.Parse(count!, CultureInfo.InvariantCulture);
    }

    private HttpMessage Message(RequestMethod method, string suffix)
    {
        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(new Uri(_queueUri + suffix));
        return message;
    }
}
