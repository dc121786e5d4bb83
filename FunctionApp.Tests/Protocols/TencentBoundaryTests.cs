using System.Globalization;
using FunctionApp.Protocols.Tencent;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

/// <summary>The edges of what a Tencent callback may carry: times at their bounds, half a signature, commands nowhere, bodies at the limit.</summary>
public class TencentBoundaryTests
{
    private static readonly byte[] FriendDelete = Utf8("{\"CallbackCommand\":\"Sns.CallbackFriendDelete\",\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\"}]}");
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    public void A_malformed_request_time_for_an_app_without_a_token_is_refused_not_read_as_1970(string requestTime)
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, new Dictionary<string, string> { ["RequestTime"] = requestTime }));
        HostileBodyTests.AssertRefused("tencent", result, 400);
        Assert.Equal("RequestTime must be Unix seconds.", result.Outcome.Reason);
    }

    [Fact]
    public void A_request_time_past_the_last_representable_second_is_malformed_and_the_last_one_itself_is_ahead()
    {
        var past = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, new Dictionary<string, string> { ["RequestTime"] = Text(MaxUnixSeconds + 1) }));
        HostileBodyTests.AssertRefused("tencent", past, 400);
        Assert.Equal("RequestTime must be Unix seconds.", past.Outcome.Reason);

        var last = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, new Dictionary<string, string> { ["RequestTime"] = Text(MaxUnixSeconds) }));
        HostileBodyTests.AssertRefused("tencent", last, 400);
        Assert.StartsWith("RequestTime is ", last.Outcome.Reason, StringComparison.Ordinal);
        Assert.EndsWith(" s ahead of the receive time; at most 30 s is accepted.", last.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_time_of_zero_dates_the_callback_at_the_epoch()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, new Dictionary<string, string> { ["RequestTime"] = "0" }));
        Assert.Equal(DateTimeOffset.UnixEpoch, Assert.Single(result.Batches).Source.SourceTime);
    }

    [Theory]
    [InlineData("Sign", "RequestTime")]
    [InlineData("RequestTime", "Sign")]
    public void Only_one_of_sign_and_request_time_still_makes_a_delivery_key(string given, string other)
    {
        IReadOnlyList<string> Ids(string value, DateTimeOffset receivedAt) => AllEvents(Ingestor().Ingest(
            Tencent(TencentCommands.FriendDelete, FriendDelete, new Dictionary<string, string> { [given] = value }, receivedAt))).Select(e => e.EventId).ToList();

        Assert.False(string.IsNullOrEmpty(other));
        var first = Ids(Text(ReceivedAt.ToUnixTimeSeconds() - 1), ReceivedAt);
        var retried = Ids(Text(ReceivedAt.ToUnixTimeSeconds() - 1), ReceivedAt.AddSeconds(5));
        var another = Ids(Text(ReceivedAt.ToUnixTimeSeconds() - 2), ReceivedAt);

        Assert.Equal(first, retried);
        Assert.Empty(first.Intersect(another));
    }

    [Fact]
    public void The_delivery_key_tells_a_sign_from_a_request_time_of_the_same_text()
    {
        var text = Text(ReceivedAt.ToUnixTimeSeconds());
        var asSign = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, new Dictionary<string, string> { ["Sign"] = text }));
        var asTime = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, new Dictionary<string, string> { ["RequestTime"] = text }));
        Assert.NotEqual(Assert.Single(asSign.Batches).BatchId, Assert.Single(asTime.Batches).BatchId);
    }

    [Theory]
    [InlineData("{\"PairList\":[]}")]
    [InlineData("{\"CallbackCommand\":\" \",\"PairList\":[]}")]
    [InlineData("{\"CallbackCommand\":null,\"PairList\":[]}")]
    public void No_callback_command_in_the_query_or_the_body_is_refused(string body)
    {
        var callback = Tencent(TencentCommands.FriendDelete, Utf8(body));
        var query = callback.Query.Where(p => p.Key != "CallbackCommand").ToDictionary(p => p.Key, p => p.Value);
        var result = Ingestor().Ingest(callback with { Query = query });
        HostileBodyTests.AssertRefused("tencent", result, 400);
        Assert.Equal("No CallbackCommand in the query or the body.", result.Outcome.Reason);
    }

    [Fact]
    public void A_blank_body_command_defers_to_the_query()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, Utf8("{\"CallbackCommand\":\"  \",\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\"}]}")));
        Assert.Equal(TencentCommands.FriendDelete, Assert.Single(result.Batches).Source.Command);
    }

    [Fact]
    public void The_body_command_is_matched_case_insensitively_and_stored_as_documented()
    {
        var callback = Tencent(TencentCommands.FriendDelete, Utf8("{\"CallbackCommand\":\"sns.callbackfrienddelete\",\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\"}]}"));
        var result = Ingestor().Ingest(callback with { Query = callback.Query.Where(p => p.Key != "CallbackCommand").ToDictionary(p => p.Key, p => p.Value) });
        Assert.Equal(TencentCommands.FriendDelete, Assert.Single(result.Batches).Source.Command);
    }

    private static byte[] PrevFriendAdd(string eventTime) =>
        Utf8($"{{\"CallbackCommand\":\"Sns.CallbackPrevFriendAdd\",\"From_Account\":\"a\",\"EventTime\":{eventTime},\"FriendItem\":[{{\"To_Account\":\"b\"}}]}}");

    [Fact]
    public void An_event_time_of_zero_is_the_epoch()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.PrevFriendAdd, PrevFriendAdd("0")));
        var batch = Assert.Single(result.Batches);
        Assert.Equal(DateTimeOffset.UnixEpoch, batch.Source.SourceTime);
        Assert.Equal(DateTimeOffset.UnixEpoch, Assert.Single(batch.Events).OccurredAt);
    }

    [Fact]
    public void An_event_time_wins_over_the_request_time()
    {
        var eventTime = ReceivedAt.AddSeconds(-100);
        var result = Ingestor().Ingest(Tencent(TencentCommands.PrevFriendAdd, PrevFriendAdd(Text(eventTime.ToUnixTimeMilliseconds())),
            new Dictionary<string, string> { ["RequestTime"] = Text(ReceivedAt.ToUnixTimeSeconds() - 5) }));
        Assert.Equal(eventTime, Assert.Single(result.Batches).Source.SourceTime);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(253_402_300_800_000L)] // one millisecond past DateTimeOffset.MaxValue
    [InlineData(long.MaxValue)]
    public void An_event_time_out_of_range_is_refused(long eventTime)
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.PrevFriendAdd, PrevFriendAdd(Text(eventTime))));
        HostileBodyTests.AssertRefused("tencent", result, 400);
        Assert.Equal("EventTime must be Unix milliseconds.", result.Outcome.Reason);
    }

    [Fact]
    public void The_last_representable_event_time_is_in_range_but_ahead_of_the_receive_time()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.PrevFriendAdd, PrevFriendAdd(Text(MaxUnixMilliseconds))));
        HostileBodyTests.AssertRefused("tencent", result, 400);
        Assert.StartsWith("EventTime is ", result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_event_time_exactly_the_skew_ahead_is_accepted_and_a_millisecond_more_is_refused()
    {
        var edge = ReceivedAt.AddSeconds(30);
        var accepted = Ingestor().Ingest(Tencent(TencentCommands.PrevFriendAdd, PrevFriendAdd(Text(edge.ToUnixTimeMilliseconds()))));
        Assert.Equal(edge, Assert.Single(accepted.Batches).Source.SourceTime);

        var refused = Ingestor().Ingest(Tencent(TencentCommands.PrevFriendAdd, PrevFriendAdd(Text(edge.ToUnixTimeMilliseconds() + 1))));
        HostileBodyTests.AssertRefused("tencent", refused, 400);
        Assert.Equal("EventTime is 30 s ahead of the receive time; at most 30 s is accepted.", refused.Outcome.Reason);
    }

    [Fact]
    public void A_body_of_exactly_the_limit_is_accepted_and_one_byte_more_is_refused_with_413()
    {
        var exact = BoundaryBodies.PaddedTo(FriendDelete, 200);
        var accepted = Ingestor(limits: l => l.MaxBodyBytes = 200).Ingest(Tencent(TencentCommands.FriendDelete, exact));
        Assert.Equal(200, accepted.Answer.StatusCode);
        Assert.Single(accepted.Batches);

        var refused = Ingestor(limits: l => l.MaxBodyBytes = 200).Ingest(Tencent(TencentCommands.FriendDelete, BoundaryBodies.PaddedTo(FriendDelete, 201)));
        HostileBodyTests.AssertRefused("tencent", refused, 413);
        Assert.Equal("The body is over the limit of 200 bytes.", refused.Outcome.Reason);
    }

    [Fact]
    public void A_signature_needs_a_token_and_a_request_time()
    {
        Assert.Equal("token", Assert.Throws<ArgumentNullException>(() => TencentSignature.Compute(null!, "1669872112")).ParamName);
        Assert.Equal("requestTime", Assert.Throws<ArgumentNullException>(() => TencentSignature.Compute("xxxxyyyy", null!)).ParamName);
        Assert.Equal("token", Assert.Throws<ArgumentNullException>(() => TencentSignature.Verify(null!, "s", "1", ReceivedAt, TimeSpan.Zero)).ParamName);
    }
}

/// <summary>Bodies grown to an exact byte count with trailing JSON whitespace, which parsers skip.</summary>
internal static class BoundaryBodies
{
    public static byte[] PaddedTo(byte[] body, int length)
    {
        Assert.True(body.Length <= length);
        var padded = new byte[length];
        body.CopyTo(padded, 0);
        padded.AsSpan(body.Length).Fill((byte)' ');
        return padded;
    }
}
