using CsCheck;
using FunctionApp.Core;
using FunctionApp.Reconciliation;
using FunctionApp.Tests.Infrastructure;
using FunctionApp.Tests.Storage;
using static FunctionApp.Tests.Storage.RelationshipStoreHarness;

namespace FunctionApp.Tests.Reconciliation;

/// <summary>Counts the batches handed to the real applier.</summary>
public sealed class CountingApplier(IRelationshipBatchApplier inner) : IRelationshipBatchApplier
{
    private int _batches;

    public int Batches => _batches;

    public Task ApplyAsync(RelationshipBatch batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _batches);
        return inner.ApplyAsync(batch, cancellationToken);
    }
}

/// <summary>Reconciling one user end to end: the fake platform API, the product's readers, the real store on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReconcileUserTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string App = ReconcileSetup.TencentApp;
    private ReconcileSetup _setup = null!;
    private RelationshipStoreHarness _store = null!;
    private CountingApplier _applier = null!;
    private UserReconciler _reconciler = null!;

    public async Task InitializeAsync()
    {
        _setup = await ReconcileSetup.StartAsync();
        _store = await CreateAsync(azurite);
        _applier = new CountingApplier(_store.Store);
        _reconciler = new UserReconciler(_setup.Readers, _store.Store, _applier, TimeProvider.System);
    }

    public async Task DisposeAsync() => await _setup.DisposeAsync();

    /// <summary>Applies callbacks as the queue would: Tencent-shaped batches, source time T0 + second.</summary>
    private Task CallbackAsync(RelationshipKind kind, RelationshipAction action, string owner, string peer, int second, DateTimeOffset? at = null)
    {
        var time = at ?? T0.AddSeconds(second);
        var source = new CallbackSource("tencent", App, "Sns.Callback" + kind + action, null, null, time, time, null);
        return _store.Store.ApplyAsync(Batch(source, new RelationshipEvent(Guid.NewGuid().ToString("N"), kind, action, owner, peer, time, new Dictionary<string, string>())), default);
    }

    /// <summary>The user's present friends and blocklist, as one comparable text.</summary>
    private async Task<string> StoredAsync(string userId, string appId = App) => Lists(
        (await _store.AllEdgesAsync(appId, userId, EdgeListKind.Friends)).Select(e => e.UserId),
        (await _store.AllEdgesAsync(appId, userId, EdgeListKind.Blocklist)).Select(e => e.UserId));

    private static string Lists(IEnumerable<string> friends, IEnumerable<string> blocked) =>
        $"friends: {string.Join(",", friends.Order(StringComparer.Ordinal))}; blocked: {string.Join(",", blocked.Order(StringComparer.Ordinal))}";

    private async Task SeedDriftAsync()
    {
        // Callbacks that arrived: bob, carol, dave as friends, eve blocked. Lost: dave's removal, frank's add, mallory's block.
        await CallbackAsync(RelationshipKind.Friend, RelationshipAction.Added, "alice", "bob", 1);
        await CallbackAsync(RelationshipKind.Friend, RelationshipAction.Added, "alice", "carol", 2);
        await CallbackAsync(RelationshipKind.Friend, RelationshipAction.Added, "alice", "dave", 3);
        await CallbackAsync(RelationshipKind.Block, RelationshipAction.Added, "alice", "eve", 4);
        _setup.Fake.SetUser(App, "alice",
            [new FakeFriend("bob"), new FakeFriend("carol"), new FakeFriend("frank", Remark: "Frankie", Groups: ["work"], AddTime: 1_714_550_405)],
            ["eve", "mallory"]);
    }

    [Fact]
    public async Task Drift_is_repaired_through_the_applier_and_history_shows_the_repair()
    {
        await SeedDriftAsync();

        var report = await _reconciler.ReconcileAsync(App, "alice", default);

        Assert.Equal((UserReconciler.Repaired, 2, 1, 0, 2), (report.Outcome, report.Added, report.Removed, report.Updated, report.PagesRead));
        Assert.Null(report.Error);
        Assert.Equal(Lists(["bob", "carol", "frank"], ["eve", "mallory"]), await StoredAsync("alice"));
        var frank = Assert.Single(await _store.AllEdgesAsync(App, "alice", EdgeListKind.Friends), e => e.UserId == "frank");
        Assert.Equal(("tencent", "reconcile"), (frank.Platform, frank.Command));
        Assert.Equal(("Frankie", "1714550405", "[\"work\"]"), (frank.Attributes["remark"], frank.Attributes["addTime"], frank.Attributes["group"]));
        Assert.Equal(["alice"], (await _store.AllEdgesAsync(App, "frank", EdgeListKind.FriendOf)).Select(e => e.UserId));
        var repairs = (await _store.AllHistoryAsync(App, "alice")).Where(h => h.Command == "reconcile").ToList();
        Assert.Equal(
            [("dave", RelationshipKind.Friend, RelationshipAction.Removed), ("frank", RelationshipKind.Friend, RelationshipAction.Added), ("mallory", RelationshipKind.Block, RelationshipAction.Added)],
            repairs.Select(h => (h.Peer, h.Kind, h.Action)).Order());
        Assert.All(repairs, h => Assert.Equal(ReconciliationDiff.WholeSecond(report.ReadStartedAt), h.OccurredAt));
    }

    [Fact]
    public async Task A_second_run_writes_nothing()
    {
        await SeedDriftAsync();
        await _reconciler.ReconcileAsync(App, "alice", default);
        var before = await _store.SnapshotAsync(App);
        var batches = _applier.Batches;

        var again = await _reconciler.ReconcileAsync(App, "alice", default);

        Assert.Equal((UserReconciler.Unchanged, 0, 0, 0), (again.Outcome, again.Added, again.Removed, again.Updated));
        Assert.Equal(batches, _applier.Batches);
        Assert.Equal(before, await _store.SnapshotAsync(App));
    }

    [Fact]
    public async Task A_newer_callback_applied_during_the_read_wins_over_the_repair()
    {
        await SeedDriftAsync();
        // While the platform answers (its list still shows bob and frank), both change and their callbacks are applied
        // first: bob removed, frank added then removed. The repair's events are older than these.
        _setup.Fake.BeforeAnswer = async call =>
        {
            if (call.Api == "friend_get")
            {
                await CallbackAsync(RelationshipKind.Friend, RelationshipAction.Removed, "alice", "bob", 0, DateTimeOffset.UtcNow);
                await CallbackAsync(RelationshipKind.Friend, RelationshipAction.Removed, "alice", "frank", 0, DateTimeOffset.UtcNow);
            }
        };

        await _reconciler.ReconcileAsync(App, "alice", default);

        Assert.Equal(Lists(["carol"], ["eve", "mallory"]), await StoredAsync("alice"));
    }

    [Fact]
    public async Task A_newer_callback_after_the_repair_wins_and_a_late_older_one_cannot_undo_it()
    {
        await SeedDriftAsync();
        var report = await _reconciler.ReconcileAsync(App, "alice", default);

        await CallbackAsync(RelationshipKind.Block, RelationshipAction.Removed, "alice", "mallory", 0, DateTimeOffset.UtcNow.AddSeconds(1));
        // Late deliveries of changes made before the read: dave's add again, frank's earlier removal.
        await CallbackAsync(RelationshipKind.Friend, RelationshipAction.Added, "alice", "dave", 0, report.ReadStartedAt.AddSeconds(-5));
        await CallbackAsync(RelationshipKind.Friend, RelationshipAction.Removed, "alice", "frank", 0, report.ReadStartedAt.AddSeconds(-5));

        Assert.Equal(Lists(["bob", "carol", "frank"], ["eve"]), await StoredAsync("alice"));
    }

    [Fact]
    public async Task A_failed_list_read_removes_nothing_but_still_adds_what_the_platform_listed()
    {
        await SeedDriftAsync();
        _setup.Fake.ErrorFor = call => call.Api == "black_list_get" ? 30001 : null;

        var report = await _reconciler.ReconcileAsync(App, "alice", default);

        Assert.Equal(UserReconciler.Failed, report.Outcome);
        Assert.Equal(ReconcileErrorKind.PlatformError, report.Error!.Kind);
        Assert.Equal((1, 0), (report.Added, report.Removed));
        Assert.Equal(Lists(["bob", "carol", "dave", "frank"], ["eve"]), await StoredAsync("alice"));
    }

    [Fact]
    public async Task A_partial_read_removes_nothing()
    {
        await SeedDriftAsync();
        _setup.Fake.TencentFriendPageSize = 1;
        _setup.Fake.ErrorFor = call => call.Api == "friend_get" && call.Cursor == 2 ? 30001 : null; // bob and carol read, frank not

        var report = await _reconciler.ReconcileAsync(App, "alice", default);

        Assert.Equal((UserReconciler.Failed, 1, 0), (report.Outcome, report.Added, report.Removed));
        Assert.Equal(Lists(["bob", "carol", "dave"], ["eve", "mallory"]), await StoredAsync("alice"));
    }

    [Fact]
    public async Task An_unknown_user_is_reported_and_nothing_is_written()
    {
        await CallbackAsync(RelationshipKind.Friend, RelationshipAction.Added, "ghost", "bob", 1);

        var report = await _reconciler.ReconcileAsync(App, "ghost", default);

        Assert.Equal((UserReconciler.Failed, ReconcileErrorKind.UnknownUser), (report.Outcome, report.Error!.Kind));
        Assert.Equal(0, _applier.Batches);
        Assert.Equal(Lists(["bob"], Array.Empty<string>()), await StoredAsync("ghost"));
    }

    [Fact]
    public async Task OpenIm_drift_is_repaired_too()
    {
        var openIm = new CallbackSource("openim", FakePlatformApi.OpenImAppId, "callbackAfterImportFriendsCommand", null, null, null, T0, "op1");
        await _store.Store.ApplyAsync(Batch(openIm, Event("o1", RelationshipKind.Friend, RelationshipAction.Added, "alice", "bob", 1)), default);
        _setup.Fake.SetUser(FakePlatformApi.OpenImAppId, "alice", [new FakeFriend("carol", Remark: "C")], ["dave"]);

        var report = await _reconciler.ReconcileAsync(FakePlatformApi.OpenImAppId, "alice", default);

        Assert.Equal((UserReconciler.Repaired, 2, 1), (report.Outcome, report.Added, report.Removed));
        Assert.Equal(Lists(["carol"], ["dave"]), await StoredAsync("alice", FakePlatformApi.OpenImAppId));
        var carol = Assert.Single(await _store.AllEdgesAsync(FakePlatformApi.OpenImAppId, "alice", EdgeListKind.Friends));
        Assert.Equal(("openim", "C"), (carol.Platform, carol.Attributes["remark"]));
    }

    [Fact]
    public async Task After_reconciliation_the_store_always_equals_the_platform_whatever_callbacks_were_lost()
    {
        // A user's history of platform operations over 6 peers; each makes a callback, a random subset of which is
        // lost, and the rest arrive in a random order. Then one reconcile, and a second one that must write nothing.
        var operation = Gen.Select(Gen.Int[0, 5], Gen.Int[0, 3], Gen.Bool, Gen.Int[0, 1000]);
        var user = 0;
        await Gen.Select(operation.Array[0, 16], Gen.Bool, Gen.Int[1, 3]).SampleAsync(async (operations, startWithFriends, pageSize) =>
        {
            var userId = $"prop-{Interlocked.Increment(ref user)}";
            var friends = new SortedSet<string>(StringComparer.Ordinal);
            var blocked = new SortedSet<string>(StringComparer.Ordinal);
            var callbacks = new List<(int Order, Func<Task> Apply)>();
            if (startWithFriends)
            {
                friends.Add("peer0");
                var initial = T0;
                callbacks.Add((-1, () => CallbackAsync(RelationshipKind.Friend, RelationshipAction.Added, userId, "peer0", 0, initial)));
            }

            for (var i = 0; i < operations.Length; i++)
            {
                var (peerIndex, kindAndAction, lost, order) = operations[i];
                var peer = $"peer{peerIndex}";
                var kind = kindAndAction < 2 ? RelationshipKind.Friend : RelationshipKind.Block;
                var action = kindAndAction % 2 == 0 ? RelationshipAction.Added : RelationshipAction.Removed;
                var set = kind == RelationshipKind.Friend ? friends : blocked;
                _ = action == RelationshipAction.Added ? set.Add(peer) : set.Remove(peer);
                var at = T0.AddSeconds(i + 1);
                if (!lost)
                {
                    callbacks.Add((order, () => CallbackAsync(kind, action, userId, peer, 0, at)));
                }
            }

            foreach (var (_, apply) in callbacks.OrderBy(c => c.Order))
            {
                await apply();
            }

            _setup.Fake.TencentFriendPageSize = pageSize;
            _setup.Fake.SetUser(App, userId, friends.Select(p => new FakeFriend(p)), blocked);

            var report = await _reconciler.ReconcileAsync(App, userId, default);
            var again = await _reconciler.ReconcileAsync(App, userId, default);

            Assert.Null(report.Error);
            Assert.Equal(Lists(friends, blocked), await StoredAsync(userId));
            Assert.Equal(UserReconciler.Unchanged, again.Outcome);
        }, iter: 25, threads: 1);
    }
}
