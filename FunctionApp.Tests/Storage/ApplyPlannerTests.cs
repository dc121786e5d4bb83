using Azure;
using Azure.Data.Tables;
using FunctionApp.Core;
using FunctionApp.Storage.Relationships;
using static FunctionApp.Tests.Storage.RelationshipStoreHarness;

namespace FunctionApp.Tests.Storage;

/// <summary>The planner's decisions, without storage: what is stored and what arrives in, rows to write out.</summary>
public class ApplyPlannerTests
{
    private const RelationshipKind Friend = RelationshipKind.Friend;
    private const RelationshipAction Added = RelationshipAction.Added;
    private const RelationshipAction Removed = RelationshipAction.Removed;

    private static EdgeChange Change(string eventId, RelationshipAction action, int second, string owner = "u", string peer = "v", int receivedSecond = 0) =>
        Assert.Single(ApplyPlanner.EdgeChanges(ApplyPlanner.Receive(Batch(Source(receivedAt: T0.AddSeconds(receivedSecond)),
            Event(eventId, Friend, action, owner, peer, second)))));

    private static StoredEdge Stored(params EdgeChange[] changes) =>
        new(EdgeRecord.Fold(null, changes)!, new ETag("W/\"stored\""));

    [Fact]
    public void A_missing_row_is_inserted_an_older_one_replaced_on_its_etag_and_a_newer_one_left_alone()
    {
        var added = Change("a", Added, 5);
        var changes = new Dictionary<string, List<EdgeChange>>
        {
            ["missing"] = [added],
            ["older"] = [added],
            ["newer"] = [added],
            ["same"] = [added],
        };
        var known = new Dictionary<string, StoredEdge?>
        {
            ["missing"] = null,
            ["older"] = Stored(Change("old", Removed, 1)),
            ["newer"] = Stored(Change("new", Removed, 9)),
            ["same"] = Stored(added),
        };

        var writes = ApplyPlanner.PlanEdgeWrites(changes.Keys, changes, known).ToDictionary(w => w.RowKey);

        Assert.Equal(["missing", "older"], writes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((EdgeWriteKind.Insert, EdgeState.Present, "a"), (writes["missing"].Kind, writes["missing"].Next.State, writes["missing"].Next.EventId));
        Assert.Equal((EdgeWriteKind.Replace, new ETag("W/\"stored\""), EdgeState.Present), (writes["older"].Kind, writes["older"].IfMatch, writes["older"].Next.State));
    }

    [Fact]
    public void A_copy_of_a_received_event_takes_the_first_receipts_times_so_its_version_and_history_row_are_the_first()
    {
        var first = Assert.Single(ApplyPlanner.Receive(Batch(Source(receivedAt: T0.AddSeconds(1)), Event("e", Friend, Added, "u", "v", 0))));
        var copy = Assert.Single(ApplyPlanner.Receive(Batch(Source(receivedAt: T0.AddSeconds(30)), Event("e", Friend, Added, "u", "v", 0))));
        var unrelated = Assert.Single(ApplyPlanner.Receive(Batch(Source(), Event("other", Friend, Added, "u", "w", 0))));
        Assert.NotEqual(first.Version, copy.Version);

        var plan = ApplyPlanner.PlanReceipts([copy, unrelated], new Dictionary<string, Receipt?> { ["e"] = Receipt.Of(first), ["other"] = null });

        Assert.Equal([unrelated], plan.ToRecord);
        var taken = Assert.Single(plan.Received);
        Assert.Equal((first.Version, first.HistoryRowKey, first.BatchId), (taken.Version, taken.HistoryRowKey, taken.BatchId));
        Assert.Equal(HistoryRecord.ToEntity(first, HistorySide.Peer).RowKey, Assert.Single(ApplyPlanner.PeerHistoryRows([taken])).RowKey);
    }

    [Fact]
    public void Events_whose_receipts_were_not_read_are_recorded()
    {
        var events = ApplyPlanner.Receive(Batch(Source(), Event("a", Friend, Added, "u", "v", 0), Event("b", Friend, Added, "u", "w", 0)));
        var plan = ApplyPlanner.PlanReceipts(events, new Dictionary<string, Receipt?>());
        Assert.Equal(events, plan.ToRecord);
        Assert.Empty(plan.Received);
    }

    [Fact]
    public void Each_receipt_goes_in_the_same_transaction_as_its_owner_history_row_and_transactions_hold_at_most_100_actions()
    {
        var events = ApplyPlanner.Receive(Batch(Source(), Enumerable.Range(0, 120).Select(i => Event($"e{i}", Friend, Added, "owner", $"p{i}", 0)).ToArray()));

        var transactions = ApplyPlanner.ReceiptTransactions(events).ToList();

        Assert.Equal([100, 100, 40], transactions.Select(t => t.Count));
        foreach (var transaction in transactions)
        {
            Assert.All(transaction.Chunk(2), pair =>
            {
                Assert.Equal((TableTransactionActionType.Add, TableTransactionActionType.UpsertReplace), (pair[0].ActionType, pair[1].ActionType));
                Assert.StartsWith(RelationshipKeys.ReceiptPrefix, pair[0].Entity.RowKey, StringComparison.Ordinal);
                Assert.Equal(((TableEntity)pair[0].Entity)["EventId"], ((TableEntity)pair[1].Entity)["EventId"]);
                Assert.Equal(pair[0].Entity.PartitionKey, pair[1].Entity.PartitionKey);
            });
        }
    }

    [Fact]
    public void A_batch_names_each_event_once_and_a_key_too_long_makes_it_invalid()
    {
        var events = ApplyPlanner.Receive(Batch(Source(), Event("dup", Friend, Added, "u", "v", 1), Event("dup", Friend, Removed, "u", "v", 2)));
        Assert.Equal(Added, Assert.Single(events).Event.Action);
        Assert.Throws<InvalidBatchException>(() => ApplyPlanner.Receive(Batch(Source(), Event("x", Friend, Added, "u", new string('#', 300), 1))));
        Assert.Throws<InvalidBatchException>(() => ApplyPlanner.Receive(Batch(Source(), Event(new string('#', 300), RelationshipKind.FriendRequest, RelationshipAction.Requested, "u", "v", 1))));
    }

    [Fact]
    public void Mirrors_of_rows_their_read_owner_row_covers_are_skipped_and_others_taken_as_missing_unless_the_owner_row_exists()
    {
        var covered = Change("c", Added, 5, peer: "covered");
        var behind = Change("b", Added, 5, peer: "behind");
        var unread = Change("n", Added, 5, owner: "small", peer: "x");
        var newRow = Change("w", Added, 5, peer: "new");
        var snapshots = new Dictionary<string, IReadOnlyDictionary<string, StoredEdge?>>
        {
            [covered.OwnerRow.PartitionKey] = new Dictionary<string, StoredEdge?>
            {
                [covered.OwnerRow.RowKey] = Stored(covered),
                [behind.OwnerRow.RowKey] = Stored(Change("old", Removed, 1, peer: "behind")),
                [newRow.OwnerRow.RowKey] = null,
            },
        };

        var mirrors = ApplyPlanner.PlanMirrors([covered, behind, unread, newRow], snapshots);

        Assert.DoesNotContain(covered.MirrorRow.PartitionKey, mirrors.Keys);
        Assert.Empty(mirrors[behind.MirrorRow.PartitionKey].Assumed); // its owner row exists: read the mirror first
        Assert.Contains(unread.MirrorRow.RowKey, mirrors[unread.MirrorRow.PartitionKey].Assumed);
        Assert.Contains(newRow.MirrorRow.RowKey, mirrors[newRow.MirrorRow.PartitionKey].Assumed);
    }

    [Fact]
    public void Owner_rows_keep_what_was_read_and_unread_ones_are_inserted_at_once_only_after_their_mirror_insert()
    {
        var read = Change("r", Added, 5, owner: "big");
        var mirrored = Change("m", Added, 5, owner: "small1");
        var notMirrored = Change("n", Added, 5, owner: "small2");
        var stored = Stored(Change("old", Removed, 1, owner: "big"));
        var snapshots = new Dictionary<string, IReadOnlyDictionary<string, StoredEdge?>>
        {
            [read.OwnerRow.PartitionKey] = new Dictionary<string, StoredEdge?> { [read.OwnerRow.RowKey] = stored },
        };

        var owners = ApplyPlanner.PlanOwners([read, mirrored, notMirrored], snapshots, mirror => mirror == mirrored.MirrorRow)
            .ToDictionary(w => w.PartitionKey);

        Assert.Same(stored, owners[read.OwnerRow.PartitionKey].Known[read.OwnerRow.RowKey]);
        Assert.Contains(mirrored.OwnerRow.RowKey, owners[mirrored.OwnerRow.PartitionKey].Assumed);
        Assert.DoesNotContain(notMirrored.OwnerRow.RowKey, owners[notMirrored.OwnerRow.PartitionKey].Known.Keys);
        Assert.All(owners.Values, w => Assert.Equal(EdgeTable.Edges, w.Table));
    }

    [Fact]
    public void Only_owner_partitions_with_more_rows_than_point_reads_serve_are_read_first()
    {
        var changes = Enumerable.Range(0, ApplyPlanner.PointReadLimit + 1).Select(i => Change($"b{i}", Added, 1, owner: "big", peer: $"p{i}"))
            .Concat(Enumerable.Range(0, ApplyPlanner.PointReadLimit).Select(i => Change($"s{i}", Added, 1, owner: "small", peer: $"p{i}")))
            .ToList();
        var read = Assert.Single(ApplyPlanner.OwnerPartitionsToRead(changes));
        Assert.Equal((changes[0].OwnerRow.PartitionKey, ApplyPlanner.PointReadLimit + 1), (read.PartitionKey, read.RowKeys.Count));
    }

    [Fact]
    public void History_keys_order_newest_first_by_source_time_then_receive_time_and_old_keys_still_interleave_by_second()
    {
        var second = T0;
        var keys = new[]
        {
            RelationshipKeys.HistoryRow(second.AddSeconds(1), second.AddSeconds(1), "zzz"),          // newest second
            RelationshipKeys.HistoryRow(second, second.AddMilliseconds(900), "aaa"),                // same second, received later
            RelationshipKeys.HistoryRow(second, second.AddMilliseconds(100), "zzz"),
            RelationshipKeys.LegacyHistoryRow(second.AddSeconds(-1), "0123"),                     // a row of an earlier version
            RelationshipKeys.HistoryRow(second.AddSeconds(-2), second, "a"),
        };
        Assert.Equal(keys, keys.Order(StringComparer.Ordinal));
        Assert.All(keys, key => Assert.True(string.CompareOrdinal(key, RelationshipKeys.HistoryRangeEnd) < 0));
        Assert.True(string.CompareOrdinal(RelationshipKeys.ReceiptRow("0"), RelationshipKeys.HistoryRangeEnd) > 0);
    }
}
