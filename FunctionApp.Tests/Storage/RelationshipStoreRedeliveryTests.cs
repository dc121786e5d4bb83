using Azure.Data.Tables;
using FunctionApp.Core;
using FunctionApp.Storage.Relationships;
using FunctionApp.Tests.Infrastructure;
using static FunctionApp.Tests.Storage.RelationshipStoreHarness;

namespace FunctionApp.Tests.Storage;

/// <summary>History order within one second, copies of events received again, and tables written by earlier versions.</summary>
[Collection(AzuriteCollection.Name)]
public class RelationshipStoreRedeliveryTests(AzuriteFixture azurite)
{
    private const string App = "1400000001";
    private const RelationshipKind Friend = RelationshipKind.Friend;
    private const RelationshipAction Added = RelationshipAction.Added;
    private const RelationshipAction Removed = RelationshipAction.Removed;

    /// <summary>A Tencent event: its source time is RequestTime, whole seconds, shared by every event of that second.</summary>
    private static RelationshipBatch Tencent(string eventId, RelationshipAction action, DateTimeOffset requestTime, DateTimeOffset receivedAt, string owner = "u", string peer = "v") =>
        Batch(Source(receivedAt: receivedAt, sourceTime: requestTime, command: action == Added ? "Sns.CallbackFriendAdd" : "Sns.CallbackFriendDelete"),
            new RelationshipEvent(eventId, Friend, action, owner, peer, requestTime, new Dictionary<string, string>()));

    /// <summary>An OpenIM event: no source time, so it occurred when it was received.</summary>
    private static RelationshipBatch OpenIm(string eventId, RelationshipAction action, DateTimeOffset receivedAt, string owner = "u", string peer = "v") =>
        new(RelationshipBatch.CurrentSchemaVersion, "batch-" + eventId, 1, 1,
            new CallbackSource("openim", App, action == Added ? "callbackAfterAddFriendAgreeCommand" : "callbackAfterDeleteFriendCommand", null, null, null, receivedAt, "op-" + eventId),
            [new RelationshipEvent(eventId, Friend, action, owner, peer, receivedAt, new Dictionary<string, string>())]);

