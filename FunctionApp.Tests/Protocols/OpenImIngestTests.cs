using FunctionApp.Core;
using FunctionApp.Protocols.OpenIm;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

public class OpenImIngestTests
{
    private const string OkAnswer = "{\"actionCode\":0,\"errCode\":0,\"errMsg\":\"\",\"errDlt\":\"\",\"nextCode\":0}";
    private static readonly byte[] BeforeAddBlack = Utf8("{\"callbackCommand\":\"callbackBeforeAddBlackCommand\",\"ownerUserID\":\"u1\",\"blackUserID\":\"u2\"}");
    private static readonly byte[] WithoutCommand = Utf8("{\"ownerUserID\":\"u1\",\"blackUserID\":\"u2\"}");

    [Fact]
    public void Before_add_black_is_recorded_and_answered_go_ahead_exactly()
    {
        var result = Ingestor().Ingest(OpenIm(OpenImCommands.BeforeAddBlack, BeforeAddBlack));
        Assert.Equal(new CallbackAnswer(200, "application/json; charset=utf-8", OkAnswer), result.Answer);
        var relationshipEvent = Assert.Single(AllEvents(result));
        Assert.Equal((RelationshipKind.Block, RelationshipAction.Added, "u1", "u2"), (relationshipEvent.Kind, relationshipEvent.Action, relationshipEvent.Owner, relationshipEvent.Peer));
        Assert.Equal(503, result.EnqueueFailedAnswer.StatusCode);
        Assert.Equal("{\"actionCode\":1,\"errCode\":20012,\"errMsg\":\"The callback could not be queued; please retry.\",\"errDlt\":\"Unavailable\",\"nextCode\":0}", result.EnqueueFailedAnswer.Body);
    }

    [Theory]
    [InlineData("callbackBeforeAddBlackCommand", null)]
    [InlineData("", "callbackBeforeAddBlackCommand")]
    [InlineData("callbackBeforeAddBlackCommand", "callbackBeforeAddBlackCommand")]
    [InlineData("CallbackBeforeAddBlackCommand", null)]
    public void Command_is_read_from_the_path_or_the_legacy_query(string restPath, string? queryCommand)
    {
        var query = queryCommand is null ? null : new Dictionary<string, string> { ["command"] = queryCommand };
        var result = Ingestor().Ingest(OpenIm(restPath, WithoutCommand, query));
        Assert.Equal(OpenImCommands.BeforeAddBlack, Assert.Single(result.Batches).Source.Command);
    }

    [Fact]
    public void Command_may_come_from_the_body_alone()
    {
        var result = Ingestor().Ingest(OpenIm("", BeforeAddBlack));
        Assert.Equal(OpenImCommands.BeforeAddBlack, Assert.Single(result.Batches).Source.Command);
    }

    [Fact]
    public void No_command_anywhere_is_refused()
    {
        var result = Ingestor().Ingest(OpenIm("", WithoutCommand));
        HostileBodyTests.AssertRefused("openim", result, 400);
        Assert.Equal(20007, AnswerJson(result).GetProperty("errCode").GetInt32());
    }

