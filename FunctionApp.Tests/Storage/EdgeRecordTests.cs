using Azure.Data.Tables;
using FunctionApp.Core;
using FunctionApp.Storage.Relationships;

namespace FunctionApp.Tests.Storage;

/// <summary>Folding changes into an edge row and the row's stored shape, without storage.</summary>
public class EdgeRecordTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly Dictionary<string, string> None = [];

    private static EdgeChange Change(string eventId, RelationshipAction action, int second, IReadOnlyDictionary<string, string>? attributes = null) =>
        new("app", "u", "v", RelationshipKind.Friend, action, EventVersion.Of(T0.AddSeconds(second), T0.AddSeconds(second), eventId), eventId,
            T0.AddSeconds(second), "tencent", "cmd-" + eventId, attributes ?? None);

    private static Dictionary<string, string> Remark(string remark) => new() { ["remark"] = remark };

    [Fact]
    public void An_add_sets_the_state_and_everything_the_row_says_of_it()
    {
        var added = Change("a", RelationshipAction.Added, 5, Remark("from add"));

        var record = EdgeRecord.Fold(null, [added]);

        Assert.NotNull(record);
        Assert.Equal(("app", "u", "v", RelationshipKind.Friend), (record.AppId, record.Owner, record.Peer, record.Kind));
        Assert.Equal((EdgeState.Present, added.Version, "a", T0.AddSeconds(5), "tencent", "cmd-a"),
            (record.State, record.Version, record.EventId, record.Since, record.Platform, record.Command));
        Assert.Equal(Remark("from add"), record.Attributes);
        Assert.Equal((null, null), (record.FactsVersion, record.FactsChangedAt));
        Assert.Empty(record.Facts);
        Assert.Equal(T0.AddSeconds(5), record.LastChangedAt);
    }

    [Fact]
    public void After_an_add_a_later_remark_update_moves_last_changed_to_the_update()
    {
        var record = EdgeRecord.Fold(EdgeRecord.Fold(null, [Change("a", RelationshipAction.Added, 5)]), [Change("r", RelationshipAction.Updated, 9, Remark("later"))]);

        Assert.NotNull(record);
        Assert.Equal((EdgeState.Present, T0.AddSeconds(5), T0.AddSeconds(9)), (record.State, record.Since, record.FactsChangedAt));
        Assert.Equal(T0.AddSeconds(9), record.LastChangedAt);
        Assert.Equal("later", record.EffectiveAttributes()["remark"]);
    }

    [Fact]
    public void An_update_older_than_the_add_leaves_last_changed_at_the_add()
    {
        var record = EdgeRecord.Fold(null, [Change("r", RelationshipAction.Updated, 2, Remark("early")), Change("a", RelationshipAction.Added, 5)]);

        Assert.NotNull(record);
        Assert.Equal((T0.AddSeconds(5), T0.AddSeconds(2)), (record.Since, record.FactsChangedAt));
        Assert.Equal(T0.AddSeconds(5), record.LastChangedAt);
    }

    [Fact]
    public void An_update_alone_sets_facts_but_no_state_and_dates_the_row_by_the_update()
    {
        var update = Change("r", RelationshipAction.Updated, 7, Remark("only"));

        var record = EdgeRecord.Fold(null, [update]);

        Assert.NotNull(record);
        Assert.Equal((null, null, null), (record.State, record.Version, record.Since));
        Assert.Equal((update.Version, T0.AddSeconds(7)), (record.FactsVersion, record.FactsChangedAt));
        Assert.Equal(Remark("only"), record.Facts);
        Assert.Equal(T0.AddSeconds(7), record.LastChangedAt);
    }

    [Fact]
    public void A_later_remove_leaves_a_tombstone_and_an_older_add_after_it_changes_nothing()
    {
        var removed = EdgeRecord.Fold(EdgeRecord.Fold(null, [Change("a", RelationshipAction.Added, 5)]), [Change("d", RelationshipAction.Removed, 8)]);

        Assert.NotNull(removed);
        Assert.Equal((EdgeState.Absent, "d", T0.AddSeconds(8)), (removed.State, removed.EventId, removed.LastChangedAt));
        Assert.Null(EdgeRecord.Fold(removed, [Change("a", RelationshipAction.Added, 5)]));
        // The facts are a register of their own: an update older than the removal still sets them, and the state stays.
        var facts = EdgeRecord.Fold(removed, [Change("old", RelationshipAction.Updated, 1, Remark("kept"))]);
        Assert.NotNull(facts);
        Assert.Equal((EdgeState.Absent, "kept", T0.AddSeconds(8)), (facts.State, facts.Facts["remark"], facts.LastChangedAt));
    }

    [Fact]
    public void Changes_already_applied_change_nothing_and_a_newer_update_alone_does()
    {
        var add = Change("a", RelationshipAction.Added, 5);
        var update = Change("r", RelationshipAction.Updated, 6, Remark("x"));
        var record = EdgeRecord.Fold(null, [add, update])!;

        Assert.Null(EdgeRecord.Fold(record, [add, update]));
        Assert.Null(EdgeRecord.Fold(record, []));
        Assert.Null(EdgeRecord.Fold(null, []));
        var newer = EdgeRecord.Fold(record, [Change("r2", RelationshipAction.Updated, 7, Remark("y"))]);
        Assert.NotNull(newer);
        Assert.Equal((record.Version, "y"), (newer.Version, newer.Facts["remark"]));
    }

    [Fact]
    public void Folding_converges_whatever_the_order()
    {
        var changes = new[]
        {
            Change("a", RelationshipAction.Added, 1), Change("r", RelationshipAction.Updated, 2, Remark("x")),
            Change("d", RelationshipAction.Removed, 3), Change("a2", RelationshipAction.Added, 4),
        };

        var forward = EdgeRecord.Fold(null, changes)!;
        var backward = EdgeRecord.Fold(null, changes.Reverse())!;

        Assert.Equal((forward.State, forward.Version, forward.FactsVersion, forward.LastChangedAt), (backward.State, backward.Version, backward.FactsVersion, backward.LastChangedAt));
        Assert.Equal((EdgeState.Present, "a2", T0.AddSeconds(4)), (forward.State, forward.EventId, forward.LastChangedAt));
    }

    [Fact]
    public void A_record_covers_changes_no_newer_than_its_registers_only()
    {
        var add = Change("a", RelationshipAction.Added, 5);
        var update = Change("r", RelationshipAction.Updated, 5, Remark("x"));
        var record = EdgeRecord.Fold(null, [add, update])!;

        Assert.True(record.Covers([add, update, Change("old", RelationshipAction.Removed, 1), Change("o", RelationshipAction.Updated, 1)]));
        Assert.True(record.Covers([]));
        Assert.False(record.Covers([add, Change("d", RelationshipAction.Removed, 6)]));
        Assert.False(record.Covers([Change("r2", RelationshipAction.Updated, 6)]));
        Assert.False(EdgeRecord.Fold(null, [add])!.Covers([update]));
    }

    [Fact]
    public void Effective_attributes_overlay_a_later_update_on_the_state_setting_event()
    {
        var add = Change("a", RelationshipAction.Added, 5, new Dictionary<string, string> { ["remark"] = "add", ["source"] = "search" });

        var laterRemark = EdgeRecord.Fold(null, [add, Change("r", RelationshipAction.Updated, 6, Remark("update"))])!;
        Assert.Equal(new Dictionary<string, string> { ["remark"] = "update", ["source"] = "search" }, laterRemark.EffectiveAttributes());

        var olderRemark = EdgeRecord.Fold(null, [add, Change("r", RelationshipAction.Updated, 4, Remark("update"))])!;
        Assert.Equal(add.Attributes, olderRemark.EffectiveAttributes());

        var emptyUpdate = EdgeRecord.Fold(null, [add, Change("r", RelationshipAction.Updated, 6)])!;
        Assert.Equal(add.Attributes, emptyUpdate.EffectiveAttributes());

        var noUpdate = EdgeRecord.Fold(null, [add])!;
        Assert.Equal(add.Attributes, noUpdate.EffectiveAttributes());

        var updateOnly = EdgeRecord.Fold(null, [Change("r", RelationshipAction.Updated, 6, Remark("update"))])!;
        Assert.Equal(Remark("update"), updateOnly.EffectiveAttributes());
    }

    [Fact]
    public void A_row_round_trips_through_its_entity_with_unset_properties_left_out()
    {
        var full = EdgeRecord.Fold(null, [Change("a", RelationshipAction.Added, 5, Remark("r")), Change("u", RelationshipAction.Updated, 6, Remark("s"))])!;
        var row = new RowAddress("app|u", "friend|v");

        var entity = full.ToEntity(row);
        Assert.Equal(("app|u", "friend|v", "friend", "present"), (entity.PartitionKey, entity.RowKey, entity["Kind"], entity["State"]));
        Assert.Equal("{\"remark\":\"s\"}", entity["Facts"]);
        var back = EdgeRecord.FromEntity(entity);
        Assert.Equal((full.State, full.Version, full.EventId, full.Since, full.Platform, full.Command, full.FactsVersion, full.FactsChangedAt, full.LastChangedAt),
            (back.State, back.Version, back.EventId, back.Since, back.Platform, back.Command, back.FactsVersion, back.FactsChangedAt, back.LastChangedAt));
        Assert.Equal((full.AppId, full.Owner, full.Peer, full.Kind), (back.AppId, back.Owner, back.Peer, back.Kind));
        Assert.Equal(full.Attributes, back.Attributes);
        Assert.Equal(full.Facts, back.Facts);

        var updateOnly = EdgeRecord.Fold(null, [Change("u", RelationshipAction.Updated, 6, Remark("s"))])!.ToEntity(row);
        Assert.False(updateOnly.ContainsKey("State"));
        Assert.False(updateOnly.ContainsKey("Since"));
        var stateOnly = EdgeRecord.Fold(null, [Change("d", RelationshipAction.Removed, 6)])!.ToEntity(row);
        Assert.Equal("absent", stateOnly["State"]);
        Assert.False(stateOnly.ContainsKey("Facts"));
        Assert.False(stateOnly.ContainsKey("FactsVersion"));
        Assert.Equal(EdgeState.Absent, EdgeRecord.FromEntity(stateOnly).State);
    }

    [Fact]
    public void A_row_with_missing_properties_reads_with_defaults_and_an_unknown_state_is_refused()
    {
        var bare = EdgeRecord.FromEntity(new TableEntity("p", "r") { ["Kind"] = "block" });
        Assert.Equal(("", "", "", RelationshipKind.Block, null), (bare.AppId, bare.Owner, bare.Peer, bare.Kind, bare.State));
        Assert.Equal(DateTimeOffset.MinValue, bare.LastChangedAt);
        Assert.Empty(bare.Attributes);
        Assert.Empty(bare.Facts);

        var error = Assert.Throws<FormatException>(() => EdgeRecord.FromEntity(new TableEntity("p", "r") { ["Kind"] = "friend", ["State"] = "pending" }));
        Assert.Contains("'pending'", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => EdgeRecord.StateName((EdgeState)7));
    }

    [Fact]
    public void Attributes_are_stored_as_one_json_object_with_names_in_ordinal_order()
    {
        Assert.Equal("{\"B\":\"2\",\"a\":\"1\"}", AttributesJson.Write(new Dictionary<string, string> { ["a"] = "1", ["B"] = "2" }));
        Assert.Equal("{}", AttributesJson.Write(None));
        Assert.Empty(AttributesJson.Read(null));
        Assert.Empty(AttributesJson.Read(""));
        Assert.Empty(AttributesJson.Read("null"));
        Assert.Equal(Remark("x"), AttributesJson.Read("{\"remark\":\"x\"}"));
    }
}
