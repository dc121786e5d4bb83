using FunctionApp.Core;
using FunctionApp.Reconciliation;

namespace FunctionApp.Tests.Reconciliation;

public sealed class ReconciliationDiffTests
{
    private static readonly DateTimeOffset ReadStart = new(2026, 12, 1, 10, 20, 30, 456, TimeSpan.Zero);

    private static PlatformEdge Listed(string peer, params (string Name, string Value)[] attributes) =>
        new(peer, attributes.ToDictionary(a => a.Name, a => a.Value));

    private static EdgeView Stored(string peer, params (string Name, string Value)[] attributes) =>
        new(peer, ReadStart.AddDays(-1), ReadStart.AddDays(-1), "tencent", "Sns.CallbackFriendAdd", attributes.ToDictionary(a => a.Name, a => a.Value));

    private static PlatformSnapshot Complete(IEnumerable<PlatformEdge> friends, IEnumerable<PlatformEdge> blocks) =>
        new(new PlatformList(friends.ToList(), true), new PlatformList(blocks.ToList(), true), 2, null);

    private static ReconciliationPlan Plan(PlatformSnapshot snapshot, IReadOnlyList<EdgeView> friends, IReadOnlyList<EdgeView> blocks) =>
        ReconciliationDiff.Plan("tencent", "1400000001", "alice", ReadStart, snapshot, friends, blocks);

    [Fact]
    public void Missing_edges_are_added_with_the_api_facts_and_extra_ones_removed()
    {
        var plan = Plan(
            Complete([Listed("bob", ("addTime", "1563867420"), ("remark", "Bobby")), Listed("carol")], [Listed("mallory", ("addBlackTime", "1430000001"))]),
            [Stored("carol"), Stored("dave")],
            [Stored("eve")]);

        Assert.Equal((2, 2, 0), (plan.Added, plan.Removed, plan.Updated));
        var batch = Assert.IsType<RelationshipBatch>(plan.Batch);
        Assert.Equal("reconcile", batch.Source.Command);
        Assert.Equal("tencent", batch.Source.Platform);
        Assert.Equal("1400000001", batch.Source.AppId);
        var byPeer = batch.Events.ToDictionary(e => (e.Kind, e.Peer));
        var bob = byPeer[(RelationshipKind.Friend, "bob")];
        Assert.Equal(RelationshipAction.Added, bob.Action);
        Assert.Equal("alice", bob.Owner);
        Assert.Equal("Bobby", bob.Attributes["remark"]);
        Assert.Equal("1563867420", bob.Attributes["addTime"]);
        Assert.Equal(RelationshipAction.Removed, byPeer[(RelationshipKind.Friend, "dave")].Action);
        Assert.Equal(RelationshipAction.Added, byPeer[(RelationshipKind.Block, "mallory")].Action);
        Assert.Equal(RelationshipAction.Removed, byPeer[(RelationshipKind.Block, "eve")].Action);
        Assert.DoesNotContain((RelationshipKind.Friend, "carol"), byPeer.Keys);
    }

