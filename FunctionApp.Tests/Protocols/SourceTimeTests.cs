using FunctionApp.Core;
using FunctionApp.Protocols.Tencent;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

/// <summary>
/// A source time decides which event of an edge wins, so none may lie in the future: a RequestTime or EventTime
/// more than the allowed skew ahead of the receive time is refused, signed or not, and no edge can be frozen.
/// </summary>
public class SourceTimeTests
{
    private static readonly long Now = ReceivedAt.ToUnixTimeSeconds();
    private static readonly int Skew = new TencentOptions().MaxClockSkewSeconds;

    private static byte[] Pair(string command) =>
        Utf8($"{{\"CallbackCommand\":\"{command}\",\"PairList\":[{{\"From_Account\":\"alice\",\"To_Account\":\"bob\"}}]}}");

    private static InboundCallback Unsigned(string command, long requestTime, DateTimeOffset? receivedAt = null) =>
        Tencent(command, Pair(command), new Dictionary<string, string>
        {
            ["RequestTime"] = requestTime.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, receivedAt);

    [Theory]
    [InlineData(9_999_999_999L)] // the year 2286
    [InlineData(1)]
    public void An_unsigned_request_time_ahead_of_the_receive_time_is_refused(long secondsAhead)
    {
        var requestTime = secondsAhead == 1 ? Now + Skew + 1 : secondsAhead;
        var result = Ingestor().Ingest(Unsigned(TencentCommands.FriendAdd, requestTime));
        HostileBodyTests.AssertRefused("tencent", result, 400);
        Assert.Contains("RequestTime", result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsigned_request_time_within_the_skew_or_in_the_past_is_accepted()
    {
        Assert.Equal(200, Ingestor().Ingest(Unsigned(TencentCommands.FriendAdd, Now + Skew)).Answer.StatusCode);
        Assert.Equal(200, Ingestor().Ingest(Unsigned(TencentCommands.FriendAdd, Now - 86_400)).Answer.StatusCode);
    }

    [Fact]
    public void A_future_event_time_is_refused_even_when_the_callback_is_signed()
    {
        var future = (Now + Skew + 1) * 1000;
        var body = Utf8($"{{\"CallbackCommand\":\"Sns.CallbackPrevFriendAdd\",\"From_Account\":\"a\",\"FriendItem\":[{{\"To_Account\":\"b\"}}],\"EventTime\":{future}}}");
        var result = Ingestor().Ingest(SignedTencent(TencentCommands.PrevFriendAdd, body, Now));
        HostileBodyTests.AssertRefused("tencent", result, 400);
        Assert.Contains("EventTime", result.Outcome.Reason, StringComparison.Ordinal);

        var present = Utf8($"{{\"CallbackCommand\":\"Sns.CallbackPrevFriendAdd\",\"From_Account\":\"a\",\"FriendItem\":[{{\"To_Account\":\"b\"}}],\"EventTime\":{Now * 1000}}}");
        Assert.Equal(200, Ingestor().Ingest(SignedTencent(TencentCommands.PrevFriendAdd, present, Now)).Answer.StatusCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(30)] // the default skew: the furthest ahead an add is accepted
    [InlineData(9_999_999_999L - 1_700_000_000L)] // an add claiming the year 2286
    public void A_later_delete_always_wins_over_any_add_that_was_accepted(long secondsAhead)
    {
        var add = Ingestor().Ingest(Unsigned(TencentCommands.FriendAdd, Now + secondsAhead));
        if (add.Batches.Count == 0)
        {
            return; // refused: nothing reaches the edge
        }

        var deleteReceived = ReceivedAt.AddSeconds(Skew + 1);
        var delete = Ingestor().Ingest(Unsigned(TencentCommands.FriendDelete, deleteReceived.ToUnixTimeSeconds(), deleteReceived));
        Assert.True(EventVersion.IsNewer(VersionOf(delete), VersionOf(add)), "a delete sent after the add must win");
    }

    [Fact]
    public void The_default_skew_is_30_seconds_and_a_45_second_old_signature_is_refused()
    {
        Assert.Equal(30, Skew);
        HostileBodyTests.AssertRefused("tencent", Ingestor().Ingest(SignedTencent(TencentCommands.FriendDelete, Pair("Sns.CallbackFriendDelete"), Now - 45)), 401);
    }

    private static string VersionOf(IngestResult result)
    {
        var batch = Assert.Single(result.Batches);
        return EventVersion.Of(Assert.Single(batch.Events), batch.Source);
    }
}
