using Azure;
using Azure.Data.Tables;
using FunctionApp.Core;

namespace FunctionApp.Storage.Relationships;

public sealed class TableRelationshipStoreOptions
{
    /// <summary>Put before every table name (tests isolate themselves with it); default none.</summary>
    public string TablePrefix { get; set; } = "";

    /// <summary>Most requests in flight while applying one batch.</summary>
    public int MaxParallelRequests { get; set; } = 16;

    /// <summary>How often one partition's writes are re-read and retried after conflicts before giving up.</summary>
    public int MaxConflictRetries { get; set; } = 20;
}

/// <summary>
/// The relationship store on Table Storage (layout in README "Table layout"), on Azure.Data.Tables. Apply is a
/// pure planner (<see cref="ApplyPlanner"/>: what to insert, replace or skip, given what is stored and what arrives)
/// driven by this executor, which reads what a decision needs and writes what it is told, in three waves:
/// <list type="number">
/// <item>Receipts. The first receipt of an event id stands: each event's receipt row (<c>receipt|{eventId}</c>, in
/// its owner's history partition) is inserted in the same entity group transaction as its owner history row, so
/// recording an event costs no extra request. When the insert conflicts (409), the event was received before: only
/// then are the receipts read, and the copy takes the first receipt's occurrence and receive times. Its version and
/// history key are then those of the first receipt, so a copy never changes an edge, adds a history row or moves the
/// event in history order. Owner partitions with many edge rows are read in the same wave.</item>
/// <item>The peer-side history rows and the mirror (<c>RelationshipEdgesByPeer</c>).</item>
/// <item>The owners' edge rows, last: an owner row that covers an event proves its mirror does too, so a redelivered
/// batch costs no mirror writes.</item>
/// </list>
/// Edge writes are conditional (insert when missing, replace on the ETag read); a 409 or 412 re-reads only the rows of
/// the failed request, plans them again and retries.
/// </summary>
public sealed class TableRelationshipStore : IRelationshipBatchApplier, IRelationshipQueries
{
    public const string EdgesTableName = "RelationshipEdges";
    public const string EdgesByPeerTableName = "RelationshipEdgesByPeer";
    public const string HistoryTableName = "RelationshipHistory";
    private const int MaxTop = 1000;

    private readonly TableClient _edges;
    private readonly TableClient _edgesByPeer;
    private readonly TableClient _history;
    private readonly TableRelationshipStoreOptions _options;

    public TableRelationshipStore(TableServiceClient tables, TableRelationshipStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        _options = options ?? new TableRelationshipStoreOptions();
        _edges = tables.GetTableClient(_options.TablePrefix + EdgesTableName);
        _edgesByPeer = tables.GetTableClient(_options.TablePrefix + EdgesByPeerTableName);
        _history = tables.GetTableClient(_options.TablePrefix + HistoryTableName);
    }

