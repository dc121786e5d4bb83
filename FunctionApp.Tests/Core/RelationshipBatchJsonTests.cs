using System.Text;
using FunctionApp.Core;

namespace FunctionApp.Tests.Core;

public class RelationshipBatchJsonTests
{
    private static RelationshipBatch SampleBatch() => new(
        RelationshipBatch.CurrentSchemaVersion,
        "batch-1",
        1,
        1,
        new CallbackSource("tencent", "1400000001", "Sns.CallbackFriendAdd", "127.0.0.1", "iOS",
            DateTimeOffset.FromUnixTimeSeconds(1669872112), DateTimeOffset.FromUnixTimeMilliseconds(1669872112345), null),
        [
            new RelationshipEvent("e1", RelationshipKind.Friend, RelationshipAction.Added, "id", "id1",
                DateTimeOffset.FromUnixTimeSeconds(1669872112),
                new Dictionary<string, string> { ["initiator"] = "id", ["forceFlag"] = "1" }),
        ]);

    [Fact]
    public void Round_trips_every_field()
    {
        var batch = SampleBatch();
        var back = RelationshipBatchJson.Deserialize(RelationshipBatchJson.Serialize(batch));

        Assert.Equal(batch.Source, back.Source);
        var original = Assert.Single(batch.Events);
        var copy = Assert.Single(back.Events);
        Assert.Equal(original with { Attributes = copy.Attributes }, copy);
        Assert.Equal(original.Attributes, copy.Attributes);
    }

    [Fact]
    public void Writes_kind_and_action_as_documented_words()
    {
        var json = Encoding.UTF8.GetString(RelationshipBatchJson.Serialize(SampleBatch()));
        Assert.Contains("\"kind\":\"friend\"", json, StringComparison.Ordinal);
        Assert.Contains("\"action\":\"added\"", json, StringComparison.Ordinal);
        Assert.Contains("\"schemaVersion\":1", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("{\"schemaVersion\":2,\"batchId\":\"b\",\"part\":1,\"partCount\":1,\"source\":{},\"events\":[]}")]
    [InlineData("{\"schemaVersion\":1,\"batchId\":\"b\",\"part\":1,\"partCount\":1,\"events\":[]}")]
    [InlineData("{\"schemaVersion\":1,\"batchId\":\"b\",\"part\":1,\"partCount\":1,\"source\":{\"platform\":\"tencent\",\"appId\":\"1\",\"command\":\"c\",\"receivedAt\":\"2024-01-01T00:00:00Z\"},\"events\":[{\"eventId\":\"e\",\"kind\":\"friend\",\"action\":\"added\",\"owner\":\"a\",\"occurredAt\":\"2024-01-01T00:00:00Z\",\"attributes\":{}}]}")]
    public void Refuses_messages_it_cannot_apply(string message)
    {
        Assert.Throws<InvalidBatchException>(() => RelationshipBatchJson.Deserialize(Encoding.UTF8.GetBytes(message)));
    }

    [Fact]
    public void Version_orders_by_source_time_then_receive_time_then_event_id()
    {
        var t0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var source = new CallbackSource("openim", "openim", "c", null, null, null, t0, null);
        var laterSource = source with { ReceivedAt = t0.AddMilliseconds(1) };
        RelationshipEvent At(DateTimeOffset occurred, string id) =>
            new(id, RelationshipKind.Block, RelationshipAction.Added, "a", "b", occurred, new Dictionary<string, string>());

        var early = EventVersion.Of(At(t0, "z"), laterSource);
        Assert.True(EventVersion.IsNewer(EventVersion.Of(At(t0.AddSeconds(1), "a"), source), early));
        Assert.True(EventVersion.IsNewer(EventVersion.Of(At(t0, "a"), laterSource), EventVersion.Of(At(t0, "z"), source)));
        Assert.True(EventVersion.IsNewer(EventVersion.Of(At(t0, "b"), source), EventVersion.Of(At(t0, "a"), source)));
        Assert.False(EventVersion.IsNewer(early, early));
        Assert.True(EventVersion.IsNewer(early, null));
    }
}
