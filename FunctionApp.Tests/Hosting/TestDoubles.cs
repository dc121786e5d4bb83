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

    public Exception? FailWith { get; set; }

    public Task ApplyAsync(RelationshipBatch batch, CancellationToken cancellationToken)
    {
        if (FailWith is not null)
        {
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