    private static async Task ApplyAsync(RelationshipStoreHarness harness, params RelationshipBatch[] batches)
    {
        foreach (var batch in batches)
        {
            await harness.Store.ApplyAsync(batch, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Events_of_one_second_list_in_arrival_order_newest_first_and_the_edge_agrees()
    {
        var harness = await CreateAsync(azurite);
        var random = new Random(1201);
        for (var round = 0; round < 40; round++)
        {
            var (owner, peer) = ($"u{round}", $"v{round}");
            var second = T0.AddSeconds(round);
            var addedAt = second.AddMilliseconds(random.Next(0, 500));
            var removedAt = addedAt.AddMilliseconds(random.Next(1, 400));
            var (added, removed) = (Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"));
            var batches = new[] { Tencent(added, Added, second, addedAt, owner, peer), Tencent(removed, Removed, second, removedAt, owner, peer) };
            // Arrival order is receive order; the queue may still hand them over the other way round.
            await ApplyAsync(harness, round % 2 == 0 ? batches : batches.Reverse().ToArray());

            Assert.Equal([removed, added], (await harness.AllHistoryAsync(App, owner)).Select(h => h.EventId));
            Assert.Equal([removed, added], (await harness.AllHistoryAsync(App, peer)).Select(h => h.EventId));
            Assert.Empty(await harness.AllEdgesAsync(App, owner, EdgeListKind.Friends));
            Assert.Empty(await harness.AllEdgesAsync(App, peer, EdgeListKind.FriendOf));
        }
    }

    public static TheoryData<string, bool> CopyOrders => new()
    {
        // When the copy arrives: after the newer event, or before it; with and without a source time.
        { "copy-last", true }, { "copy-before-newer", true }, { "copy-last", false }, { "copy-before-newer", false },
    };

    [Theory]
    [MemberData(nameof(CopyOrders))]
    public async Task A_copy_of_an_event_changes_no_edge_adds_no_history_row_and_does_not_move_the_event(string order, bool withSourceTime)
    {
        var harness = await CreateAsync(azurite);
        var second = T0;
        RelationshipBatch Added1(DateTimeOffset received) => withSourceTime ? Tencent("e1", Added, second, received) : OpenIm("e1", Added, received);
        var first = Added1(second.AddMilliseconds(100));
        var removed = withSourceTime ? Tencent("e2", Removed, second, second.AddMilliseconds(300)) : OpenIm("e2", Removed, second.AddMilliseconds(300));
        var copy = Added1(second.AddMilliseconds(700)) with { BatchId = "retried-" + Guid.NewGuid().ToString("N") };

        // The reference: the same events without the copy, in an app of their own.
        var reference = new[] { first, removed }.Select(b => b with { Source = b.Source with { AppId = "reference" } }).ToArray();
        await ApplyAsync(harness, reference);
        await ApplyAsync(harness, order == "copy-last" ? [first, removed, copy] : [first, copy, removed]);
        await ApplyAsync(harness, copy, copy with { BatchId = "again" });

        Assert.Empty(await harness.AllEdgesAsync(App, "u", EdgeListKind.Friends));
        Assert.Empty(await harness.AllEdgesAsync(App, "v", EdgeListKind.FriendOf));
        foreach (var user in new[] { "u", "v" })
        {
            var history = await harness.AllHistoryAsync(App, user);
            Assert.Equal(["e2", "e1"], history.Select(h => h.EventId));
            Assert.Equal(first.Source.ReceivedAt, history[1].ReceivedAt);
            Assert.Equal(first.Events[0].OccurredAt, history[1].OccurredAt);
        }

        var rows = (await harness.PartitionAsync(TableRelationshipStore.HistoryTableName, App, "u")).Concat(await harness.PartitionAsync(TableRelationshipStore.HistoryTableName, App, "v"));
        Assert.All(rows.Where(r => r.GetString("EventId") == "e1"), r => Assert.Equal(first.BatchId, r.GetString("BatchId")));
        Assert.Equal(await harness.SnapshotAsync("reference"), await harness.SnapshotAsync(App));
    }

    [Fact]
    public async Task A_copy_that_arrives_first_stands_and_the_original_after_it_changes_nothing()
    {
        var harness = await CreateAsync(azurite);
        var late = OpenIm("e1", Added, T0.AddSeconds(5));
        await ApplyAsync(harness, late, OpenIm("e1", Added, T0.AddSeconds(1)));
        var entry = Assert.Single(await harness.AllHistoryAsync(App, "u"));
        Assert.Equal(T0.AddSeconds(5), entry.ReceivedAt);
        Assert.Equal(T0.AddSeconds(5), Assert.Single(await harness.AllEdgesAsync(App, "u", EdgeListKind.Friends)).Since);
    }

    [Fact]
    public async Task Copies_applied_at_the_same_time_record_one_receipt_and_both_sides_agree_on_it()
    {
        var harness = await CreateAsync(azurite);
        for (var round = 0; round < 12; round++)
        {
            var (owner, peer) = ($"owner{round}", $"peer{round}");
            var copies = Enumerable.Range(0, 3).Select(i => OpenIm($"e{round}", Added, T0.AddMilliseconds((round * 10) + i), owner, peer)).ToList();
            await Task.WhenAll(copies.Select(copy => Task.Run(() => harness.Store.ApplyAsync(copy, CancellationToken.None))));

            var ownerEntry = Assert.Single(await harness.AllHistoryAsync(App, owner));
            var peerEntry = Assert.Single(await harness.AllHistoryAsync(App, peer));
            Assert.Equal(ownerEntry.ReceivedAt, peerEntry.ReceivedAt);
            Assert.Equal(ownerEntry.ReceivedAt, Assert.Single(await harness.AllEdgesAsync(App, owner, EdgeListKind.Friends)).Since);
            Assert.Equal(ownerEntry.ReceivedAt, Assert.Single(await harness.AllEdgesAsync(App, peer, EdgeListKind.FriendOf)).Since);
        }
    }

    [Fact]
    public async Task Two_appliers_with_their_own_clients_racing_on_the_same_edges_converge_to_the_newest_event()
    {
        var first = await CreateAsync(azurite);
        var second = await CreateAsync(azurite, first.Prefix);
        var random = new Random(42);
        var events = Enumerable.Range(0, 80).Select(i => Event($"x{i:D2}", Friend, random.Next(2) == 0 ? Added : Removed, $"o{i % 3}", $"p{i % 5}", random.Next(20))).ToList();
        var reference = await CreateAsync(azurite);
        foreach (var e in events)
        {
            await reference.Store.ApplyAsync(Batch(Source(), e), CancellationToken.None);
        }

        // Each applier takes every event, in its own order, one small batch at a time: rows conflict on ETags constantly.
        await Task.WhenAll(
            Task.Run(async () => { foreach (var e in events) { await first.Store.ApplyAsync(Batch(Source(), e), CancellationToken.None); } }),
            Task.Run(async () => { foreach (var e in Enumerable.Reverse(events)) { await second.Store.ApplyAsync(Batch(Source(), e), CancellationToken.None); } }));

        Assert.Equal(await reference.SnapshotAsync(App), await first.SnapshotAsync(App));
    }

    [Fact]
    public async Task Rows_written_in_the_earlier_shape_read_back_and_take_newer_events()
    {
        var harness = await CreateAsync(azurite);
        var addedAt = T0.AddSeconds(10);
        var partition = $"{App}|alice%2Fx";
        // Raw entities exactly as the previous version wrote them: no receipts, history keyed {inverted ticks}|{eventId}.
        var oldVersion = $"{addedAt.UtcTicks:D19}.{addedAt.UtcTicks:D19}.old-add";
        TableEntity OldEdge(string partitionKey, string rowKey) => new(partitionKey, rowKey)
        {
            ["AppId"] = App,
            ["Owner"] = "alice/x",
            ["Peer"] = "bob",
            ["Kind"] = "friend",
            ["State"] = "present",
            ["Version"] = oldVersion,
            ["EventId"] = "old-add",
            ["Since"] = addedAt,
            ["Platform"] = "tencent",
            ["Command"] = "Sns.CallbackFriendAdd",
            ["Attributes"] = "{\"initiator\":\"alice/x\"}",
            ["LastChangedAt"] = addedAt,
        };
        TableEntity OldHistory(string user, string other, string side) => new(RelationshipKeys.UserPartition(App, user), RelationshipKeys.LegacyHistoryRow(addedAt, "old-add"))
        {
            ["AppId"] = App,
            ["User"] = user,
            ["OtherUser"] = other,
            ["Side"] = side,
            ["EventId"] = "old-add",
            ["Kind"] = "friend",
            ["Action"] = "added",
            ["Owner"] = "alice/x",
            ["Peer"] = "bob",
            ["OccurredAt"] = addedAt,
            ["ReceivedAt"] = addedAt,
            ["Version"] = oldVersion,
            ["Platform"] = "tencent",
            ["Command"] = "Sns.CallbackFriendAdd",
            ["ClientIp"] = "10.0.0.1",
            ["BatchId"] = "old-batch",
            ["Attributes"] = "{\"initiator\":\"alice/x\"}",
        };
        await harness.Table(TableRelationshipStore.EdgesTableName).AddEntityAsync(OldEdge(partition, "friend|bob"));
        await harness.Table(TableRelationshipStore.EdgesByPeerTableName).AddEntityAsync(OldEdge($"{App}|bob", "friend|alice%2Fx"));
        await harness.Table(TableRelationshipStore.HistoryTableName).AddEntityAsync(OldHistory("alice/x", "bob", "owner"));
        await harness.Table(TableRelationshipStore.HistoryTableName).AddEntityAsync(OldHistory("bob", "alice/x", "peer"));

        var friend = Assert.Single(await harness.AllEdgesAsync(App, "alice/x", EdgeListKind.Friends));
        Assert.Equal(("bob", addedAt, "alice/x"), (friend.UserId, friend.Since, friend.Attributes["initiator"]));
        Assert.Equal("alice/x", Assert.Single(await harness.AllEdgesAsync(App, "bob", EdgeListKind.FriendOf)).UserId);
        var old = Assert.Single(await harness.AllHistoryAsync(App, "bob", new HistoryFilter("alice/x", Friend)));
        Assert.Equal(("old-add", Added, "10.0.0.1"), (old.EventId, old.Action, old.ClientIp));

        // A late, older event changes nothing; a newer one of the same second removes the edge and lists first.
        await harness.Store.ApplyAsync(Batch(Source(), new RelationshipEvent("late", Friend, Removed, "alice/x", "bob", T0, new Dictionary<string, string>())), CancellationToken.None);
        Assert.Single(await harness.AllEdgesAsync(App, "alice/x", EdgeListKind.Friends));
        await harness.Store.ApplyAsync(Batch(Source(receivedAt: addedAt.AddMilliseconds(1)), new RelationshipEvent("new-remove", Friend, Removed, "alice/x", "bob", addedAt, new Dictionary<string, string>())), CancellationToken.None);

        Assert.Empty(await harness.AllEdgesAsync(App, "alice/x", EdgeListKind.Friends));
        Assert.Empty(await harness.AllEdgesAsync(App, "bob", EdgeListKind.FriendOf));
        Assert.Equal(["new-remove", "old-add", "late"], (await harness.AllHistoryAsync(App, "alice/x")).Select(h => h.EventId));
        Assert.Equal(["new-remove", "old-add", "late"], (await harness.AllHistoryAsync(App, "bob", top: 1)).Select(h => h.EventId));
    }
}
