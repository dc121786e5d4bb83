using FunctionApp.Core;
using FunctionApp.Messaging;
using FunctionApp.Tests.Hosting;

namespace FunctionApp.Tests.Core;

public sealed class RedeliveryScheduleTests
{
    private static readonly RedeliverySchedule Schedule = new(new RedeliveryOptions
    {
        FirstDelay = TimeSpan.FromSeconds(10),
        MaxDelay = TimeSpan.FromMinutes(10),
        ParkAfter = TimeSpan.FromHours(6),
    });

    [Fact]
    public void Delays_double_from_the_first_delay_up_to_the_max_delay()
    {
        var delays = Enumerable.Range(1, 9).Select(Schedule.DelayBefore).Select(d => d.TotalSeconds).ToArray();

        Assert.Equal([10, 20, 40, 80, 160, 320, 600, 600, 600], delays);
        Assert.Equal(TimeSpan.FromMinutes(10), Schedule.DelayBefore(int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedule.DelayBefore(0));
    }

    [Fact]
    public void A_first_failure_starts_the_chain_at_the_time_the_delivery_started()
    {
        var started = Samples.Time;

        var next = Schedule.Next(null, started, started.AddSeconds(50));

        Assert.Equal(new Redelivery(TimeSpan.FromSeconds(10), new RedeliveryState(1, started)), next);
    }

    [Fact]
    public void Each_failure_within_the_retry_period_is_the_next_generation_with_the_first_failure_kept()
    {
        var first = Samples.Time;
        var state = new RedeliveryState(5, first);

        var next = Schedule.Next(state, first.AddHours(2), first.AddHours(2).AddMinutes(1));

        Assert.Equal(new Redelivery(TimeSpan.FromSeconds(320), new RedeliveryState(6, first)), next);
    }

    [Fact]
    public void A_batch_failing_for_the_whole_retry_period_is_parked_and_not_a_moment_before()
    {
        var first = Samples.Time;
        var state = new RedeliveryState(30, first);

        Assert.NotNull(Schedule.Next(state, first.AddHours(5), first.AddHours(6).AddTicks(-1)));
        Assert.False(Schedule.IsOver(state, first.AddHours(6).AddTicks(-1)));
        Assert.Null(Schedule.Next(state, first.AddHours(5), first.AddHours(6)));
        Assert.True(Schedule.IsOver(state, first.AddHours(6)));
        Assert.False(Schedule.IsOver(null, first.AddYears(1)));
    }

    [Fact]
    public void A_retry_period_shorter_than_the_delivery_parks_a_first_failure_at_once()
    {
        var schedule = new RedeliverySchedule(new RedeliveryOptions { ParkAfter = TimeSpan.FromSeconds(1) });

        Assert.Null(schedule.Next(null, Samples.Time, Samples.Time.AddSeconds(2)));
    }

    [Fact]
    public void The_state_round_trips_through_message_properties_as_text_or_as_the_transport_types()
    {
        var state = new RedeliveryState(7, Samples.Time.AddMilliseconds(123));
        var properties = state.ToProperties();

        Assert.Equal(state, RedeliveryState.FromProperties(name => properties.GetValueOrDefault(name)));
        Assert.Equal(state, RedeliveryState.FromProperties(name => name == RedeliveryState.GenerationProperty ? 7L : state.FirstFailedAt));
        Assert.Equal(state, RedeliveryState.FromProperties(name => name == RedeliveryState.GenerationProperty ? 7 : state.FirstFailedAt.UtcDateTime));
    }

    [Theory]
    [InlineData(null, "2023-11-14T22:13:20Z")]
    [InlineData("0", "2023-11-14T22:13:20Z")]
    [InlineData("-1", "2023-11-14T22:13:20Z")]
    [InlineData("two", "2023-11-14T22:13:20Z")]
    [InlineData("2", null)]
    [InlineData("2", "yesterday")]
    public void Missing_or_malformed_properties_carry_no_state(string? generation, string? firstFailedAt)
    {
        var state = RedeliveryState.FromProperties(name => name == RedeliveryState.GenerationProperty ? generation : firstFailedAt);

        Assert.Null(state);
    }

    [Fact]
    public void The_chain_keeps_the_first_messages_id()
    {
        Assert.Equal("first", RedeliveryState.OriginalMessageId(name => name == RedeliveryState.OriginalMessageIdProperty ? "first" : null, "first-r3"));
        Assert.Equal("own", RedeliveryState.OriginalMessageId(_ => null, "own"));
    }

    [Fact]
    public void A_copy_has_a_message_id_of_its_own_per_generation_within_the_service_bus_limit()
    {
        Assert.Equal("5b0c-1-r1", ServiceBusEventQueue.RedeliveryMessageId("5b0c-1", 1));
        Assert.Equal("5b0c-1-r12", ServiceBusEventQueue.RedeliveryMessageId("5b0c-1", 12));

        var longId = new string('x', 127);
        var derived = ServiceBusEventQueue.RedeliveryMessageId(longId, 3);
        Assert.True(derived.Length <= ServiceBusEventQueue.MaxMessageIdLength, derived);
        Assert.EndsWith("-r3", derived, StringComparison.Ordinal);
        Assert.Equal(derived, ServiceBusEventQueue.RedeliveryMessageId(longId, 3));
        Assert.NotEqual(derived, ServiceBusEventQueue.RedeliveryMessageId(longId + "y", 3));
    }

    [Fact]
    public void A_copy_carries_the_body_the_state_and_the_original_id()
    {
        var redelivery = new Redelivery(TimeSpan.FromSeconds(20), new RedeliveryState(2, Samples.Time));

        var copy = ServiceBusEventQueue.ToRedelivery("{\"a\":1}"u8.ToArray(), "b-1", redelivery);

        Assert.Equal(("b-1-r2", "{\"a\":1}", ServiceBusEventQueue.ContentType), (copy.MessageId, copy.Body.ToString(), copy.ContentType));
        Assert.Equal("b-1", copy.ApplicationProperties[RedeliveryState.OriginalMessageIdProperty]);
        Assert.Equal(redelivery.Next, RedeliveryState.FromProperties(name => copy.ApplicationProperties.TryGetValue(name, out var value) ? value : null));
    }

    [Fact]
    public void A_storage_message_carries_its_state_in_front_of_the_payload_as_first_put()
    {
        var payload = RelationshipQueueMessage.Encode(Samples.Batch("b-q"));
        var state = new RedeliveryState(3, Samples.Time.AddMilliseconds(5));

        var text = RelationshipQueueMessage.WithRedelivery(payload, state);

        Assert.StartsWith("retry:3:", text, StringComparison.Ordinal);
        Assert.Equal((state, payload), RelationshipQueueMessage.Read(text));
        Assert.Equal("b-q", RelationshipQueueMessage.Decode(text).BatchId);
        Assert.Equal(((RedeliveryState?)null, payload), RelationshipQueueMessage.Read(payload));
    }

    [Theory]
    [InlineData("retry:x:1:abc")]
    [InlineData("retry:0:1:abc")]
    [InlineData("retry:1:abc")]
    public void A_malformed_state_prefix_is_read_as_text_that_is_not_base64(string text)
    {
        Assert.Equal(((RedeliveryState?)null, text), RelationshipQueueMessage.Read(text));
        Assert.Throws<InvalidBatchException>(() => RelationshipQueueMessage.Decode(text));
    }
}
