using Azure;
using Azure.Data.Tables;
using FunctionApp.Core;

namespace FunctionApp.Storage.Relationships;

/// <summary>Which edge table a partition's rows are in.</summary>
internal enum EdgeTable
{
    /// <summary><c>RelationshipEdges</c>: the edge in its owner's partition, written last (the commit marker).</summary>
    Edges,

    /// <summary><c>RelationshipEdgesByPeer</c>: the mirror in the peer's partition, written before the owner's row.</summary>
    EdgesByPeer,
}

/// <summary>How an edge row is written.</summary>
internal enum EdgeWriteKind
{
    /// <summary>The row is (taken as) missing: insert, which fails with 409 if it exists.</summary>
    Insert,

    /// <summary>The row was read: replace it if its ETag still matches (412 otherwise).</summary>
    Replace,
}

/// <summary>One planned edge write; rows the plan leaves out need no write.</summary>
internal sealed record EdgeWrite(string RowKey, EdgeWriteKind Kind, EdgeRecord Next, ETag IfMatch);

/// <summary>Receipts of one owner partition: the events recorded now, and copies of events received before.</summary>
/// <param name="ToRecord">First receipts: each one's receipt row and owner history row go in together.</param>
/// <param name="Received">Copies of events whose receipt is stored, taken at their first receipt: their owner history row exists.</param>
internal sealed record ReceiptPlan(IReadOnlyList<ReceivedEvent> ToRecord, IReadOnlyList<ReceivedEvent> Received);

/// <summary>
/// The edge changes of one partition of one edge table and what is known of its rows; the executor updates it as it
/// reads and writes (<see cref="Known"/>, <see cref="Assumed"/>, <see cref="Inserted"/>).
/// </summary>
internal sealed class EdgePartitionWork(EdgeTable table, string partitionKey)
{
    public EdgeTable Table { get; } = table;
    public string PartitionKey { get; } = partitionKey;
    public Dictionary<string, List<EdgeChange>> Changes { get; } = new(StringComparer.Ordinal);

    /// <summary>Row key to stored row (null: missing, as read or assumed); rows not here are read first.</summary>
    public Dictionary<string, StoredEdge?> Known { get; } = new(StringComparer.Ordinal);

    /// <summary>Rows taken as missing without a read (insert tried; a 409 re-reads them).</summary>
    public HashSet<string> Assumed { get; } = new(StringComparer.Ordinal);

    /// <summary>Rows this work inserted.</summary>
    public HashSet<string> Inserted { get; } = new(StringComparer.Ordinal);

    public void Add(string rowKey, EdgeChange change, bool assumeMissing)
    {
        if (!Changes.TryGetValue(rowKey, out var list))
        {
            Changes[rowKey] = list = [];
            if (assumeMissing)
            {
                Known[rowKey] = null;
                Assumed.Add(rowKey);
            }
        }

        list.Add(change);
    }
}

/// <summary>
/// The decisions of an apply, from what is stored and what arrives, with no I/O: the executor
/// (<see cref="TableRelationshipStore"/>) reads what a decision needs, asks, and writes what it is told.
/// </summary>
internal static class ApplyPlanner
{
    /// <summary>Partitions with up to this many rows to read are read by point reads, larger ones by one range query.</summary>
    public const int PointReadLimit = 4;

    /// <summary>Most operations in one entity group transaction.</summary>
    public const int MaxTransactionActions = 100;

