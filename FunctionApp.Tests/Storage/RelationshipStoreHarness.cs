using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Storage.Relationships;
using FunctionApp.Tests.Infrastructure;

namespace FunctionApp.Tests.Storage;

/// <summary>Counts HTTP round trips (each attempt), and entity group transactions among them.</summary>
public sealed class RequestCounter : HttpPipelineSynchronousPolicy
{
    private int _requests;
    private int _transactions;

    public int Requests => _requests;
    public int Transactions => _transactions;
    public ConcurrentDictionary<string, int> ByMethod { get; } = new();

    public void Reset()
    {
        _requests = 0;
        _transactions = 0;
        ByMethod.Clear();
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        Interlocked.Increment(ref _requests);
        if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _transactions);
        }

        ByMethod.AddOrUpdate(message.Request.Method.Method, 1, (_, n) => n + 1);
    }
}

/// <summary>A store on its own tables of the shared Azurite, with a request counter and event builders.</summary>
public sealed class RelationshipStoreHarness
{
    private RelationshipStoreHarness(TableRelationshipStore store, RequestCounter counter, TableServiceClient tables, string prefix)
    {
        Store = store;
        Counter = counter;
        Tables = tables;
        Prefix = prefix;
    }

    public TableRelationshipStore Store { get; }
    public RequestCounter Counter { get; }
    public TableServiceClient Tables { get; }
    public string Prefix { get; }

    public static async Task<RelationshipStoreHarness> CreateAsync(AzuriteFixture azurite, string? prefix = null)
    {
        var counter = new RequestCounter();
        var options = StorageClients.CreateTableOptions(StorageClientProfile.Apply);
        options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var tables = new TableServiceClient(azurite.ConnectionString, options);
        prefix ??= "t" + Guid.NewGuid().ToString("N")[..10];
        var store = new TableRelationshipStore(tables, new TableRelationshipStoreOptions { TablePrefix = prefix });
        await store.EnsureTablesAsync(CancellationToken.None);
        counter.Reset();
        return new RelationshipStoreHarness(store, counter, tables, prefix);
    }

    public TableClient Table(string name) => Tables.GetTableClient(Prefix + name);

    /// <summary>Every row of the three tables (receipts too), without service-set Timestamp and ETag, for comparing whole stores.</summary>
    public async Task<SortedDictionary<string, string>> SnapshotAsync(string? appId = null)
    {
        var rows = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var appPrefix = appId is null ? null : RelationshipKeys.Escape(appId) + RelationshipKeys.Separator;
        foreach (var name in new[] { TableRelationshipStore.EdgesTableName, TableRelationshipStore.EdgesByPeerTableName, TableRelationshipStore.HistoryTableName })
        {
            await foreach (var entity in Table(name).QueryAsync<TableEntity>())
            {
                if (appPrefix is not null && !entity.PartitionKey.StartsWith(appPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var key = $"{name}/{(appPrefix is null ? entity.PartitionKey : entity.PartitionKey[appPrefix.Length..])}/{entity.RowKey}";
                rows[key] = string.Join(";", entity
                    .Where(p => p.Key is not "AppId" and not "BatchId" and not "ReceivedAt" and not "PartitionKey" and not "RowKey" and not "Timestamp" and not "odata.etag")
                    .OrderBy(p => p.Key, StringComparer.Ordinal)
                    .Select(p => $"{p.Key}={(p.Value is DateTimeOffset t ? t.UtcTicks : p.Value)}"));
            }
        }

        return rows;
    }

    /// <summary>Rows of <paramref name="table"/>'s partition of <paramref name="user"/> in app <paramref name="appId"/>.</summary>
    public async Task<List<TableEntity>> PartitionAsync(string table, string appId, string user) =>
        await Table(table).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {RelationshipKeys.UserPartition(appId, user)}")).ToListAsync();

    public static readonly DateTimeOffset T0 = new(2024, 5, 1, 8, 0, 0, TimeSpan.Zero);

    public static CallbackSource Source(string appId = "1400000001", string command = "Sns.CallbackFriendAdd", DateTimeOffset? receivedAt = null, DateTimeOffset? sourceTime = null) =>
        new("tencent", appId, command, "10.0.0.1", "iOS", sourceTime, receivedAt ?? T0, null);

    public static RelationshipEvent Event(string id, RelationshipKind kind, RelationshipAction action, string owner, string peer, int second,
        params (string Name, string Value)[] attributes) =>
        new(id, kind, action, owner, peer, T0.AddSeconds(second), attributes.ToDictionary(a => a.Name, a => a.Value));

    public static RelationshipBatch Batch(CallbackSource source, params RelationshipEvent[] events) =>
        new(RelationshipBatch.CurrentSchemaVersion, "batch-" + Guid.NewGuid().ToString("N"), 1, 1, source, events);

    public async Task<List<EdgeView>> AllEdgesAsync(string appId, string userId, EdgeListKind list, int top = 1000)
    {
        var all = new List<EdgeView>();
        string? continuation = null;
        do
        {
            var page = await Store.ListEdgesAsync(appId, userId, list, top, continuation, CancellationToken.None);
            all.AddRange(page.Items);
            continuation = page.Continuation;
        }
        while (continuation is not null);

        return all;
    }

    public async Task<List<HistoryEntry>> AllHistoryAsync(string appId, string userId, HistoryFilter? filter = null, int top = 1000)
    {
        var all = new List<HistoryEntry>();
        string? continuation = null;
        do
        {
            var page = await Store.ListHistoryAsync(appId, userId, filter ?? new HistoryFilter(null, null), top, continuation, CancellationToken.None);
            all.AddRange(page.Items);
            continuation = page.Continuation;
        }
        while (continuation is not null);

        return all;
    }
}