    [Fact]
    public void A_url_command_that_differs_from_the_body_is_refused()
    {
        var result = Ingestor().Ingest(OpenIm(OpenImCommands.AfterRemoveBlack, BeforeAddBlack));
        HostileBodyTests.AssertRefused("openim", result, 400);
        Assert.Contains("callbackAfterRemoveBlackCommand", result.Outcome.Reason, StringComparison.Ordinal);
        Assert.Contains("callbackBeforeAddBlackCommand", result.Outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_command_that_differs_from_the_query_is_refused()
    {
        var result = Ingestor().Ingest(OpenIm(OpenImCommands.BeforeAddBlack, WithoutCommand, new Dictionary<string, string> { ["command"] = OpenImCommands.AfterRemoveBlack }));
        HostileBodyTests.AssertRefused("openim", result, 400);
    }

    [Theory]
    [InlineData("s3cret/callbackBeforeAddBlackCommand", null)]
    [InlineData("s3cret", "callbackBeforeAddBlackCommand")]
    [InlineData("s3cret/", "callbackBeforeAddBlackCommand")]
    public void With_a_callback_key_the_right_key_is_accepted_in_both_url_forms(string restPath, string? queryCommand)
    {
        var query = queryCommand is null ? null : new Dictionary<string, string> { ["command"] = queryCommand };
        var result = Ingestor(openImKey: "s3cret").Ingest(OpenIm(restPath, WithoutCommand, query));
        Assert.Equal(200, result.Answer.StatusCode);
        Assert.Single(result.Batches);
    }

    [Theory]
    [InlineData("wrong/callbackBeforeAddBlackCommand", 403)]
    [InlineData("S3CRET/callbackBeforeAddBlackCommand", 403)]
    [InlineData("s3cre/callbackBeforeAddBlackCommand", 403)]
    [InlineData("callbackBeforeAddBlackCommand", 403)]
    [InlineData("", 401)]
    public void With_a_callback_key_a_wrong_or_missing_key_is_refused(string restPath, int status)
    {
        var result = Ingestor(openImKey: "s3cret").Ingest(OpenIm(restPath, BeforeAddBlack));
        HostileBodyTests.AssertRefused("openim", result, status);
        Assert.Equal(status == 401 ? 20009 : 20010, AnswerJson(result).GetProperty("errCode").GetInt32());
    }

    [Fact]
    public void Without_a_callback_key_a_key_segment_is_not_expected()
    {
        var result = Ingestor().Ingest(OpenIm("s3cret/callbackBeforeAddBlackCommand", BeforeAddBlack));
        HostileBodyTests.AssertRefused("openim", result, 404);
    }

    [Fact]
    public void Operation_id_header_is_kept_and_makes_ids_deterministic()
    {
        var first = Ingestor().Ingest(OpenIm(OpenImCommands.BeforeAddBlack, BeforeAddBlack, operationId: "op-42"));
        var again = Ingestor().Ingest(OpenIm("", BeforeAddBlack, operationId: "op-42", receivedAt: ReceivedAt.AddMinutes(1)));
        var other = Ingestor().Ingest(OpenIm(OpenImCommands.BeforeAddBlack, BeforeAddBlack, operationId: "op-43"));

        Assert.Equal("op-42", first.Batches[0].Source.OperationId);
        Assert.Equal(first.Batches[0].Events[0].EventId, again.Batches[0].Events[0].EventId);
        Assert.Equal(first.Batches[0].BatchId, again.Batches[0].BatchId);
        Assert.NotEqual(first.Batches[0].Events[0].EventId, other.Batches[0].Events[0].EventId);
    }

    [Fact]
    public void Operation_id_header_name_is_matched_case_insensitively()
    {
        var callback = OpenIm(OpenImCommands.BeforeAddBlack, BeforeAddBlack, operationId: null);
        var headers = new Dictionary<string, string>(StringComparer.Ordinal) { ["OperationId"] = "op-7" };
        Assert.Equal("op-7", Ingestor().Ingest(callback with { Headers = headers }).Batches[0].Source.OperationId);
    }

    [Fact]
    public void Without_operation_id_ids_follow_the_receive_time()
    {
        var first = Ingestor().Ingest(OpenIm(OpenImCommands.BeforeAddBlack, BeforeAddBlack, operationId: null));
        var later = Ingestor().Ingest(OpenIm(OpenImCommands.BeforeAddBlack, BeforeAddBlack, operationId: null, receivedAt: ReceivedAt.AddSeconds(1)));
        Assert.Null(first.Batches[0].Source.OperationId);
        Assert.NotEqual(first.Batches[0].Events[0].EventId, later.Batches[0].Events[0].EventId);
    }

    [Fact]
    public void Agree_accepts_both_spellings_when_they_agree()
    {
        var body = Utf8("{\"fromUserID\":\"a\",\"blackUserID\":\"b\",\"toUserID\":\"b\",\"HandleResult\":1,\"handleResult\":1,\"HandleMsg\":\"m\",\"handleMsg\":\"m\"}");
        var events = AllEvents(Ingestor().Ingest(OpenIm(OpenImCommands.AfterAddFriendAgree, body)));
        Assert.Equal([("a", "b"), ("b", "a")], events.Select(e => (e.Owner, e.Peer)));
        Assert.All(events, e => Assert.Equal((RelationshipKind.Friend, RelationshipAction.Added), (e.Kind, e.Action)));
    }

    [Fact]
    public void Agree_with_disagreeing_handle_messages_is_refused()
    {
        var body = Utf8("{\"fromUserID\":\"a\",\"blackUserID\":\"b\",\"HandleMsg\":\"m\",\"handleMsg\":\"n\"}");
        HostileBodyTests.AssertRefused("openim", Ingestor().Ingest(OpenIm(OpenImCommands.AfterAddFriendAgree, body)), 400);
    }

    [Theory]
    [InlineData("callbackBeforeAddFriendCommand")]
    [InlineData("callbackAfterSendSingleMsgCommand")]
    public void Unknown_command_is_acknowledged_and_ignored(string command)
    {
        var result = Ingestor().Ingest(OpenIm(command, Utf8($"{{\"callbackCommand\":\"{command}\",\"fromUserID\":\"a\"}}")));
        Assert.Equal(OkAnswer, result.Answer.Body);
        Assert.Equal(200, result.Answer.StatusCode);
        Assert.Empty(result.Batches);
        Assert.Equal(("ignored", command), (result.Outcome.Outcome, result.Outcome.Command));
    }

    [Fact]
    public void Error_answer_is_exact_openim_json()
    {
        var result = Ingestor().Ingest(OpenIm(OpenImCommands.AfterDeleteFriend, Utf8("{\"ownerUserID\":\"u1\",\"friendUserID\":7}")));
        Assert.Equal(new CallbackAnswer(400, "application/json; charset=utf-8",
            "{\"actionCode\":1,\"errCode\":20002,\"errMsg\":\"friendUserID must be a string, not a JSON number.\",\"errDlt\":\"WrongType\",\"nextCode\":0}"), result.Answer);
    }

    [Fact]
    public void App_id_comes_from_configuration()
    {
        var options = new FunctionApp.Protocols.ProtocolOptions { OpenIm = new OpenImOptions { AppId = "tenant-a" } };
        var result = new FunctionApp.Protocols.CallbackIngestor(options).Ingest(OpenIm(OpenImCommands.BeforeAddBlack, BeforeAddBlack));
        Assert.Equal("tenant-a", result.Batches[0].Source.AppId);
        Assert.Equal("tenant-a", result.Outcome.AppId);
    }
}
