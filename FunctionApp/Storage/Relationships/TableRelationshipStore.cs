using Azure;
using FunctionApp.Core;
using FunctionApp.Storage.Tables;

namespace FunctionApp.Storage.Relationships;

public sealed class TableRelationshipStoreOptions
{
    /// <summary>Put before every table name (tests isolate themselves with it); default none.</summary>
    public string TablePrefix { get; set; } = "";

    /// <summary>Most requests in flight while applying one batch.</summary>
    public int MaxParallelRequests { get; set; } = 16;

    /// <summary>How often one partition's writes are re-read and retried after ETag conflicts before giving up.</summary>
    public int MaxConflictRetries { get; set; } = 20;
}

/// <summary>
/// The relationship store on Table Storage (layout in README "Table layout"). Apply order makes the owner's edge row
/// the commit marker: history rows and the peer-side mirror are written first, the owner's edge row last, so a row
/// that already covers an event proves its mirror does too and a redelivered batch costs no mirror writes.
/// </summary>
public sealed class TableRelationshipStore : IRelationshipBatchApplier, IRelationshipQueries
{
    public const string EdgesTableName = "RelationshipEdges";
    public const string EdgesByPeerTableName = "RelationshipEdgesByPeer";
    public const string HistoryTableName = "RelationshipHistory";
    private const int MaxTop = 1000;
    private const int PointReadLimit = 4;

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
        ArgumentNullException.ThrowIfNull(batch);
        var source = batch.Source;
        List<TableEntity> historyRows;
        List<(string PartitionKey, string RowKey, EdgeChange Change, string MirrorPartitionKey, string MirrorRowKey)> edgeChanges;
        try
        {
            historyRows = batch.Events
                .SelectMany(e => e.Owner == e.Peer
                    ? [HistoryRecord.ToEntity(e, source, batch.BatchId, e.Owner, "owner")]
                    : new[] { HistoryRecord.ToEntity(e, source, batch.BatchId, e.Owner, "owner"), HistoryRecord.ToEntity(e, source, batch.BatchId, e.Peer, "peer") })
                .DistinctBy(row => (row.PartitionKey, row.RowKey))
                .ToList();
            edgeChanges = batch.Events
                .Where(e => e.Kind is RelationshipKind.Friend or RelationshipKind.Block
                            && e.Action is RelationshipAction.Added or RelationshipAction.Removed or RelationshipAction.Updated)
                .Select(e => (
                    RelationshipKeys.UserPartition(source.AppId, e.Owner),
                    RelationshipKeys.EdgeRow(e.Kind, e.Peer),
                    new EdgeChange(source.AppId, e.Owner, e.Peer, e.Kind, e.Action, EventVersion.Of(e, source), e.EventId,
                        e.OccurredAt, source.Platform, source.Command, e.Attributes),
                    RelationshipKeys.UserPartition(source.AppId, e.Peer),
                    RelationshipKeys.EdgeRow(e.Kind, e.Owner)))
                .ToList();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidBatchException($"The batch cannot be stored: {ex.Message}", ex);
        }

