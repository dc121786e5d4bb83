using FunctionApp.Core;
using FunctionApp.Storage.Relationships;
using static FunctionApp.Tests.Storage.RelationshipStoreHarness;

namespace FunctionApp.Tests.Storage;

/// <summary>The planner's edges: which events touch edges, keys checked before anything is written, the order of writes.</summary>
public class ApplyPlannerBoundaryTests
{
    [Fact]
    public void An_edge_row_key_too_long_fails_the_batch_even_when_the_partitions_fit()
    {
        // "a|" + 506 characters is a 508-character partition; "friend|" + 506 is a 513-character row key.
        var peer = new string('p', 506);
        var error = Assert.Throws<InvalidBatchException>(() => ApplyPlanner.Receive(Batch(Source(appId: "a"), Event("e", RelationshipKind.Friend, RelationshipAction.Added, "u", peer, 1))));
        Assert.Equal("The batch cannot be stored: A table key would be 513 characters long; the Table service allows 512.", error.Message);
        Assert.IsType<ArgumentException>(error.InnerException);

        // A friend request has no edge row, so the same peer is fine.
        Assert.Single(ApplyPlanner.Receive(Batch(Source(appId: "a"), Event("e", RelationshipKind.FriendRequest, RelationshipAction.Requested, "u", peer, 1))));
        Assert.Throws<ArgumentNullException>(() => ApplyPlanner.Receive(null!));
    }

    [Theory]
    [InlineData(RelationshipKind.Friend, RelationshipAction.Added, true)]
    [InlineData(RelationshipKind.Block, RelationshipAction.Removed, true)]
    [InlineData(RelationshipKind.Friend, RelationshipAction.Updated, true)]
    [InlineData(RelationshipKind.FriendRequest, RelationshipAction.Added, false)]
    [InlineData(RelationshipKind.Friend, RelationshipAction.Requested, false)]
    [InlineData(RelationshipKind.Block, RelationshipAction.Responded, false)]
    [InlineData(RelationshipKind.FriendRequest, RelationshipAction.Requested, false)]
    public void Only_friend_and_block_adds_removes_and_updates_change_edges(RelationshipKind kind, RelationshipAction action, bool edge)
    {
        var events = ApplyPlanner.Receive(Batch(Source(), Event("e", kind, action, "u", "v", 1)));
        Assert.Equal(edge ? 1 : 0, ApplyPlanner.EdgeChanges(events).Count);
    }

    [Fact]
    public void Writes_come_in_ordinal_row_key_order()
    {
        var change = Assert.Single(ApplyPlanner.EdgeChanges(ApplyPlanner.Receive(Batch(Source(), Event("e", RelationshipKind.Friend, RelationshipAction.Added, "u", "v", 1)))));
        var keys = new[] { "c", "B", "a" };
        var changes = keys.ToDictionary(k => k, _ => new List<EdgeChange> { change });
        var known = keys.ToDictionary(k => k, _ => (StoredEdge?)null);

        Assert.Equal(["B", "a", "c"], ApplyPlanner.PlanEdgeWrites(keys, changes, known).Select(w => w.RowKey));
    }

    [Fact]
    public void Partition_work_keeps_every_change_of_a_row_and_assumes_a_row_missing_only_when_told()
    {
        var changes = ApplyPlanner.EdgeChanges(ApplyPlanner.Receive(Batch(Source(),
            Event("a", RelationshipKind.Friend, RelationshipAction.Added, "u", "v", 1), Event("b", RelationshipKind.Friend, RelationshipAction.Removed, "u", "v", 2))));
        var work = new EdgePartitionWork(EdgeTable.EdgesByPeer, "p");

        work.Add("read", changes[0], assumeMissing: false);
        work.Add("read", changes[1], assumeMissing: true);
        work.Add("assumed", changes[0], assumeMissing: true);

        Assert.Equal(changes, work.Changes["read"]);
        Assert.DoesNotContain("read", work.Known.Keys);
        Assert.Equal(["assumed"], work.Assumed);
        Assert.Null(work.Known["assumed"]);
        Assert.Equal((EdgeTable.EdgesByPeer, "p"), (work.Table, work.PartitionKey));
    }
}