    /// <summary>Creates the three tables when missing (at startup; Bicep creates them on Azure).</summary>
    public async Task EnsureTablesAsync(CancellationToken cancellationToken)
    {
        await _edges.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        await _edgesByPeer.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        await _history.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task ApplyAsync(RelationshipBatch batch, CancellationToken cancellationToken)
    {
        var arrived = ApplyPlanner.Receive(batch);

        // 1. Receipts (with the owners' history rows) and, beside them, the owner partitions worth reading first.
        var received = new List<ReceivedEvent>(arrived.Count);
        var ownerSnapshots = new Dictionary<string, IReadOnlyDictionary<string, StoredEdge?>>(StringComparer.Ordinal);
        var firstWave = arrived
            .GroupBy(e => e.OwnerPartition, StringComparer.Ordinal)
            .Select(partition => (Func<CancellationToken, Task>)(async ct =>
            {
                var events = await RecordReceiptsAsync(partition.Key, partition.ToList(), ct).ConfigureAwait(false);
                lock (received)
                {
                    received.AddRange(events);
                }
            }))
            .Concat(ApplyPlanner.OwnerPartitionsToRead(ApplyPlanner.EdgeChanges(arrived))
                .Select(partition => (Func<CancellationToken, Task>)(async ct =>
                {
                    var rows = await ReadEdgesAsync(_edges, partition.PartitionKey, partition.RowKeys, ct).ConfigureAwait(false);
                    lock (ownerSnapshots)
                    {
                        ownerSnapshots[partition.PartitionKey] = rows;
                    }
                })));
        await RunAllAsync(firstWave, cancellationToken).ConfigureAwait(false);

        // 2. The peers' history rows and the mirror, from the events at their first receipt.
        var changes = ApplyPlanner.EdgeChanges(received);
        var mirrors = ApplyPlanner.PlanMirrors(changes, ownerSnapshots);
        var secondWave = ApplyPlanner.PeerHistoryRows(received)
            .GroupBy(row => row.PartitionKey, StringComparer.Ordinal)
            .Select(partition => (Func<CancellationToken, Task>)(ct => UpsertAllAsync(_history, partition.ToList(), ct)))
            .Concat(mirrors.Values.Select(work => (Func<CancellationToken, Task>)(ct => ApplyEdgePartitionAsync(work, ct))));
        await RunAllAsync(secondWave, cancellationToken).ConfigureAwait(false);

        // 3. The owners' rows, last.
        var owners = ApplyPlanner.PlanOwners(changes, ownerSnapshots,
            mirror => mirrors.TryGetValue(mirror.PartitionKey, out var work) && work.Inserted.Contains(mirror.RowKey));
        await RunAllAsync(owners.Select(work => (Func<CancellationToken, Task>)(ct => ApplyEdgePartitionAsync(work, ct))), cancellationToken).ConfigureAwait(false);
    }

    public async Task<Core.Page<EdgeView>> ListEdgesAsync(string appId, string userId, EdgeListKind list, int top, string? continuation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(appId);
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(top, MaxTop);
        var start = ContinuationToken.Decode('e', continuation);
        var (table, kind, fromPeer) = list switch
        {
            EdgeListKind.Friends => (_edges, RelationshipKind.Friend, false),
            EdgeListKind.Blocklist => (_edges, RelationshipKind.Block, false),
            EdgeListKind.FriendOf => (_edgesByPeer, RelationshipKind.Friend, true),
            EdgeListKind.BlockedBy => (_edgesByPeer, RelationshipKind.Block, true),
            _ => throw new ArgumentOutOfRangeException(nameof(list), list, null),
        };
        var partitionKey = RelationshipKeys.UserPartition(appId, userId);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partitionKey} and RowKey ge {RelationshipKeys.KindRangeStart(kind)} and RowKey lt {RelationshipKeys.KindRangeEnd(kind)} and State eq {EdgeRecord.StateName(EdgeState.Present)}");
        var (entities, next) = await QueryPageAsync(table, filter, top, start, cancellationToken).ConfigureAwait(false);
        var items = entities.Select(EdgeRecord.FromEntity).Select(edge => new EdgeView(
            fromPeer ? edge.Owner : edge.Peer,
            edge.Since ?? edge.LastChangedAt,
            edge.LastChangedAt,
            edge.Platform ?? "",
            edge.Command ?? "",
            edge.EffectiveAttributes())).ToList();
        return new Core.Page<EdgeView>(items, ContinuationToken.Encode('e', next));
    }

    public async Task<Core.Page<HistoryEntry>> ListHistoryAsync(string appId, string userId, HistoryFilter filter, int top, string? continuation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(appId);
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(top, MaxTop);
        var start = ContinuationToken.Decode('h', continuation);
        // History rows only: receipts share the partition and sort after them.
        var expression = TableClient.CreateQueryFilter(
            $"PartitionKey eq {RelationshipKeys.UserPartition(appId, userId)} and RowKey lt {RelationshipKeys.HistoryRangeEnd}");
        if (filter.Peer is not null)
        {
            expression += " and " + TableClient.CreateQueryFilter($"OtherUser eq {filter.Peer}");
        }

        if (filter.Kind is { } kind)
        {
            expression += " and " + TableClient.CreateQueryFilter($"Kind eq {RelationshipKeys.KindName(kind)}");
        }

        var (entities, next) = await QueryPageAsync(_history, expression, top, start, cancellationToken).ConfigureAwait(false);
        return new Core.Page<HistoryEntry>(entities.Select(HistoryRecord.FromEntity).ToList(), ContinuationToken.Encode('h', next));
    }