        // 1. Owner partitions with more changed rows than point reads serve are read first, in one range query: their
        //    rows may well exist, and an owner row that already covers its events spares the mirror writes (a
        //    redelivered batch costs no mirror work). Partitions with a few rows are not read: their rows are most
        //    likely new, so their mirror and owner rows are inserted optimistically and only a 409 costs a read.
        var ownerPartitions = edgeChanges
            .GroupBy(c => c.PartitionKey)
            .ToDictionary(
                g => g.Key,
                g => g.GroupBy(c => c.RowKey).ToDictionary(r => r.Key, r => r.Select(c => c.Change).ToList(), StringComparer.Ordinal),
                StringComparer.Ordinal);
        var ownerSnapshots = new Dictionary<string, Dictionary<string, TableEntity?>>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ownerPartitions.Where(p => p.Value.Count > PointReadLimit), ParallelOptions(cancellationToken), async (partition, ct) =>
        {
            var snapshot = await ReadRowsAsync(_edges, partition.Key, partition.Value.Keys.ToList(), ct).ConfigureAwait(false);
            lock (ownerSnapshots)
            {
                ownerSnapshots[partition.Key] = snapshot;
            }
        }).ConfigureAwait(false);

        // 2. History (every partition) and the peer-side mirror, side by side.
        var mirrorPartitions = new Dictionary<string, EdgePartitionWork>(StringComparer.Ordinal);
        var mirrorOf = new Dictionary<(string PartitionKey, string RowKey), (string PartitionKey, string RowKey)>();
        foreach (var (partitionKey, rowKey, change, mirrorPartitionKey, mirrorRowKey) in edgeChanges)
        {
            mirrorOf[(partitionKey, rowKey)] = (mirrorPartitionKey, mirrorRowKey);
            var assumeMissing = true;
            if (ownerSnapshots.TryGetValue(partitionKey, out var snapshot))
            {
                var ownerRow = snapshot[rowKey];
                if (ownerRow is not null && EdgeRecord.FromEntity(ownerRow).Covers(ownerPartitions[partitionKey][rowKey]))
                {
                    continue; // The owner's row is written last, so its mirror already holds these events.
                }

                assumeMissing = ownerRow is null;
            }

            if (!mirrorPartitions.TryGetValue(mirrorPartitionKey, out var work))
            {
                mirrorPartitions[mirrorPartitionKey] = work = new EdgePartitionWork(_edgesByPeer, mirrorPartitionKey);
            }

            work.Add(mirrorRowKey, change, assumeMissing);
        }

        var firstWave = historyRows
            .GroupBy(row => row.PartitionKey)
            .Select(g => (Func<CancellationToken, Task>)(ct => UpsertAllAsync(_history, g.ToList(), ct)))
            .Concat(mirrorPartitions.Values.Select(work => (Func<CancellationToken, Task>)(ct => ApplyEdgePartitionAsync(work, ct))))
            .ToList();
        await Parallel.ForEachAsync(firstWave, ParallelOptions(cancellationToken), async (job, ct) => await job(ct).ConfigureAwait(false)).ConfigureAwait(false);

        // 3. The owners' rows, last. An unread row whose mirror was just inserted is most likely missing too (the owner
        //    row is never written before its mirror): it is inserted at once; any other unread row is read first.
        await Parallel.ForEachAsync(ownerPartitions, ParallelOptions(cancellationToken), async (partition, ct) =>
        {
            var work = new EdgePartitionWork(_edges, partition.Key);
            var snapshot = ownerSnapshots.GetValueOrDefault(partition.Key);
            foreach (var (rowKey, changes) in partition.Value)
            {
                var (mirrorPartitionKey, mirrorRowKey) = mirrorOf[(partition.Key, rowKey)];
                var mirrorInserted = mirrorPartitions.TryGetValue(mirrorPartitionKey, out var mirror) && mirror.Inserted.Contains(mirrorRowKey);
                foreach (var change in changes)
                {
                    work.Add(rowKey, change, assumeMissing: snapshot is null && mirrorInserted);
                }

                if (snapshot is not null)
                {
                    work.Known[rowKey] = snapshot[rowKey];
                }
            }

            await ApplyEdgePartitionAsync(work, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
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
        var filter = ODataFilter.Create(
            $"PartitionKey eq {partitionKey} and RowKey ge {RelationshipKeys.KindRangeStart(kind)} and RowKey lt {RelationshipKeys.KindRangeEnd(kind)} and State eq {EdgeRecord.Present}");
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
        var expression = ODataFilter.Create($"PartitionKey eq {RelationshipKeys.UserPartition(appId, userId)}");
        if (filter.Peer is not null)
        {
            expression += ODataFilter.Create($" and OtherUser eq {filter.Peer}");
        }

        if (filter.Kind is { } kind)
        {
            expression += ODataFilter.Create($" and Kind eq {RelationshipKeys.KindName(kind)}");
        }

        var (entities, next) = await QueryPageAsync(_history, expression, top, start, cancellationToken).ConfigureAwait(false);
        return new Core.Page<HistoryEntry>(entities.Select(HistoryRecord.FromEntity).ToList(), ContinuationToken.Encode('h', next));
    }

    /// <summary>Fills a page up to <paramref name="top"/>: with a filter on non-key properties the service may return short pages.</summary>
    private static async Task<(List<TableEntity> Entities, TableContinuation? Next)> QueryPageAsync(
        TableClient table, string filter, int top, TableContinuation? start, CancellationToken cancellationToken)
    {
        var entities = new List<TableEntity>();
        var continuation = start;
        do
        {
            var page = await table.QueryAsync(filter, null, top - entities.Count, continuation, cancellationToken).ConfigureAwait(false);
            entities.AddRange(page.Entities);
            continuation = page.Continuation;
        }
        while (continuation is not null && entities.Count < top);

        return (entities, continuation);
    }

    private ParallelOptions ParallelOptions(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = Math.Max(1, _options.MaxParallelRequests), CancellationToken = cancellationToken };

    /// <summary>Upserts whole history rows of one partition, 100 per entity group transaction.</summary>
    private static async Task UpsertAllAsync(TableClient table, List<TableEntity> rows, CancellationToken cancellationToken)
    {
        foreach (var chunk in rows.Chunk(TableTransaction.MaxActions))
        {
            if (chunk.Length == 1)
            {
                await table.UpsertEntityAsync(chunk[0], TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await table.SubmitTransactionAsync(
                    chunk.Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)).ToList(),
                    cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Read-compare-write of the edge rows of one partition: fold the changes into what is stored, write only rows that
    /// change, with ETags (insert when new or assumed new), 100 per transaction; after a 409 or 412 re-read just the
    /// rows of the failed request and retry. A transaction fails whole, so one existing row among assumed-new ones costs
    /// the request and a read of its rows; that is a lost guess, not contention, so the retry does not back off.
    /// </summary>
    private async Task ApplyEdgePartitionAsync(EdgePartitionWork work, CancellationToken cancellationToken)
    {
        var pending = work.Changes.Keys.ToHashSet(StringComparer.Ordinal);
        for (var attempt = 0; ; attempt++)
        {
            var unknown = pending.Where(rowKey => !work.Known.ContainsKey(rowKey)).ToList();
            if (unknown.Count > 0)
            {
                foreach (var (rowKey, entity) in await ReadRowsAsync(work.Table, work.PartitionKey, unknown, cancellationToken).ConfigureAwait(false))
                {
                    work.Known[rowKey] = entity;
                    work.Assumed.Remove(rowKey);
                }
            }

            var writes = new List<TableTransactionAction>();
            foreach (var rowKey in pending.Order(StringComparer.Ordinal))
            {
                var current = work.Known[rowKey];
                var next = EdgeRecord.Fold(current is null ? null : EdgeRecord.FromEntity(current), work.Changes[rowKey]);
                if (next is not null)
                {
                    writes.Add(current is null
                        ? new TableTransactionAction(TableTransactionActionType.Add, next.ToEntity(work.PartitionKey, rowKey))
                        : new TableTransactionAction(TableTransactionActionType.UpdateReplace, next.ToEntity(work.PartitionKey, rowKey), current.ETag));
                }
            }

            pending.Clear();
            var contended = false;
            foreach (var chunk in writes.Chunk(TableTransaction.MaxActions))
            {
                try
                {
                    if (chunk.Length == 1)
                    {
                        var action = chunk[0];
                        _ = action.ActionType == TableTransactionActionType.Add
                            ? await work.Table.AddEntityAsync(action.Entity, cancellationToken).ConfigureAwait(false)
                            : await work.Table.UpdateEntityAsync(action.Entity, action.IfMatch, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await work.Table.SubmitTransactionAsync(chunk, cancellationToken).ConfigureAwait(false);
                    }

                    foreach (var action in chunk.Where(a => a.ActionType == TableTransactionActionType.Add))
                    {
                        work.Inserted.Add(action.Entity.RowKey);
                    }
                }
                catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404 && attempt < _options.MaxConflictRetries)
                {
                    // Another writer got there first, or a row assumed new exists: nothing of the chunk was applied; re-read
                    // and fold again.
                    foreach (var action in chunk)
                    {
                        contended |= !work.Assumed.Remove(action.Entity.RowKey);
                        pending.Add(action.Entity.RowKey);
                        work.Known.Remove(action.Entity.RowKey);
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

    /// <summary>Current rows of one partition: point reads when few, else one range query over their key span.</summary>
    private static async Task<Dictionary<string, TableEntity?>> ReadRowsAsync(TableClient table, string partitionKey, IReadOnlyList<string> rowKeys, CancellationToken cancellationToken)
    {
        var rows = rowKeys.ToDictionary(rowKey => rowKey, _ => (TableEntity?)null, StringComparer.Ordinal);
        if (rowKeys.Count <= PointReadLimit)
        {
            var reads = await Task.WhenAll(rowKeys.Select(rowKey => table.GetEntityAsync(partitionKey, rowKey, cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < rowKeys.Count; i++)
            {
                rows[rowKeys[i]] = reads[i];
            }

            return rows;
        }

        var first = rowKeys.Min(StringComparer.Ordinal)!;
        var last = rowKeys.Max(StringComparer.Ordinal)!;
        await foreach (var entity in table.QueryAllAsync(
                           ODataFilter.Create($"PartitionKey eq {partitionKey} and RowKey ge {first} and RowKey le {last}"),
                           cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (rows.ContainsKey(entity.RowKey))
            {
                rows[entity.RowKey] = entity;
            }
        }

        return rows;
    }

    /// <summary>The edge changes of one partition of one table, and what is known of its rows.</summary>
    private sealed class EdgePartitionWork(TableClient table, string partitionKey)
    {
        public TableClient Table { get; } = table;
        public string PartitionKey { get; } = partitionKey;
        public Dictionary<string, List<EdgeChange>> Changes { get; } = new(StringComparer.Ordinal);

        /// <summary>Row key to stored entity (null: missing, as read or assumed); rows not here are read first.</summary>
        public Dictionary<string, TableEntity?> Known { get; } = new(StringComparer.Ordinal);

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
}
