using Azure.Data.Tables;
using FunctionApp.Core;
using FunctionApp.Storage.Relationships;

namespace FunctionApp.Storage.Reconciliation;

/// <summary>
/// The users the store knows in one app: every partition of the edge table (owners) and of its by-peer mirror
/// (peers), merged in key order. Partitions are <c>{appId}|{user}</c>, so an app's users are one key range; the user
/// id is read from the rows' <c>Owner</c>/<c>Peer</c> property, never decoded from the key. The cursor is the last
/// partition key returned; each query starts after it, so the rest of a partition already counted is skipped.
/// </summary>
/// <param name="rowsPerQuery">Rows asked for per query (the service gives at most 1,000).</param>
public sealed class TableKnownUsers(TableClient edges, TableClient edgesByPeer, int rowsPerQuery = 1000) : IKnownUsers
{

    public async Task<KnownUsersSlice> ListAsync(string appId, string? after, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(appId);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var first = RelationshipKeys.Escape(appId) + RelationshipKeys.Separator;
        var end = RelationshipKeys.Escape(appId) + '}'; // '}' is the character after '|': the end of the app's range
        var users = new List<string>();
        var last = after;
        while (true)
        {
            var owners = await FirstRowsAsync(edges, "Owner", first, last, end, rowsPerQuery, cancellationToken).ConfigureAwait(false);
            var peers = await FirstRowsAsync(edgesByPeer, "Peer", first, last, end, rowsPerQuery, cancellationToken).ConfigureAwait(false);

            // A table whose answer was cut short bounds what is known: past its last key it may hold users not yet seen.
            var bound = new[] { owners, peers }.Where(rows => rows.More).Select(rows => rows.Users.Keys.Max(StringComparer.Ordinal)).Min(StringComparer.Ordinal);
            var seen = new SortedDictionary<string, string>(owners.Users, StringComparer.Ordinal);
            foreach (var (partition, user) in peers.Users)
            {
                seen.TryAdd(partition, user);
            }

            foreach (var (partition, user) in seen.Where(p => bound is null || string.CompareOrdinal(p.Key, bound) <= 0))
            {
                users.Add(user);
                last = partition;
                if (users.Count == max)
                {
                    return new KnownUsersSlice(users, last);
                }
            }

            if (bound is null)
            {
                return new KnownUsersSlice(users, null);
            }
        }
    }

    /// <summary>One page of rows after <paramref name="after"/> (or from <paramref name="first"/>): partition key to user id.</summary>
    private static async Task<(Dictionary<string, string> Users, bool More)> FirstRowsAsync(
        TableClient table, string userProperty, string first, string? after, string end, int rows, CancellationToken cancellationToken)
    {
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey ge {first} and PartitionKey lt {end}")
            : TableClient.CreateQueryFilter($"PartitionKey gt {after} and PartitionKey lt {end}");
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var page in table.QueryAsync<TableEntity>(filter, rows, ["PartitionKey", userProperty], cancellationToken)
                           .AsPages(null, rows).ConfigureAwait(false))
        {
            foreach (var row in page.Values)
            {
                if (row.GetString(userProperty) is { } user)
                {
                    users.TryAdd(row.PartitionKey, user);
                }
            }

            // A page can come back empty with a continuation (the service's own boundaries): read on until rows come.
            if (users.Count > 0 || page.ContinuationToken is null)
            {
                return (users, page.ContinuationToken is not null);
            }
        }

        return (users, false);
    }
}

/// <summary>The schedule's cursor per app, one row each in the <c>ReconciliationCursors</c> table.</summary>
public sealed class TableReconcileCursors(TableClient cursors) : IReconcileCursors
{
    public const string TableName = "ReconciliationCursors";
    private const string Partition = "cursor";
    private const string CursorProperty = "Cursor";
    private int _created;

    public async Task<string?> GetAsync(string appId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var row = await cursors.GetEntityIfExistsAsync<TableEntity>(Partition, RelationshipKeys.Escape(appId), cancellationToken: cancellationToken).ConfigureAwait(false);
        return row.HasValue && row.Value!.GetString(CursorProperty) is { Length: > 0 } cursor ? cursor : null;
    }

    public async Task SetAsync(string appId, string? cursor, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var row = new TableEntity(Partition, RelationshipKeys.Escape(appId))
        {
            ["AppId"] = appId,
            [CursorProperty] = cursor ?? "",
            ["UpdatedAt"] = DateTimeOffset.UtcNow,
        };
        await cursors.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _created) == 0)
        {
            await cursors.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _created, 1);
        }
    }
}