    /// <summary>Fills a page up to <paramref name="top"/>: with a filter on non-key properties the service may return short pages.</summary>
    private static async Task<(List<TableEntity> Entities, string? Next)> QueryPageAsync(
        TableClient table, string filter, int top, string? start, CancellationToken cancellationToken)
    {
        var entities = new List<TableEntity>();
        var continuation = start;
        do
        {
            var wanted = top - entities.Count;
            await foreach (var page in table.QueryAsync<TableEntity>(filter, wanted, cancellationToken: cancellationToken)
                               .AsPages(continuation, wanted).ConfigureAwait(false))
            {
                entities.AddRange(page.Values);
                continuation = page.ContinuationToken;
                break;
            }
        }
        while (continuation is not null && entities.Count < top);

        return (entities, continuation);
    }

    private async Task RunAllAsync(IEnumerable<Func<CancellationToken, Task>> jobs, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(jobs,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.MaxParallelRequests), CancellationToken = cancellationToken },
            async (job, ct) => await job(ct).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>
    /// Records the first receipts of one owner partition's events and returns every event at its first receipt. The
    /// transactions go one after another; the first that conflicts stops them, the receipts of everything not yet
    /// recorded are read (one range query when many), and the rest is planned again.
    /// </summary>
    private async Task<List<ReceivedEvent>> RecordReceiptsAsync(string partitionKey, List<ReceivedEvent> events, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<string, Receipt?>(StringComparer.Ordinal);
        var result = new List<ReceivedEvent>(events.Count);
        var pending = events;
        for (var attempt = 0; ; attempt++)
        {
            var plan = ApplyPlanner.PlanReceipts(pending, stored);
            result.AddRange(plan.Received);
            var recorded = 0;
            var conflicted = false;
            foreach (var transaction in ApplyPlanner.ReceiptTransactions(plan.ToRecord))
            {
                try
                {
                    await _history.SubmitTransactionAsync(transaction, cancellationToken).ConfigureAwait(false);
                    recorded += transaction.Count / 2;
                }
                catch (TableTransactionFailedException ex) when (ex.Status == 409 && attempt < _options.MaxConflictRetries)
                {
                    conflicted = true;
                    break;
                }
            }

            result.AddRange(plan.ToRecord.Take(recorded));
            if (!conflicted)
            {
                return result;
            }

            pending = plan.ToRecord.Skip(recorded).ToList();
            var eventIds = pending.ToDictionary(e => RelationshipKeys.ReceiptRow(e.EventId), e => e.EventId, StringComparer.Ordinal);
            foreach (var (rowKey, entity) in await ReadRowsAsync(_history, partitionKey, eventIds.Keys.ToList(), cancellationToken).ConfigureAwait(false))
            {
                stored[eventIds[rowKey]] = entity is null ? null : Receipt.FromEntity(entity);
            }
        }
    }

