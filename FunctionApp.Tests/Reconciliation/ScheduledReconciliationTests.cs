using FunctionApp.Core;
using FunctionApp.Reconciliation;
using FunctionApp.Storage.Reconciliation;
using FunctionApp.Storage.Relationships;
using FunctionApp.Tests.Infrastructure;
using FunctionApp.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static FunctionApp.Tests.Storage.RelationshipStoreHarness;

namespace FunctionApp.Tests.Reconciliation;

/// <summary>The scheduled walk over the users the store knows, with its cursor in a table, against Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ScheduledReconciliationTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string App = ReconcileSetup.TencentApp;
    private ReconcileSetup _setup = null!;
    private RelationshipStoreHarness _store = null!;
    private Azure.Data.Tables.TableServiceClient _tables = null!;

    public async Task InitializeAsync()
    {
        _setup = await ReconcileSetup.StartAsync(o => o.UsersPerRun = 3);
        _store = await CreateAsync(azurite);
        _tables = new Azure.Data.Tables.TableServiceClient(azurite.ConnectionString);
    }

    public async Task DisposeAsync() => await _setup.DisposeAsync();

    private TableKnownUsers KnownUsers(int rowsPerQuery = 1000) => new(
        _tables.GetTableClient(_store.Prefix + TableRelationshipStore.EdgesTableName),
        _tables.GetTableClient(_store.Prefix + TableRelationshipStore.EdgesByPeerTableName),
        rowsPerQuery);

    /// <summary>A new instance on the same tables, as after a restart.</summary>
    private ScheduledReconciliation NewProcess() => new(
        _setup.Readers,
        KnownUsers(),
        new TableReconcileCursors(_tables.GetTableClient(_store.Prefix + TableReconcileCursors.TableName)),
        new UserReconciler(_setup.Readers, _store.Store, _store.Store, TimeProvider.System),
        _setup.Options,
        NullLogger<ScheduledReconciliation>.Instance);

    private Task EdgeAsync(string appId, string owner, string peer) => _store.Store.ApplyAsync(
        Batch(Source(appId), Event(Guid.NewGuid().ToString("N"), RelationshipKind.Friend, RelationshipAction.Added, owner, peer, 1)), default);

    private List<string> UsersRead() =>
        _setup.Fake.Calls.Where(c => c.Api == "friend_get").Select(c => c.UserId!).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task The_walk_lists_owners_and_peers_in_key_order_with_ids_read_from_the_rows()
    {
        await EdgeAsync(App, "dave", "a/b");       // a/b is a peer only; its key is escaped
        await EdgeAsync(App, "carol", "dave");
        await EdgeAsync(App, "bob|x", "carol");
        await EdgeAsync("1400000002", "zed", "yan"); // another app's users are not walked
        var users = KnownUsers();

        var first = await users.ListAsync(App, null, 2, default);
        var rest = await users.ListAsync(App, first.Next, 10, default);

        Assert.Equal(["a/b", "bob|x"], first.UserIds);
        Assert.NotNull(first.Next);
        Assert.Equal(["carol", "dave"], rest.UserIds);
        Assert.Null(rest.Next);
    }

    [Fact]
    public async Task A_user_with_more_rows_than_one_query_returns_is_listed_once()
    {
        await _store.Store.ApplyAsync(Batch(Source(), Enumerable.Range(0, 25)
            .Select(i => Event($"m{i}", RelationshipKind.Friend, RelationshipAction.Added, "many", $"p{i:D4}", 1)).ToArray()), default);

        var slice = await KnownUsers(rowsPerQuery: 10).ListAsync(App, null, 5, default);
        var all = await KnownUsers(rowsPerQuery: 10).ListAsync(App, null, 100, default);

        Assert.Equal(["many", "p0000", "p0001", "p0002", "p0003"], slice.UserIds);
        Assert.Equal(26, all.UserIds.Count);
        Assert.Equal(26, all.UserIds.Distinct().Count());
        Assert.Null(all.Next);
    }

    [Fact]
    public async Task Each_run_continues_where_the_last_stopped_even_after_a_restart_and_then_starts_over()
    {
        foreach (var owner in new[] { "u1", "u2", "u3", "u4", "u5", "u6" })
        {
            await EdgeAsync(App, owner, "u7");
            _setup.Fake.SetUser(App, owner, [new FakeFriend("u7")], []);
        }

        _setup.Fake.SetUser(App, "u7", [], []);

        var firstRun = await NewProcess().RunAsync(default);
        var afterFirst = UsersRead();
        _setup.Fake.ClearCalls();
        var secondRun = await NewProcess().RunAsync(default); // a new process: only the cursor table carries over
        var afterSecond = UsersRead();
        _setup.Fake.ClearCalls();
        var thirdRun = await NewProcess().RunAsync(default);
        var afterThird = UsersRead();
        _setup.Fake.ClearCalls();
        await NewProcess().RunAsync(default);

        Assert.Equal(["u1", "u2", "u3"], afterFirst);
        Assert.Equal(["u4", "u5", "u6"], afterSecond);
        Assert.Equal(["u7"], afterThird);
        Assert.Equal(["u1", "u2", "u3"], UsersRead());
        Assert.Equal((3, 3), (firstRun.Users, firstRun.Unchanged));
        Assert.Equal(3, secondRun.Users);
        Assert.Equal(1, thirdRun.Users);
    }

    [Fact]
    public async Task A_failing_user_is_reported_and_the_walk_goes_on()
    {
        await EdgeAsync(App, "u1", "u2");
        _setup.Fake.SetUser(App, "u1", [new FakeFriend("u2"), new FakeFriend("u3")], []);
        _setup.Fake.SetUser(App, "u3", [], []);
        // u2 is unknown to the platform.

        var run = await NewProcess().RunAsync(default);

        Assert.Equal((2, 1, 1), (run.Users, run.Repaired, run.Failed));
        Assert.Equal(["u2", "u3"], (await _store.AllEdgesAsync(App, "u1", EdgeListKind.Friends)).Select(e => e.UserId));
    }
}
