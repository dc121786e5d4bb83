using FunctionApp.Core;
using FunctionApp.Storage.Relationships;
using FunctionApp.Tests.Infrastructure;
using Xunit.Abstractions;
using static FunctionApp.Tests.Storage.RelationshipStoreHarness;

namespace FunctionApp.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public class TableRelationshipStoreTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const string App = "1400000001";
    private const RelationshipKind Friend = RelationshipKind.Friend;
    private const RelationshipKind Block = RelationshipKind.Block;
    private const RelationshipAction Added = RelationshipAction.Added;
    private const RelationshipAction Removed = RelationshipAction.Removed;
    private const RelationshipAction Updated = RelationshipAction.Updated;

    [Fact]
    public async Task Applying_a_batch_many_times_equals_applying_it_once()
    {
        var harness = await CreateAsync(azurite);
        var batch = Batch(Source(),
            Event("e1", Friend, Added, "alice", "bob", 1, ("initiator", "alice")),
            Event("e2", Block, Added, "alice", "carol", 2),
            Event("e3", Friend, Updated, "alice", "bob", 3, ("remark", "Bobby")),
            Event("e4", RelationshipKind.FriendRequest, RelationshipAction.Requested, "dave", "alice", 4, ("wording", "hi")),
            Event("e5", Friend, Removed, "erin", "alice", 5));

        await harness.Store.ApplyAsync(batch, CancellationToken.None);
        var once = await harness.SnapshotAsync();
        for (var i = 0; i < 3; i++)
        {
            await harness.Store.ApplyAsync(batch with { BatchId = "redelivered" }, CancellationToken.None);
        }

        Assert.Equal(once, await harness.SnapshotAsync());
        var historyTable = once.Keys.Where(k => k.StartsWith(TableRelationshipStore.HistoryTableName, StringComparison.Ordinal)).ToList();
        Assert.Equal(5, historyTable.Count(k => k.Contains("/receipt|", StringComparison.Ordinal)));
        Assert.Equal(10, historyTable.Count(k => !k.Contains("/receipt|", StringComparison.Ordinal)));
        Assert.Equal(["e5", "e4", "e3", "e2", "e1"], (await harness.AllHistoryAsync(App, "alice")).Select(h => h.EventId));
        var bob = Assert.Single(await harness.AllEdgesAsync(App, "alice", EdgeListKind.Friends));
        Assert.Equal(("bob", "Bobby", "alice"), (bob.UserId, bob.Attributes["remark"], bob.Attributes["initiator"]));
    }

    [Fact]
    public async Task Any_order_of_one_edges_events_converges_to_the_highest_version_and_keeps_every_event_in_history()
    {
        var harness = await CreateAsync(azurite);
        RelationshipEvent[] events =
        [
            Event("a1", Friend, Added, "u", "v", 1, ("initiator", "u")),
            Event("u1", Friend, Updated, "u", "v", 2, ("remark", "first")),
            Event("r1", Friend, Removed, "u", "v", 3),
            Event("a2", Friend, Added, "u", "v", 4, ("initiator", "v")),
            Event("u2", Friend, Updated, "u", "v", 5, ("remark", "second")),
            Event("u0", Friend, Updated, "u", "v", 0, ("remark", "stale")),
            Event("b1", Block, Added, "u", "v", 6),
        ];
        // Same occurrence time, different receive times: the tie-breaker decides.
        var tieA = Event("t1", Friend, Removed, "u", "v", 7);
        var tieB = Event("t2", Friend, Added, "u", "v", 7, ("initiator", "tie"));

        async Task ApplyInOrderAsync(string appId, IEnumerable<int> order)
        {
            foreach (var index in order)
            {
                var (e, received) = index < events.Length ? (events[index], T0) : index == events.Length ? (tieA, T0) : (tieB, T0.AddSeconds(1));
                await harness.Store.ApplyAsync(Batch(Source(appId, receivedAt: received), e), CancellationToken.None);
            }
        }

        var count = events.Length + 2;
        await ApplyInOrderAsync("reference", Enumerable.Range(0, count));
        var expected = await harness.SnapshotAsync("reference");
        var friend = Assert.Single(await harness.AllEdgesAsync("reference", "u", EdgeListKind.Friends));
        // The remark was set during an earlier friendship, ended by the removal at second 7: it does not carry over.
        Assert.Equal(("tie", false, T0.AddSeconds(7)), (friend.Attributes["initiator"], friend.Attributes.ContainsKey("remark"), friend.Since));
        Assert.Single(await harness.AllEdgesAsync("reference", "v", EdgeListKind.BlockedBy));

        var random = new Random(20240501);
        var permutations = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, count).OrderBy(_ => random.Next()).ToArray())
            .Append(Enumerable.Range(0, count).Reverse().ToArray())
            .ToList();
        await Parallel.ForEachAsync(permutations.Select((order, i) => (order, i)), new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (run, _) => await ApplyInOrderAsync($"perm{run.i}", run.order));

        for (var i = 0; i < permutations.Count; i++)
        {
            Assert.True(expected.SequenceEqual(await harness.SnapshotAsync($"perm{i}")), $"order {string.Join(",", permutations[i])} diverged");
            Assert.Equal(count * 2, (await harness.AllHistoryAsync($"perm{i}", "u")).Count + (await harness.AllHistoryAsync($"perm{i}", "v")).Count);
        }
    }

    [Fact]
    public async Task A_late_event_enters_history_without_changing_the_edge()
    {
        var harness = await CreateAsync(azurite);
        await harness.Store.ApplyAsync(Batch(Source(), Event("removed", Friend, Removed, "u", "v", 10)), CancellationToken.None);
        await harness.Store.ApplyAsync(Batch(Source(), Event("late-add", Friend, Added, "u", "v", 5)), CancellationToken.None);

        Assert.Empty(await harness.AllEdgesAsync(App, "u", EdgeListKind.Friends));
        Assert.Empty(await harness.AllEdgesAsync(App, "v", EdgeListKind.FriendOf));
        Assert.Equal(["removed", "late-add"], (await harness.AllHistoryAsync(App, "u")).Select(h => h.EventId));
        Assert.Equal(["removed", "late-add"], (await harness.AllHistoryAsync(App, "v")).Select(h => h.EventId));
    }

    [Fact]
    public async Task Concurrent_appliers_of_overlapping_batches_converge()
    {
        var harness = await CreateAsync(azurite);
        var random = new Random(7);
        var batches = Enumerable.Range(0, 6).Select(b => Batch(Source("concurrent"),
            Enumerable.Range(0, 60).Select(i =>
            {
                var peer = $"p{random.Next(25)}";
                var owner = random.Next(4) == 0 ? "other" : "owner";
                var action = random.Next(3) switch { 0 => Removed, 1 => Updated, _ => Added };
                return Event($"b{b}-{i}", random.Next(3) == 0 ? Block : Friend, action, owner, peer, random.Next(40), ("remark", $"r{b}-{i}"));
            }).ToArray())).ToList();

        // Reference: one applier, one batch after another.
        foreach (var batch in batches)
        {
            await harness.Store.ApplyAsync(batch with { Source = batch.Source with { AppId = "sequential" } }, CancellationToken.None);
        }

        // Every batch twice, all at once.
        await Task.WhenAll(batches.Concat(batches).Select(batch => Task.Run(() => harness.Store.ApplyAsync(batch, CancellationToken.None))));

        var expected = await harness.SnapshotAsync("sequential");
        var actual = await harness.SnapshotAsync("concurrent");
        Assert.Equal(expected.Keys, actual.Keys);
        Assert.Equal(expected, actual);
    }

    public static TheoryData<string> HostileIds => new()
    {
        "a/b", "c\\d", "e#f", "g?h", "tab\tand\nnewline", "nul\u0000", "del\u007F", "c1\u0085\u009F", "it's \"quoted\"",
        "100%", "%2F", "x|y", "中文 ü 🙂", " leading and trailing ", new string('/', 128),
    };

    [Theory]
    [MemberData(nameof(HostileIds))]
    public async Task Any_user_id_round_trips_through_apply_and_queries(string id)
    {
        var harness = await CreateAsync(azurite);
        await harness.Store.ApplyAsync(Batch(Source(),
            Event("f", Friend, Added, id, "plain", 1),
            Event("b", Block, Added, "plain", id, 2)), CancellationToken.None);

        Assert.Equal("plain", Assert.Single(await harness.AllEdgesAsync(App, id, EdgeListKind.Friends)).UserId);
        Assert.Equal(id, Assert.Single(await harness.AllEdgesAsync(App, "plain", EdgeListKind.FriendOf)).UserId);
        Assert.Equal(id, Assert.Single(await harness.AllEdgesAsync(App, "plain", EdgeListKind.Blocklist)).UserId);
        Assert.Equal("plain", Assert.Single(await harness.AllEdgesAsync(App, id, EdgeListKind.BlockedBy)).UserId);
        var history = await harness.AllHistoryAsync(App, id, new HistoryFilter("plain", null));
        Assert.Equal([("b", "plain", id), ("f", id, "plain")], history.Select(h => (h.EventId, h.Owner, h.Peer)));
        Assert.Equal("b", Assert.Single(await harness.AllHistoryAsync(App, "plain", new HistoryFilter(id, Block))).EventId);

        var row = Assert.Single(await harness.Table(TableRelationshipStore.EdgesTableName).QueryAsync<Azure.Data.Tables.TableEntity>().Where(e => e.RowKey == "friend|plain").ToListAsync());
        Assert.Equal($"{App}|{RelationshipKeys.Escape(id)}", row.PartitionKey);
        Assert.Equal(id, row.GetString("Owner"));
    }

    [Theory]
    [InlineData("a/b\\c#d?e", "a%2Fb%5Cc%23d%3Fe")]
    [InlineData("50% off|now", "50%25 off%7Cnow")]
    [InlineData("tab\there\u0085", "tab%09here%85")]
    [InlineData("it's 中文 🙂 \"ok\"", "it's 中文 🙂 \"ok\"")]
    public void Keys_escape_only_what_tables_forbid_and_stay_readable(string id, string key)
    {
        Assert.Equal(key, RelationshipKeys.Escape(id));
        Assert.Equal(id, RelationshipKeys.Unescape(key));
    }

    [Fact]
    public void The_longest_user_id_keeps_keys_within_the_table_limit()
    {
        var worst = new string('\u0085', 128);
        Assert.True(RelationshipKeys.UserPartition("1400000001", worst).Length <= RelationshipKeys.MaxKeyLength);
        Assert.True(RelationshipKeys.EdgeRow(RelationshipKind.FriendRequest, worst).Length <= RelationshipKeys.MaxKeyLength);
        Assert.Throws<ArgumentException>(() => RelationshipKeys.UserPartition("1400000001", new string('/', 200)));
    }

    [Fact]
    public async Task An_id_too_long_for_a_key_makes_the_batch_invalid_not_retried()
    {
        var harness = await CreateAsync(azurite);
        await Assert.ThrowsAsync<InvalidBatchException>(() => harness.Store.ApplyAsync(
            Batch(Source(), Event("long", Friend, Added, new string('#', 300), "x", 1)), CancellationToken.None));
    }

    [Fact]
    public async Task A_thousand_pair_callback_uses_entity_group_transactions()
    {
        var harness = await CreateAsync(azurite);
        var batch = Batch(Source(), Enumerable.Range(0, 1000)
            .Select(i => Event($"pair-{i}", Friend, Added, "owner", $"peer{i:D4}", 0, ("initiator", "owner"), ("forceFlag", "0")))
            .ToArray());

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await harness.Store.ApplyAsync(batch, CancellationToken.None);
        var (first, firstTransactions, firstTime) = (harness.Counter.Requests, harness.Counter.Transactions, watch.Elapsed);
        harness.Counter.Reset();
        watch.Restart();
        await harness.Store.ApplyAsync(batch, CancellationToken.None);
        var (again, againTransactions, againTime) = (harness.Counter.Requests, harness.Counter.Transactions, watch.Elapsed);

        // Layout minimum with 100-operation transactions: owner's history with its receipts 20 and owner's edges 10 (one
        // partition each), and one write per peer partition in each of the mirror and history tables (1,000 + 1,000).
        const int minimum = 20 + 10 + 1000 + 1000;
        output.WriteLine($"1,000-pair callback, first apply: {first} round trips ({firstTransactions} $batch), {firstTime.TotalMilliseconds:F0} ms; layout minimum {minimum}.");
        output.WriteLine($"Same callback redelivered: {again} round trips ({againTransactions} $batch), {againTime.TotalMilliseconds:F0} ms.");
        Assert.Equal(30, firstTransactions);
        Assert.InRange(first, minimum, minimum + 5);
        // Receipts: one failed transaction and one read; peers' history rewritten idempotently; edges and mirror untouched.
        Assert.InRange(again, 0, 1000 + 10);

        var friends = await harness.AllEdgesAsync(App, "owner", EdgeListKind.Friends, top: 300);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"peer{i:D4}"), friends.Select(f => f.UserId));
        Assert.Equal("owner", Assert.Single(await harness.AllEdgesAsync(App, "peer0999", EdgeListKind.FriendOf)).UserId);
        Assert.Equal(1000, (await harness.AllHistoryAsync(App, "owner")).Count);
    }

    [Fact]
    public async Task A_batch_of_many_owners_costs_one_write_per_row_and_a_redelivery_changes_nothing()
    {
        var harness = await CreateAsync(azurite);
        var batch = Batch(Source(), Enumerable.Range(0, 100)
            .Select(i => Event($"pair-{i}", Friend, Added, $"owner{i:D3}", $"peer{i:D3}", 0, ("initiator", $"owner{i:D3}")))
            .ToArray());

        await harness.Store.ApplyAsync(batch, CancellationToken.None);
        var first = harness.Counter.Requests;
        var once = await harness.SnapshotAsync();
        harness.Counter.Reset();
        await harness.Store.ApplyAsync(batch with { BatchId = "redelivered" }, CancellationToken.None);
        var again = harness.Counter.Requests;

        // Layout minimum: every edge is four rows in four partitions (owner edge and history, mirror and peer history),
        // none of which can share a transaction (the receipt rides with the owner's history row); the rows are new, so
        // nothing needs reading.
        const int minimum = 4 * 100;
        output.WriteLine($"100-owner batch, first apply: {first} round trips; layout minimum {minimum}. Redelivered: {again} round trips.");
        Assert.Equal(minimum, first);
        Assert.Equal(once, await harness.SnapshotAsync());
        Assert.Equal(400 + 100, once.Count); // four rows per edge and the event's receipt
        Assert.Equal("owner042", Assert.Single(await harness.AllEdgesAsync(App, "peer042", EdgeListKind.FriendOf)).UserId);
    }

    [Fact]
    public async Task An_edge_inserted_optimistically_still_folds_into_an_existing_row()
    {
        var harness = await CreateAsync(azurite);
        // The newer event lands first; the older one, alone in its batch, is tried as an insert on both sides and must
        // neither overwrite nor fail: both rows keep the newer state and the older event still reaches both histories.
        await harness.Store.ApplyAsync(Batch(Source(), Event("removed", Friend, Removed, "u", "v", 10)), CancellationToken.None);
        await harness.Store.ApplyAsync(Batch(Source(), Event("added", Friend, Added, "u", "v", 5), Event("other", Friend, Added, "w", "v", 6)), CancellationToken.None);

        Assert.Empty(await harness.AllEdgesAsync(App, "u", EdgeListKind.Friends));
        Assert.Equal(["w"], (await harness.AllEdgesAsync(App, "v", EdgeListKind.FriendOf)).Select(e => e.UserId));
        var rows = await harness.SnapshotAsync(App);
        Assert.Contains("State=absent;", rows[$"{TableRelationshipStore.EdgesTableName}/u/friend|v"], StringComparison.Ordinal);
        Assert.Equal(rows[$"{TableRelationshipStore.EdgesTableName}/u/friend|v"], rows[$"{TableRelationshipStore.EdgesByPeerTableName}/v/friend|u"]);
        Assert.Equal(["removed", "added"], (await harness.AllHistoryAsync(App, "u")).Select(h => h.EventId));
    }

    [Fact]
    public async Task Edges_read_from_both_sides_and_removed_edges_leave_the_lists()
    {
        var harness = await CreateAsync(azurite);
        await harness.Store.ApplyAsync(Batch(Source(),
            Event("1", Friend, Added, "a", "b", 1, ("initiator", "a")),
            Event("2", Friend, Added, "a", "c", 2),
            Event("3", Block, Added, "a", "d", 3),
            Event("4", Block, Added, "b", "a", 4),
            Event("5", Friend, Added, "c", "a", 5),
            Event("6", Friend, Removed, "a", "c", 6)), CancellationToken.None);

        var friends = await harness.AllEdgesAsync(App, "a", EdgeListKind.Friends);
        var b = Assert.Single(friends);
        Assert.Equal(("b", T0.AddSeconds(1), T0.AddSeconds(1), "tencent", "Sns.CallbackFriendAdd", "a"),
            (b.UserId, b.Since, b.LastChangedAt, b.Platform, b.Command, b.Attributes["initiator"]));
        Assert.Equal(["d"], (await harness.AllEdgesAsync(App, "a", EdgeListKind.Blocklist)).Select(e => e.UserId));
        Assert.Equal(["c"], (await harness.AllEdgesAsync(App, "a", EdgeListKind.FriendOf)).Select(e => e.UserId));
        Assert.Equal(["b"], (await harness.AllEdgesAsync(App, "a", EdgeListKind.BlockedBy)).Select(e => e.UserId));
        Assert.Equal(["a"], (await harness.AllEdgesAsync(App, "d", EdgeListKind.BlockedBy)).Select(e => e.UserId));
        Assert.Empty(await harness.AllEdgesAsync(App, "c", EdgeListKind.FriendOf));
        Assert.Empty(await harness.AllEdgesAsync("another-app", "a", EdgeListKind.Friends));
    }

    [Fact]
    public async Task History_is_newest_first_filtered_and_paged()
    {
        var harness = await CreateAsync(azurite);
        await harness.Store.ApplyAsync(Batch(Source(),
            Enumerable.Range(0, 9).Select(i => Event($"h{i}", i % 3 == 0 ? Block : Friend, i % 2 == 0 ? Added : Removed, "me", $"peer{i % 2}", i))
                .Append(Event("in", Friend, Added, "someone", "me", 20))
                .ToArray()), CancellationToken.None);

        var pages = new List<IReadOnlyList<HistoryEntry>>();
        string? continuation = null;
        do
        {
            var page = await harness.Store.ListHistoryAsync(App, "me", new HistoryFilter(null, null), 3, continuation, CancellationToken.None);
            pages.Add(page.Items);
            continuation = page.Continuation;
        }
        while (continuation is not null);

        Assert.Equal(["in", "h8", "h7", "h6", "h5", "h4", "h3", "h2", "h1", "h0"], pages.SelectMany(p => p).Select(h => h.EventId));
        Assert.All(pages.SkipLast(1), p => Assert.Equal(3, p.Count));
        Assert.Equal(["h8", "h6", "h4", "h2", "h0"], (await harness.AllHistoryAsync(App, "me", new HistoryFilter("peer0", null), top: 2)).Select(h => h.EventId));
        Assert.Equal(["h6", "h3", "h0"], (await harness.AllHistoryAsync(App, "me", new HistoryFilter(null, Block), top: 1)).Select(h => h.EventId));
        Assert.Equal(["h3"], (await harness.AllHistoryAsync(App, "me", new HistoryFilter("peer1", Block))).Select(h => h.EventId));
        var incoming = Assert.Single(await harness.AllHistoryAsync(App, "me", new HistoryFilter("someone", null)));
        Assert.Equal(("someone", "me", "10.0.0.1", "iOS"), (incoming.Owner, incoming.Peer, incoming.ClientIp, incoming.OptPlatform));
    }

    [Theory]
    [InlineData("not base64 !")]
    [InlineData("aGVsbG8")]
    [InlineData("")]
    public async Task A_malformed_continuation_is_an_argument_error(string token)
    {
        var harness = await CreateAsync(azurite);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => harness.Store.ListHistoryAsync(App, "me", new HistoryFilter(null, null), 10, token, CancellationToken.None));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => harness.Store.ListEdgesAsync(App, "me", EdgeListKind.Friends, 10, token, CancellationToken.None));
    }

    [Fact]
    public async Task A_continuation_from_one_kind_of_query_is_refused_by_the_other()
    {
        var harness = await CreateAsync(azurite);
        await harness.Store.ApplyAsync(Batch(Source(), Event("1", Friend, Added, "a", "b", 1), Event("2", Friend, Added, "a", "c", 2)), CancellationToken.None);
        var page = await harness.Store.ListEdgesAsync(App, "a", EdgeListKind.Friends, 1, null, CancellationToken.None);
        Assert.NotNull(page.Continuation);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => harness.Store.ListHistoryAsync(App, "a", new HistoryFilter(null, null), 1, page.Continuation, CancellationToken.None));
        Assert.Equal("c", Assert.Single((await harness.Store.ListEdgesAsync(App, "a", EdgeListKind.Friends, 1, page.Continuation, CancellationToken.None)).Items).UserId);
    }
}
