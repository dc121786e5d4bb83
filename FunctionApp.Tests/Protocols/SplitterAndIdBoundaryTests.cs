using FunctionApp.Core;
using FunctionApp.Protocols;
using FunctionApp.Protocols.OpenIm;
using FunctionApp.Protocols.Tencent;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

/// <summary>Queue messages filled to exactly their limit, ids that cannot collide, and look-ups that prefer the exact name.</summary>
public class SplitterAndIdBoundaryTests
{
    private static readonly CallbackSource Source = new("tencent", "1400000001", "Sns.CallbackFriendAdd", null, null, null, ReceivedAt, null);

    private static List<RelationshipEvent> Events(int count, int attributes = 0) => Enumerable.Range(0, count)
        .Select(i => new RelationshipEvent($"event-{i:D3}", RelationshipKind.Friend, RelationshipAction.Added, "owner", $"peer-{i:D3}", ReceivedAt,
            Enumerable.Range(0, attributes).ToDictionary(a => $"name{a:D2}", _ => "plain-text")))
        .ToList();

    private static int Size(RelationshipBatch batch) => RelationshipBatchJson.Serialize(batch).Length;

    private static RelationshipBatch Envelope(IReadOnlyList<RelationshipEvent> events, int parts, params RelationshipEvent[] inside) =>
        new(RelationshipBatch.CurrentSchemaVersion, "batch", parts, parts, Source, inside);

    [Fact]
    public void A_whole_batch_of_exactly_the_limit_is_one_part_even_when_part_numbers_could_widen()
    {
        var events = Events(12, attributes: 3);
        var whole = new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, "batch", 1, 1, Source, events);
        Assert.True(BatchSplitter.MaxSerializedBytes(whole) > Size(whole));

        var parts = BatchSplitter.Split("batch", Source, events, Size(whole));

