using System.Text;
using FunctionApp.Core;

namespace FunctionApp.Tests.Core;

/// <summary>Each way a queue message can lack what the store needs is refused on its own, with its reason.</summary>
public class BatchMessageRefusalTests
{
    private const string Source = "\"source\":{\"platform\":\"tencent\",\"appId\":\"1\",\"command\":\"c\",\"receivedAt\":\"2024-01-01T00:00:00Z\"}";

    private static string Message(string events, string source = Source) =>
        $"{{\"schemaVersion\":1,\"batchId\":\"b\",\"part\":1,\"partCount\":1,{source},\"events\":{events}}}";

    private static string Event(string without) =>
        "{" + string.Join(",", new[]
        {
            "\"eventId\":\"e\"", "\"kind\":\"friend\"", "\"action\":\"added\"", "\"owner\":\"a\"", "\"peer\":\"b\"",
            "\"occurredAt\":\"2024-01-01T00:00:00Z\"", "\"attributes\":{}",
        }.Where(field => !field.StartsWith($"\"{without}\"", StringComparison.Ordinal))) + "}";

    private static InvalidBatchException Refused(string message) =>
        Assert.Throws<InvalidBatchException>(() => RelationshipBatchJson.Deserialize(Encoding.UTF8.GetBytes(message)));

    [Theory]
    [InlineData("eventId")]
    [InlineData("owner")]
    [InlineData("peer")]
    public void An_event_without_its_id_owner_or_peer_is_refused(string field)
    {
        Assert.Equal("The message lacks its source or has an event without eventId, owner or peer.", Refused(Message($"[{Event(field)}]")).Message);
    }

    [Fact]
    public void A_null_event_or_no_events_is_refused()
    {
        Assert.Equal("The message lacks its source or has an event without eventId, owner or peer.", Refused(Message($"[{Event("none")},null]")).Message);
        Assert.Equal("The message lacks its source or has an event without eventId, owner or peer.", Refused(Message("null")).Message);
    }

    [Fact]
    public void A_complete_message_is_read()
    {
        var batch = RelationshipBatchJson.Deserialize(Encoding.UTF8.GetBytes(Message($"[{Event("none")},{Event("none")}]")));
        Assert.Equal(2, batch.Events.Count);
        Assert.Equal(("a", "b", "e"), (batch.Events[1].Owner, batch.Events[1].Peer, batch.Events[1].EventId));
    }

    [Fact]
    public void Refusals_say_why()
    {
        Assert.Equal("The message is JSON null, not a relationship batch.", Refused("null").Message);
        Assert.Equal("The message has schemaVersion 3; this build reads 1.", Refused(Message("[]").Replace("\"schemaVersion\":1", "\"schemaVersion\":3", StringComparison.Ordinal)).Message);
        var notJson = Refused("{");
        Assert.StartsWith("The message is not a relationship batch: ", notJson.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(notJson.InnerException);
    }

    [Fact]
    public void A_version_needs_an_event_and_a_source_and_puts_ticks_first()
    {
        var source = new CallbackSource("openim", "openim", "c", null, null, null, DateTimeOffset.UnixEpoch.AddTicks(2), null);
        var relationshipEvent = new RelationshipEvent("id", RelationshipKind.Friend, RelationshipAction.Added, "a", "b", DateTimeOffset.UnixEpoch.AddTicks(1), new Dictionary<string, string>());

        Assert.Equal("0621355968000000001.0621355968000000002.id", EventVersion.Of(relationshipEvent, source));
        Assert.Throws<ArgumentNullException>(() => EventVersion.Of(null!, source));
        Assert.Throws<ArgumentNullException>(() => EventVersion.Of(relationshipEvent, null!));
        Assert.False(EventVersion.IsNewer("0.0.a", "0.0.b"));
        Assert.True(EventVersion.IsNewer("0.0.b", "0.0.a"));
    }
}