    [Fact]
    public void The_events_carry_the_read_start_to_the_second_and_the_exact_start_as_receive_time()
    {
        var batch = Plan(Complete([Listed("bob")], []), [], []).Batch!;

        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 20, 30, TimeSpan.Zero), batch.Source.SourceTime);
        Assert.Equal(ReadStart, batch.Source.ReceivedAt);
        Assert.All(batch.Events, e => Assert.Equal(batch.Source.SourceTime, e.OccurredAt));
    }

    [Fact]
    public void A_user_with_no_difference_gets_no_batch()
    {
        var plan = Plan(Complete([Listed("bob", ("remark", ""))], [Listed("eve")]), [Stored("bob")], [Stored("eve")]);

        Assert.Null(plan.Batch);
        Assert.Equal((0, 0, 0), (plan.Added, plan.Removed, plan.Updated));
    }

    [Fact]
    public void A_changed_remark_becomes_an_update_and_an_equal_one_does_not()
    {
        var plan = Plan(Complete([Listed("bob", ("remark", "new")), Listed("carol", ("remark", "same"))], []),
            [Stored("bob", ("remark", "old")), Stored("carol", ("remark", "same"))], []);

        var update = Assert.Single(plan.Batch!.Events);
        Assert.Equal((RelationshipAction.Updated, "bob", "new"), (update.Action, update.Peer, update.Attributes["remark"]));
        Assert.Equal(1, plan.Updated);
    }

    [Theory]
    [InlineData(false, true, false)]
    [InlineData(true, false, false)]
    [InlineData(true, true, true)]
    public void An_incomplete_or_failed_read_adds_but_never_removes(bool friendsComplete, bool blocklistComplete, bool failed)
    {
        var snapshot = new PlatformSnapshot(new PlatformList([Listed("bob")], friendsComplete), new PlatformList([], blocklistComplete), 1,
            failed ? new ReconcileError(ReconcileErrorKind.RateLimited, "60007") : null);

        var plan = Plan(snapshot, [Stored("dave")], [Stored("eve")]);

        var added = Assert.Single(plan.Batch!.Events);
        Assert.Equal((RelationshipAction.Added, "bob"), (added.Action, added.Peer));
        Assert.Equal(0, plan.Removed);
    }

    [Fact]
    public void Ids_are_deterministic_per_user_and_read_and_differ_between_reads()
    {
        var snapshot = Complete([Listed("bob"), Listed("carol")], [Listed("eve")]);
        var reordered = Complete([Listed("carol"), Listed("bob")], [Listed("eve")]);
        var first = Plan(snapshot, [], []).Batch!;
        var again = Plan(reordered, [], []).Batch!;
        var later = ReconciliationDiff.Plan("tencent", "1400000001", "alice", ReadStart.AddSeconds(1), snapshot, [], []).Batch!;
        var otherUser = ReconciliationDiff.Plan("tencent", "1400000001", "bob", ReadStart, snapshot, [], []).Batch!;

        Assert.Equal(first.BatchId, again.BatchId);
        Assert.Equal(first.Events.Select(e => (e.EventId, e.Peer)), again.Events.Select(e => (e.EventId, e.Peer)));
        Assert.Equal(first.Events.Count, first.Events.Select(e => e.EventId).Distinct().Count());
        Assert.Empty(first.Events.Select(e => e.EventId).Intersect(later.Events.Select(e => e.EventId)));
        Assert.NotEqual(first.BatchId, otherUser.BatchId);
    }

    [Fact]
    public void A_peer_listed_twice_is_added_once()
    {
        var plan = Plan(Complete([Listed("bob"), Listed("bob")], []), [], []);

        Assert.Single(plan.Batch!.Events);
    }

    [Fact]
    public void The_batch_is_a_valid_queue_message()
    {
        var batch = Plan(Complete([Listed("bob", ("group", "[\"Group1\"]"))], []), [Stored("dave")], []).Batch!;

        var roundTripped = RelationshipBatchJson.Deserialize(RelationshipBatchJson.Serialize(batch));

        Assert.Equal(batch.Events.Select(e => (e.EventId, e.Action, e.Peer)), roundTripped.Events.Select(e => (e.EventId, e.Action, e.Peer)));
    }
}

public sealed class RateLimiterStepTests
{
    [Theory]
    [InlineData(200)]
    [InlineData(100)]
    [InlineData(40)]
    [InlineData(1000)]
    public void The_limiter_aims_near_the_headroom_and_its_worst_window_stays_under_the_limit(int limit)
    {
        var (tokens, periodMs) = FunctionApp.Reconciliation.AdminApi.LimiterSteps(limit, 0.95);
        var rate = tokens * 1000.0 / periodMs;

        Assert.InRange(rate + (2 * tokens), 0, limit * 0.99);
        Assert.InRange(rate, limit * 0.9, limit * 0.95);
    }
}