        Assert.Same(events, Assert.Single(parts).Events);
    }

    [Fact]
    public void An_event_that_fills_a_message_exactly_gets_a_part_of_its_own()
    {
        var events = Events(2, attributes: 40);
        var limit = Size(Envelope(events, 2, events[0]));

        var parts = BatchSplitter.Split("batch", Source, events, limit);

        Assert.Equal([1, 1], parts.Select(p => p.Events.Count));
        Assert.Equal([(1, 2), (2, 2)], parts.Select(p => (p.Part, p.PartCount)));
        Assert.All(parts, p => Assert.True(Size(p) <= limit));
    }

    [Fact]
    public void An_event_one_byte_too_large_for_a_message_is_refused_with_its_size()
    {
        var events = Events(2, attributes: 40);
        var needed = Size(Envelope(events, 2, events[0]));

        var refusal = Assert.Throws<CallbackRejectedException>(() => BatchSplitter.Split("batch", Source, events, needed - 1));

        Assert.Equal(CallbackProblemKind.TooLarge, refusal.Kind);
        Assert.Equal($"One event of this callback needs {needed} bytes, more than a queue message holds ({needed - 1}).", refusal.Message);
    }

    [Fact]
    public void Parts_take_as_many_events_as_fit_exactly_and_no_more()
    {
        var events = Events(3, attributes: 40);
        var envelope = Size(Envelope(events, 3));
        var perEvent = Size(Envelope(events, 3, events[0])) - envelope;
        var twoFit = envelope + perEvent + 1 + perEvent;

        Assert.Equal([2, 1], BatchSplitter.Split("batch", Source, events, twoFit).Select(p => p.Events.Count));
        var tighter = BatchSplitter.Split("batch", Source, events, twoFit - 1);
        Assert.Equal([1, 1, 1], tighter.Select(p => p.Events.Count));
        Assert.All(tighter, p => Assert.True(Size(p) <= twoFit - 1));
        Assert.Equal(events, tighter.SelectMany(p => p.Events));
    }

    [Fact]
    public void The_size_bound_holds_for_many_tiny_attributes()
    {
        var attributes = Enumerable.Range(0, 1000).ToDictionary(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture), _ => "");
        var batch = new RelationshipBatch(1, "b", 1, 1, Source, [new RelationshipEvent("e", RelationshipKind.Friend, RelationshipAction.Added, "o", "p", ReceivedAt, attributes)]);
        Assert.True(BatchSplitter.MaxSerializedBytes(batch) >= Size(batch));
    }

    [Fact]
    public void The_size_bound_holds_for_hundreds_of_one_and_two_letter_attribute_names()
    {
        var letters = Enumerable.Range('a', 26).Select(c => ((char)c).ToString());
        var names = letters.Concat(letters.SelectMany(first => letters, (first, second) => first + second));
        var batch = new RelationshipBatch(1, "b", 1, 1, Source,
            [new RelationshipEvent("e", RelationshipKind.Friend, RelationshipAction.Added, "o", "p", ReceivedAt, names.ToDictionary(n => n, _ => ""))]);
        Assert.True(BatchSplitter.MaxSerializedBytes(batch) >= Size(batch));
    }

    [Fact]
    public void The_ingestor_needs_options_and_callbacks()
    {
        Assert.Throws<ArgumentNullException>(() => new CallbackIngestor(null!));
        Assert.Throws<ArgumentNullException>(() => Ingestor().Ingest(null!));
        Assert.Throws<ArgumentNullException>(() => Ingestor().RefuseBeforeBody(null!));
    }

    [Fact]
    public void Splitting_needs_events()
    {
        Assert.Throws<ArgumentNullException>(() => BatchSplitter.Split("batch", Source, null!, 1000));
        Assert.Empty(BatchSplitter.Split("batch", Source, [], 1000));
    }

    [Fact]
    public void Ids_are_length_prefixed_so_shifting_text_between_parts_changes_them()
    {
        var one = new EventIds("tencent", "ab", "c", "k", "{}"u8, ReceivedAt);
        var shifted = new EventIds("tencent", "a", "bc", "k", "{}"u8, ReceivedAt);
        Assert.NotEqual(one.BatchId(), shifted.BatchId());
        Assert.NotEqual(one.EventId(0), shifted.EventId(0));

        // Only the lengths tell these apart: with any fixed separator (four zero bytes, say) they would read the same.
        var zeros = new string('\0', 4);
        Assert.NotEqual(new EventIds("tencent", $"a{zeros}b", "c", "k", "{}"u8, ReceivedAt).BatchId(),
            new EventIds("tencent", "a", $"b{zeros}c", "k", "{}"u8, ReceivedAt).BatchId());
    }

    [Fact]
    public void The_batch_id_is_none_of_the_event_ids_and_ids_are_32_hex_characters()
    {
        var ids = new EventIds("openim", "openim", "c", null, "{}"u8, ReceivedAt);
        var eventIds = Enumerable.Range(0, 4).Select(ids.EventId).ToList();
        Assert.DoesNotContain(ids.BatchId(), eventIds);
        Assert.Equal(4, eventIds.Distinct().Count());
        Assert.All(eventIds.Append(ids.BatchId()), id => Assert.Matches("^[0-9a-f]{32}$", id));
    }

    [Fact]
    public void A_delivery_key_that_looks_like_a_receive_time_is_still_a_delivery_key()
    {
        var withoutKey = Ingestor().Ingest(OpenIm(OpenImCommands.BeforeAddBlack, Utf8("{\"ownerUserID\":\"u1\",\"blackUserID\":\"u2\"}"), operationId: null));
        var lookalike = Ingestor().Ingest(OpenIm(OpenImCommands.BeforeAddBlack, Utf8("{\"ownerUserID\":\"u1\",\"blackUserID\":\"u2\"}"),
            operationId: "received:" + ReceivedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.NotEqual(Assert.Single(withoutKey.Batches).BatchId, Assert.Single(lookalike.Batches).BatchId);
    }

    [Fact]
    public void A_look_up_prefers_the_exact_name_then_any_case_and_blank_is_none()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal) { ["sign"] = "lower", ["Sign"] = "exact", ["blank"] = " \t" };
        Assert.Equal("exact", Lookup.Find(values, "Sign"));
        Assert.Equal("lower", Lookup.Find(values, "SIGN"));
        Assert.Null(Lookup.Find(values, "missing"));
        Assert.Equal(" \t", Lookup.Find(values, "blank"));
        Assert.Null(Lookup.FindNonBlank(values, "blank"));
        Assert.Equal("exact", Lookup.FindNonBlank(values, "Sign"));
    }

    [Fact]
    public void A_blank_sdk_app_id_is_a_missing_one()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, Utf8("{\"PairList\":[]}"), new Dictionary<string, string> { ["SdkAppid"] = "  " }));
        HostileBodyTests.AssertRefused("tencent", result, 400);
        Assert.Equal("The SdkAppid query parameter is missing.", result.Outcome.Reason);
    }

    [Fact]
    public void An_ignored_command_is_reported_as_the_sender_spelled_it()
    {
        var tencent = Ingestor().Ingest(Tencent("Group.CallbackAfterCreateGroup", Utf8("{}")));
        Assert.Equal(new IngestOutcome("tencent", UnsignedApp, "Group.CallbackAfterCreateGroup", 0, "ignored",
            "Group.CallbackAfterCreateGroup is not a relationship callback this app handles."), tencent.Outcome);

        var openIm = Ingestor().Ingest(OpenIm("callbackFooCommand", Utf8("{}"), new Dictionary<string, string> { ["command"] = "CALLBACKFOOCOMMAND" }));
        Assert.Equal("callbackFooCommand", openIm.Outcome.Command);
    }
}