    /// <summary>The events of a batch, each event id once (the first in the batch stands); <see cref="InvalidBatchException"/> when a key cannot be made.</summary>
    public static IReadOnlyList<ReceivedEvent> Receive(RelationshipBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        try
        {
            var events = batch.Events.DistinctBy(e => e.EventId, StringComparer.Ordinal).Select(e => ReceivedEvent.Of(e, batch.Source, batch.BatchId)).ToList();
            foreach (var e in events)
            {
                // Every key this event needs, so a bad id fails the batch before anything is written.
                _ = (e.OwnerPartition, e.PeerPartition, e.HistoryRowKey, RelationshipKeys.ReceiptRow(e.EventId));
                if (IsEdgeEvent(e.Event))
                {
                    _ = (RelationshipKeys.EdgeRow(e.Event.Kind, e.Event.Peer), RelationshipKeys.EdgeRow(e.Event.Kind, e.Event.Owner));
                }
            }

            return events;
        }
        catch (ArgumentException ex)
        {
            throw new InvalidBatchException($"The batch cannot be stored: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Splits one owner partition's events by what its receipts say: an event without a known receipt is recorded
    /// (a missing entry in <paramref name="stored"/> means not read, taken as missing); one with a receipt is a copy
    /// and takes the first receipt's times, so it changes nothing that the first receipt did not.
    /// </summary>
    public static ReceiptPlan PlanReceipts(IEnumerable<ReceivedEvent> pending, IReadOnlyDictionary<string, Receipt?> stored)
    {
        var toRecord = new List<ReceivedEvent>();
        var received = new List<ReceivedEvent>();
        foreach (var e in pending)
        {
            if (stored.GetValueOrDefault(e.EventId) is { } first)
            {
                received.Add(e.AsFirstReceived(first));
            }
            else
            {
                toRecord.Add(e);
            }
        }

        return new ReceiptPlan(toRecord, received);
    }

    /// <summary>
    /// The transactions that record first receipts in one owner partition: each event's receipt (insert, so a copy
    /// received meanwhile fails it with 409) with its owner history row, never split across transactions.
    /// </summary>
    public static IEnumerable<IReadOnlyList<TableTransactionAction>> ReceiptTransactions(IEnumerable<ReceivedEvent> toRecord) =>
        toRecord.Chunk(MaxTransactionActions / 2).Select(chunk => (IReadOnlyList<TableTransactionAction>)chunk
            .SelectMany(e => new[]
            {
                new TableTransactionAction(TableTransactionActionType.Add, Receipt.Of(e).ToEntity(e.OwnerPartition)),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, HistoryRecord.ToEntity(e, HistorySide.Owner)),
            })
            .ToList());

    /// <summary>The peer-side history rows, at each event's first receipt; written whole, so writing one again changes nothing.</summary>
    public static IEnumerable<TableEntity> PeerHistoryRows(IEnumerable<ReceivedEvent> events) =>
        events.Where(e => e.HasPeerSide).Select(e => HistoryRecord.ToEntity(e, HistorySide.Peer));

    /// <summary>What the events do to edges (friend and block added, removed or updated), at each event's first receipt.</summary>
    public static IReadOnlyList<EdgeChange> EdgeChanges(IEnumerable<ReceivedEvent> events) => events
        .Where(e => IsEdgeEvent(e.Event))
        .Select(e => new EdgeChange(e.Source.AppId, e.Event.Owner, e.Event.Peer, e.Event.Kind, e.Event.Action, e.Version, e.EventId,
            e.OccurredAt, e.Source.Platform, e.Source.Command, e.Event.Attributes))
        .ToList();

    /// <summary>
    /// Owner partitions read before anything is written: those with more changed rows than point reads serve. Their
    /// rows may well exist, and an owner row that already covers its events spares the mirror writes. Partitions with a
    /// few rows are not read: their rows are most likely new, so they are inserted and only a 409 costs a read.
    /// </summary>
    public static IEnumerable<(string PartitionKey, IReadOnlyList<string> RowKeys)> OwnerPartitionsToRead(IEnumerable<EdgeChange> changes) => changes
        .GroupBy(c => c.OwnerRow.PartitionKey, StringComparer.Ordinal)
        .Select(g => (g.Key, (IReadOnlyList<string>)g.Select(c => c.OwnerRow.RowKey).Distinct(StringComparer.Ordinal).ToList()))
        .Where(p => p.Item2.Count > PointReadLimit);

    /// <summary>
    /// The mirror work: every change whose owner row does not already cover it (the owner's row is written last, so one
    /// that covers its events proves the mirror does too). A mirror row is taken as missing unless its owner row was
    /// read and exists.
    /// </summary>
    public static IReadOnlyDictionary<string, EdgePartitionWork> PlanMirrors(
        IEnumerable<EdgeChange> changes, IReadOnlyDictionary<string, IReadOnlyDictionary<string, StoredEdge?>> ownerSnapshots)
    {
        var changeList = changes.ToList();
        var byOwnerRow = changeList.GroupBy(c => c.OwnerRow).ToDictionary(g => g.Key, g => g.ToList());
        var mirrors = new Dictionary<string, EdgePartitionWork>(StringComparer.Ordinal);
        foreach (var change in changeList)
        {
            var assumeMissing = true;
            if (ownerSnapshots.TryGetValue(change.OwnerRow.PartitionKey, out var snapshot))
            {
                var ownerRow = snapshot.GetValueOrDefault(change.OwnerRow.RowKey);
                if (ownerRow is not null && ownerRow.Record.Covers(byOwnerRow[change.OwnerRow]))
                {
                    continue;
                }

                assumeMissing = ownerRow is null;
            }

            var mirror = change.MirrorRow;
            if (!mirrors.TryGetValue(mirror.PartitionKey, out var work))
            {
                mirrors[mirror.PartitionKey] = work = new EdgePartitionWork(EdgeTable.EdgesByPeer, mirror.PartitionKey);
            }

            work.Add(mirror.RowKey, change, assumeMissing);
        }

        return mirrors;
    }

    /// <summary>
    /// The owners' work, after the mirrors: a row read first keeps what was read; an unread row whose mirror was just
    /// inserted is most likely missing too (the owner row is never written before its mirror) and is inserted at once;
    /// any other unread row is read first.
    /// </summary>
    public static IReadOnlyList<EdgePartitionWork> PlanOwners(
        IEnumerable<EdgeChange> changes,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, StoredEdge?>> ownerSnapshots,
        Func<RowAddress, bool> mirrorInserted)
    {
        var owners = new Dictionary<string, EdgePartitionWork>(StringComparer.Ordinal);
        foreach (var change in changes)
        {
            var row = change.OwnerRow;
            if (!owners.TryGetValue(row.PartitionKey, out var work))
            {
                owners[row.PartitionKey] = work = new EdgePartitionWork(EdgeTable.Edges, row.PartitionKey);
            }

            var snapshot = ownerSnapshots.GetValueOrDefault(row.PartitionKey);
            work.Add(row.RowKey, change, assumeMissing: snapshot is null && mirrorInserted(change.MirrorRow));
            if (snapshot is not null)
            {
                work.Known[row.RowKey] = snapshot.GetValueOrDefault(row.RowKey);
            }
        }

        return owners.Values.ToList();
    }

    /// <summary>
    /// The writes of <paramref name="rowKeys"/> of one partition: each row's changes folded into what is known of it;
    /// a row that would not change is left out, a missing one is inserted, an existing one replaced on its ETag.
    /// Every row in <paramref name="rowKeys"/> must be in <paramref name="known"/>.
    /// </summary>
    public static IReadOnlyList<EdgeWrite> PlanEdgeWrites(
        IEnumerable<string> rowKeys, IReadOnlyDictionary<string, List<EdgeChange>> changes, IReadOnlyDictionary<string, StoredEdge?> known)
    {
        var writes = new List<EdgeWrite>();
        foreach (var rowKey in rowKeys.Order(StringComparer.Ordinal))
        {
            var current = known[rowKey];
            if (EdgeRecord.Fold(current?.Record, changes[rowKey]) is { } next)
            {
                writes.Add(current is null
                    ? new EdgeWrite(rowKey, EdgeWriteKind.Insert, next, default)
                    : new EdgeWrite(rowKey, EdgeWriteKind.Replace, next, current.ETag));
            }
        }

        return writes;
    }

    private static bool IsEdgeEvent(RelationshipEvent e) =>
        e.Kind is RelationshipKind.Friend or RelationshipKind.Block
        && e.Action is RelationshipAction.Added or RelationshipAction.Removed or RelationshipAction.Updated;
}
