using FunctionApp.Core;
using FunctionApp.Protocols.Tencent;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

public class TencentIngestTests
{
    private static readonly byte[] FriendDelete = Utf8("{\"CallbackCommand\":\"Sns.CallbackFriendDelete\",\"PairList\":[{\"From_Account\":\"id\",\"To_Account\":\"id1\"},{\"From_Account\":\"id\",\"To_Account\":\"id2\"}]}");
    private static readonly long Now = ReceivedAt.ToUnixTimeSeconds();

    [Fact]
    public void Answers_ok_in_tencent_format_exactly()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete));
        Assert.Equal(new CallbackAnswer(200, "application/json; charset=utf-8", "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\"}"), result.Answer);
        Assert.Equal(503, result.EnqueueFailedAnswer.StatusCode);
        Assert.Equal("{\"ActionStatus\":\"FAIL\",\"ErrorCode\":1,\"ErrorInfo\":\"The callback could not be queued; please retry.\"}", result.EnqueueFailedAnswer.Body);
    }

    [Fact]
    public void Answers_a_before_callback_with_one_proceeding_result_item_per_item_exactly()
    {
        var body = Utf8("{\"CallbackCommand\":\"Sns.CallbackPrevFriendAdd\",\"From_Account\":\"a\",\"FriendItem\":[{\"To_Account\":\"b\"},{\"To_Account\":\"c\"}]}");
        var result = Ingestor().Ingest(Tencent(TencentCommands.PrevFriendAdd, body));
        Assert.Equal(
            "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":[{\"To_Account\":\"b\",\"ResultCode\":0,\"ResultInfo\":\"\"},{\"To_Account\":\"c\",\"ResultCode\":0,\"ResultInfo\":\"\"}]}",
            result.Answer.Body);
    }

    [Fact]
    public void Signed_callback_with_a_fresh_valid_sign_is_accepted_and_dated_by_request_time()
    {
        var result = Ingestor().Ingest(SignedTencent(TencentCommands.FriendDelete, FriendDelete, Now - 5));
        Assert.Equal(200, result.Answer.StatusCode);
        var batch = Assert.Single(result.Batches);
        Assert.Equal(SignedApp, batch.Source.AppId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Now - 5), batch.Source.SourceTime);
        Assert.All(batch.Events, e => Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Now - 5), e.OccurredAt));
    }

    [Theory]
    [InlineData(-61)]
    [InlineData(61)]
    public void Signed_callback_outside_the_clock_skew_is_refused_with_401(int offset)
    {
        var result = Ingestor().Ingest(SignedTencent(TencentCommands.FriendDelete, FriendDelete, Now + offset));
        HostileBodyTests.AssertRefused("tencent", result, 401);
        Assert.Contains("RequestTime", result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Clock_skew_is_configurable()
    {
        var options = new FunctionApp.Protocols.ProtocolOptions { Tencent = new TencentOptions { Apps = { [SignedApp] = Token }, MaxClockSkewSeconds = 300 } };
        var result = new FunctionApp.Protocols.CallbackIngestor(options).Ingest(SignedTencent(TencentCommands.FriendDelete, FriendDelete, Now - 200));
        Assert.Equal(200, result.Answer.StatusCode);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("deadbeef", "1700000000")]
    [InlineData(null, "1700000000")]
    public void Signed_app_refuses_a_missing_or_wrong_sign_with_401(string? sign, string? requestTime)
    {
        var query = new Dictionary<string, string> { ["SdkAppid"] = SignedApp };
        if (sign is not null)
        {
            query["Sign"] = sign;
        }

        if (requestTime is not null)
        {
            query["RequestTime"] = requestTime;
        }

        HostileBodyTests.AssertRefused("tencent", Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, query)), 401);
    }

    [Fact]
    public void Unknown_sdk_app_id_is_refused_with_403()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, new Dictionary<string, string> { ["SdkAppid"] = "1499999999" }));
        HostileBodyTests.AssertRefused("tencent", result, 403);
        Assert.Contains("1499999999", result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_sdk_app_id_is_refused_with_400()
    {
        var callback = Tencent(TencentCommands.FriendDelete, FriendDelete);
        var query = callback.Query.Where(p => p.Key != "SdkAppid").ToDictionary(p => p.Key, p => p.Value);
        var result = Ingestor().Ingest(callback with { Query = query });
        HostileBodyTests.AssertRefused("tencent", result, 400);
        Assert.Contains("SdkAppid", result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Query_names_are_matched_case_insensitively()
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["sdkappid"] = UnsignedApp,
            ["callbackcommand"] = TencentCommands.FriendDelete,
            ["CONTENTTYPE"] = "JSON",
            ["clientip"] = "192.0.2.1",
            ["optplatform"] = "Android",
        };
        var result = Ingestor().Ingest(new InboundCallback("Tencent", "", query, new Dictionary<string, string>(), FriendDelete, ReceivedAt));
        var batch = Assert.Single(result.Batches);
        Assert.Equal(TencentCommands.FriendDelete, batch.Source.Command);
        Assert.Equal("192.0.2.1", batch.Source.ClientIp);
        Assert.Equal("Android", batch.Source.OptPlatform);
    }

    [Fact]
    public void Query_command_and_body_command_must_agree()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.BlackListAdd, FriendDelete));
        HostileBodyTests.AssertRefused("tencent", result, 400);
        Assert.Contains("differ", result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Body_command_is_used_when_the_query_has_none()
    {
        var callback = Tencent(TencentCommands.FriendDelete, FriendDelete);
        var query = callback.Query.Where(p => p.Key != "CallbackCommand").ToDictionary(p => p.Key, p => p.Value);
        var result = Ingestor().Ingest(callback with { Query = query });
        Assert.Equal(TencentCommands.FriendDelete, Assert.Single(result.Batches).Source.Command);
    }

    [Theory]
    [InlineData("Group.CallbackAfterCreateGroup")]
    [InlineData("State.StateChange")]
    public void Unknown_command_is_acknowledged_and_ignored(string command)
    {
        var result = Ingestor().Ingest(Tencent(command, Utf8($"{{\"CallbackCommand\":\"{command}\",\"Anything\":[1,2]}}")));
        Assert.Equal(200, result.Answer.StatusCode);
        Assert.Equal("{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\"}", result.Answer.Body);
        Assert.Empty(result.Batches);
        Assert.Equal("ignored", result.Outcome.Outcome);
        Assert.Contains(command, result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_further_path_is_refused_with_404()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete) with { RestPath = "extra" });
        HostileBodyTests.AssertRefused("tencent", result, 404);
    }

    [Fact]
    public void A_content_type_other_than_json_is_refused()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, new Dictionary<string, string> { ["contenttype"] = "xml" }));
        HostileBodyTests.AssertRefused("tencent", result, 400);
    }

    [Fact]
    public void Event_ids_are_the_same_for_the_same_signed_delivery_and_differ_for_another()
    {
        var first = Ingestor().Ingest(SignedTencent(TencentCommands.FriendDelete, FriendDelete, Now));
        var again = Ingestor().Ingest(SignedTencent(TencentCommands.FriendDelete, FriendDelete, Now, ReceivedAt.AddSeconds(3)));
        var other = Ingestor().Ingest(SignedTencent(TencentCommands.FriendDelete, FriendDelete, Now - 1));

        Assert.Equal(Ids(first), Ids(again));
        Assert.Equal(first.Batches[0].BatchId, again.Batches[0].BatchId);
        Assert.Empty(Ids(first).Intersect(Ids(other)));
        Assert.NotEqual(first.Batches[0].BatchId, other.Batches[0].BatchId);
        Assert.Equal(2, Ids(first).Distinct().Count());
    }

    [Fact]
    public void Unsigned_deliveries_without_a_delivery_key_are_told_apart_by_receive_time()
    {
        var first = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete));
        var same = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete));
        var later = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete, receivedAt: ReceivedAt.AddMilliseconds(1)));
        Assert.Equal(Ids(first), Ids(same));
        Assert.Empty(Ids(first).Intersect(Ids(later)));
    }

    [Fact]
    public void Different_bodies_of_the_same_delivery_key_get_different_ids()
    {
        var other = Utf8("{\"CallbackCommand\":\"Sns.CallbackFriendDelete\",\"PairList\":[{\"From_Account\":\"id\",\"To_Account\":\"id9\"},{\"From_Account\":\"id\",\"To_Account\":\"id2\"}]}");
        var first = Ingestor().Ingest(SignedTencent(TencentCommands.FriendDelete, FriendDelete, Now));
        var second = Ingestor().Ingest(SignedTencent(TencentCommands.FriendDelete, other, Now));
        Assert.Empty(Ids(first).Intersect(Ids(second)));
    }

    [Fact]
    public void Ids_with_table_key_characters_control_characters_and_non_ascii_round_trip()
    {
        var odd = "a/b\\c#d?e\u0001\t'\"%ü漢😀";
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { PairList = new[] { new Dictionary<string, string> { ["From_Account"] = odd, ["To_Account"] = odd + "2" } } });
        var result = Ingestor().Ingest(Tencent(TencentCommands.BlackListAdd, body));
        var relationshipEvent = Assert.Single(AllEvents(result));
        Assert.Equal(odd, relationshipEvent.Owner);
        Assert.Equal(odd + "2", relationshipEvent.Peer);
        var back = RelationshipBatchJson.Deserialize(RelationshipBatchJson.Serialize(result.Batches[0]));
        Assert.Equal(odd, back.Events[0].Owner);
    }

    [Fact]
    public void A_user_id_of_exactly_the_limit_is_accepted_and_one_more_is_refused()
    {
        string Body(int length) => $"{{\"PairList\":[{{\"From_Account\":\"{new string('x', length)}\",\"To_Account\":\"y\"}}]}}";
        Assert.Equal(200, Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, Utf8(Body(128)))).Answer.StatusCode);
        var refused = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, Utf8(Body(129))));
        HostileBodyTests.AssertRefused("tencent", refused, 400);
        Assert.Contains("PairList[0].From_Account", refused.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Exactly_max_pairs_are_accepted()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendAdd, HostileBodyTests.PairList(1000)));
        Assert.Equal(200, result.Answer.StatusCode);
        Assert.Equal(1000, AllEvents(result).Count);
    }

    [Fact]
    public void Long_free_text_is_cut_at_the_attribute_limit_without_splitting_a_surrogate_pair()
    {
        var wording = new string('w', 4095) + "😀" + "tail";
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { From_Account = "a", FriendItem = new[] { new { To_Account = "b", AddWording = wording } } });
        var result = Ingestor().Ingest(Tencent(TencentCommands.PrevFriendAdd, body));
        Assert.Equal(new string('w', 4095), Assert.Single(AllEvents(result)).Attributes["addWording"]);
    }

    [Fact]
    public void Error_answer_is_exact_tencent_json()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, Utf8("{\"PairList\":5}")));
        Assert.Equal(new CallbackAnswer(400, "application/json; charset=utf-8",
            "{\"ActionStatus\":\"FAIL\",\"ErrorCode\":1,\"ErrorInfo\":\"PairList must be an array, not a JSON number.\"}"), result.Answer);
    }

    private static List<string> Ids(IngestResult result) => AllEvents(result).Select(e => e.EventId).ToList();
}