    /// <summary>Upserts whole history rows of one partition, 100 per entity group transaction.</summary>
    private static async Task UpsertAllAsync(TableClient table, List<TableEntity> rows, CancellationToken cancellationToken)
    {
        foreach (var chunk in rows.Chunk(ApplyPlanner.MaxTransactionActions))
        {
            if (chunk.Length == 1)
            {
                await table.UpsertEntityAsync(chunk[0], TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await table.SubmitTransactionAsync(
                    chunk.Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Runs the edge plan of one partition: read the rows not known yet, write what <see cref="ApplyPlanner.PlanEdgeWrites"/>
    /// says, 100 per transaction; after a 409 or 412 (or 404 on a row deleted meanwhile) forget just the rows of the
    /// failed request and go round again. A transaction fails whole, so one existing row among assumed-new ones costs
    /// the request and a read of its rows; that is a lost guess, not contention, so the retry does not back off.
    /// </summary>
    private async Task ApplyEdgePartitionAsync(EdgePartitionWork work, CancellationToken cancellationToken)
    {
        var table = work.Table == EdgeTable.Edges ? _edges : _edgesByPeer;
        var pending = work.Changes.Keys.ToHashSet(StringComparer.Ordinal);
        for (var attempt = 0; ; attempt++)
        {
            var unknown = pending.Where(rowKey => !work.Known.ContainsKey(rowKey)).ToList();
            if (unknown.Count > 0)
            {
                foreach (var (rowKey, stored) in await ReadEdgesAsync(table, work.PartitionKey, unknown, cancellationToken).ConfigureAwait(false))
                {
                    work.Known[rowKey] = stored;
                    work.Assumed.Remove(rowKey);
                }
            }

            var writes = ApplyPlanner.PlanEdgeWrites(pending, work.Changes, work.Known);
            pending.Clear();
            var contended = false;
            foreach (var chunk in writes.Chunk(ApplyPlanner.MaxTransactionActions))
            {
                try
                {
                    await WriteEdgesAsync(table, work.PartitionKey, chunk, cancellationToken).ConfigureAwait(false);
                    work.Inserted.UnionWith(chunk.Where(w => w.Kind == EdgeWriteKind.Insert).Select(w => w.RowKey));
                }
                catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404 && attempt < _options.MaxConflictRetries)
                {
                    // Another writer got there first, or a row taken as new exists: nothing of the chunk was applied.
                    foreach (var write in chunk)
                    {
                        contended |= !work.Assumed.Remove(write.RowKey);
                        pending.Add(write.RowKey);
                        work.Known.Remove(write.RowKey);
                    }
                }
            }

            if (pending.Count == 0)
            {
                return;
            }

            if (contended)
            {
                await Task.Delay(Random.Shared.Next(5, 20 * (attempt + 1)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task WriteEdgesAsync(TableClient table, string partitionKey, EdgeWrite[] writes, CancellationToken cancellationToken)
    {
        TableEntity Entity(EdgeWrite write) => write.Next.ToEntity(new RowAddress(partitionKey, write.RowKey));
        if (writes.Length == 1)
        {
            var write = writes[0];
            _ = write.Kind == EdgeWriteKind.Insert
                ? await table.AddEntityAsync(Entity(write), cancellationToken).ConfigureAwait(false)
                : await table.UpdateEntityAsync(Entity(write), write.IfMatch, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return;
        }

        await table.SubmitTransactionAsync(writes.Select(write => write.Kind == EdgeWriteKind.Insert
            ? new TableTransactionAction(TableTransactionActionType.Add, Entity(write))
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, Entity(write), write.IfMatch)), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Dictionary<string, StoredEdge?>> ReadEdgesAsync(TableClient table, string partitionKey, IReadOnlyList<string> rowKeys, CancellationToken cancellationToken) =>
        (await ReadRowsAsync(table, partitionKey, rowKeys, cancellationToken).ConfigureAwait(false))
        .ToDictionary(row => row.Key, row => row.Value is null ? null : new StoredEdge(EdgeRecord.FromEntity(row.Value), row.Value.ETag), StringComparer.Ordinal);

    /// <summary>Current rows of one partition: point reads when few, else one range query over their key span.</summary>
    private static async Task<Dictionary<string, TableEntity?>> ReadRowsAsync(TableClient table, string partitionKey, IReadOnlyList<string> rowKeys, CancellationToken cancellationToken)
    {
        var rows = rowKeys.Distinct(StringComparer.Ordinal).ToDictionary(rowKey => rowKey, _ => (TableEntity?)null, StringComparer.Ordinal);
        if (rows.Count <= ApplyPlanner.PointReadLimit)
        {
            var keys = rows.Keys.ToList();
            var reads = await Task.WhenAll(keys.Select(rowKey => table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < keys.Count; i++)
            {
                rows[keys[i]] = reads[i].HasValue ? reads[i].Value : null;
            }

            return rows;
        }

        var first = rows.Keys.Min(StringComparer.Ordinal)!;
        var last = rows.Keys.Max(StringComparer.Ordinal)!;
        await foreach (var entity in table.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {first} and RowKey le {last}"),
                           cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (rows.ContainsKey(entity.RowKey))
            {
                rows[entity.RowKey] = entity;
            }
        }

        return rows;
    }
}
