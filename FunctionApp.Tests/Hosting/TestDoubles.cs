using System.Collections.Concurrent;
using FunctionApp.Core;
using FunctionApp.Hosting;

namespace FunctionApp.Tests.Hosting;

/// <summary>Sample values shared by the hosting tests.</summary>
internal static class Samples
{
    public static readonly DateTimeOffset Time = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    public static RelationshipBatch Batch(string batchId = "batch-1", int part = 1, int partCount = 1) => new(
        RelationshipBatch.CurrentSchemaVersion,
        batchId,
        part,
        partCount,
        new CallbackSource("tencent", "1400000001", "Sns.CallbackFriendAdd", "203.0.113.7", "iOS", Time, Time.AddMilliseconds(5), null),
        [new RelationshipEvent($"{batchId}-e1", RelationshipKind.Friend, RelationshipAction.Added, "id", "id1", Time,
            new Dictionary<string, string> { ["initiator"] = "id" })]);

    public static IngestResult Result(string outcome = "accepted", int statusCode = 200, params RelationshipBatch[] batches) => new(
        new CallbackAnswer(statusCode, "application/json", "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\"}"),
        new CallbackAnswer(200, "application/json", "{\"ActionStatus\":\"FAIL\",\"ErrorCode\":1,\"ErrorInfo\":\"queue unavailable\"}"),
        batches,
        new IngestOutcome("tencent", "1400000001", "Sns.CallbackFriendAdd", batches.Sum(b => b.Events.Count), outcome,
            outcome == "accepted" ? null : "scripted " + outcome));
}

/// <summary>Records each callback and answers with a scripted result.</summary>
internal sealed class RecordingCallbackIngestor(Func<InboundCallback, IngestResult> script) : ICallbackIngestor
{
    public ConcurrentQueue<InboundCallback> Received { get; } = new();

    public IngestResult Ingest(InboundCallback callback)
    {
        Received.Enqueue(callback);
        return script(callback);
    }

    public IngestResult? RefuseBeforeBody(InboundCallback callback) => null;
}

/// <summary>Records enqueued batches; fails when told to.</summary>
internal sealed class RecordingEventQueue : IRelationshipEventQueue
{
    public ConcurrentQueue<RelationshipBatch> Enqueued { get; } = new();

    public Exception? FailWith { get; set; }

    public int MaxBatchJsonBytes => 192 * 1024;

    public Task EnqueueAsync(IReadOnlyList<RelationshipBatch> batches, CancellationToken cancellationToken)
    {
        if (FailWith is not null)
        {
            throw FailWith;
        }

        foreach (var batch in batches)
        {
            Enqueued.Enqueue(batch);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Records applied batches; fails when told to.</summary>
internal sealed class RecordingBatchApplier : IRelationshipBatchApplier
{
    public ConcurrentQueue<RelationshipBatch> Applied { get; } = new();

    /// <summary>Thrown by every call while set, or by the first <see cref="FailuresLeft"/> calls when that is above 0.</summary>
    public Exception? FailWith { get; set; }

    public int FailuresLeft { get; set; } = -1;

    public int Calls => Volatile.Read(ref _calls);

    private int _calls;

    public Task ApplyAsync(RelationshipBatch batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        if (FailWith is not null && FailuresLeft != 0)
        {
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
            }

            throw FailWith;
        }

        Applied.Enqueue(batch);
        return Task.CompletedTask;
    }
}

/// <summary>One recorded query call.</summary>
internal sealed record QueryCall(string AppId, string UserId, EdgeListKind? List, HistoryFilter? Filter, int Top, string? Continuation);

/// <summary>Answers with scripted pages and records every call.</summary>
internal sealed class ScriptedRelationshipQueries : IRelationshipQueries
{
    public ConcurrentQueue<QueryCall> Calls { get; } = new();

    public Page<EdgeView> Edges { get; set; } = new([], null);

    public Page<HistoryEntry> History { get; set; } = new([], null);

    public Exception? FailWith { get; set; }

    public Task<Page<EdgeView>> ListEdgesAsync(string appId, string userId, EdgeListKind list, int top, string? continuation, CancellationToken cancellationToken)
    {
        Calls.Enqueue(new QueryCall(appId, userId, list, null, top, continuation));
        return FailWith is null ? Task.FromResult(Edges) : Task.FromException<Page<EdgeView>>(FailWith);
    }

    public Task<Page<HistoryEntry>> ListHistoryAsync(string appId, string userId, HistoryFilter filter, int top, string? continuation, CancellationToken cancellationToken)
    {
        Calls.Enqueue(new QueryCall(appId, userId, null, filter, top, continuation));
        return FailWith is null ? Task.FromResult(History) : Task.FromException<Page<HistoryEntry>>(FailWith);
    }
}

internal sealed class ScriptedHealthProbe(string name, bool healthy) : IHealthProbe
{
    private int _checks;

    public string Name => name;

    public int Checks => Volatile.Read(ref _checks);

    public Task CheckAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _checks);
        return healthy ? Task.CompletedTask : Task.FromException(new IOException($"{name} did not answer"));
    }
}

/// <summary>The app's batch processor over a test applier: one try per delivery unless the options say otherwise.</summary>
internal static class TestProcessors
{
    public static IRelationshipBatchProcessor Of(IRelationshipBatchApplier applier, RedeliveryOptions? options = null) =>
        new FunctionApp.Messaging.RelationshipBatchProcessor(applier, options ?? new RedeliveryOptions { RetryWithinDelivery = TimeSpan.Zero },
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
}

/// <summary>Records the redelivery copies scheduled, or fails with <see cref="FailWith"/>.</summary>
internal sealed class RecordingRedeliveryScheduler : IBatchRedeliveryScheduler
{
    public ConcurrentQueue<(ReadOnlyMemory<byte> Body, string OriginalMessageId, Redelivery Redelivery)> Scheduled { get; } = new();

    public Exception? FailWith { get; set; }

    public Task ScheduleAsync(ReadOnlyMemory<byte> body, string originalMessageId, Redelivery redelivery, CancellationToken cancellationToken)
    {
        if (FailWith is not null)
        {
            throw FailWith;
        }

        Scheduled.Enqueue((body.ToArray(), originalMessageId, redelivery));
        return Task.CompletedTask;
    }
}
