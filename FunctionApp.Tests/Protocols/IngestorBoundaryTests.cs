using FunctionApp.Protocols;
using FunctionApp.Protocols.OpenIm;
using FunctionApp.Protocols.Tencent;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

/// <summary>What the ingestor decides around the handlers: the platform name, refusals before the body, URL details.</summary>
public class IngestorBoundaryTests
{
    private static readonly byte[] FriendDelete = Utf8("{\"CallbackCommand\":\"Sns.CallbackFriendDelete\",\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\"}]}");
    private static readonly byte[] BeforeAddBlack = Utf8("{\"callbackCommand\":\"callbackBeforeAddBlackCommand\",\"ownerUserID\":\"u1\",\"blackUserID\":\"u2\"}");

    [Theory]
    [InlineData(" tencent ")]
    [InlineData("tencent\n")]
    public void The_platform_name_is_trimmed(string platform)
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete) with { Platform = platform });
        Assert.Equal("tencent", Assert.Single(result.Batches).Source.Platform);
        Assert.Null(Ingestor().RefuseBeforeBody(Tencent(TencentCommands.FriendDelete, FriendDelete) with { Platform = platform }));
    }

    [Fact]
    public void A_callback_whose_url_is_fine_is_not_refused_before_its_body()
    {
        Assert.Null(Ingestor().RefuseBeforeBody(Tencent(TencentCommands.FriendDelete, [])));
        Assert.Null(Ingestor(openImKey: "s3cret").RefuseBeforeBody(OpenIm("s3cret/callbackBeforeAddBlackCommand", [])));
        Assert.Null(Ingestor().RefuseBeforeBody(OpenIm("callbackBeforeAddBlackCommand", []) with { Platform = "OpenIM" }));
    }

    [Fact]
    public void A_bad_url_is_refused_before_the_body_in_the_platforms_format()
    {
        var tencent = Ingestor().RefuseBeforeBody(Tencent(TencentCommands.FriendDelete, [], new Dictionary<string, string> { ["SdkAppid"] = "1499999999" }));
        Assert.NotNull(tencent);
        HostileBodyTests.AssertRefused("tencent", tencent, 403);
        Assert.Equal("SdkAppid 1499999999 is not served here.", tencent.Outcome.Reason);
        Assert.Equal("tencent", tencent.Outcome.Platform);

        var openIm = Ingestor(openImKey: "s3cret").RefuseBeforeBody(OpenIm("wrong/callbackBeforeAddBlackCommand", []));
        Assert.NotNull(openIm);
        HostileBodyTests.AssertRefused("openim", openIm, 403);
        Assert.Equal(20010, AnswerJson(openIm).GetProperty("errCode").GetInt32());
        Assert.Equal("Forbidden", AnswerJson(openIm).GetProperty("errDlt").GetString());
        Assert.Equal("openim", openIm.Outcome.Platform);
    }

    [Fact]
    public void An_unknown_platform_is_refused_before_the_body_as_a_problem()
    {
        var result = Ingestor().RefuseBeforeBody(Tencent(TencentCommands.FriendDelete, []) with { Platform = "slack" });
        Assert.NotNull(result);
        Assert.Equal((404, "application/problem+json"), (result.Answer.StatusCode, result.Answer.ContentType));
        Assert.Equal(result.Answer, result.EnqueueFailedAnswer);
        Assert.Equal(("slack", "rejected", "unknown platform"), (result.Outcome.Platform, result.Outcome.Outcome, result.Outcome.Reason));
        Assert.Equal("No callback platform 'slack': the routes are /api/callbacks/tencent and /api/callbacks/openim.", AnswerJson(result).GetProperty("detail").GetString());
        Assert.Equal("about:blank", AnswerJson(result).GetProperty("type").GetString());
    }

    [Fact]
    public void An_accepted_callback_reports_its_app_command_and_event_count()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete));
        Assert.Equal(new FunctionApp.Core.IngestOutcome("tencent", UnsignedApp, TencentCommands.FriendDelete, 1, "accepted", null), result.Outcome);

        var ignored = Ingestor().Ingest(OpenIm("callbackAfterCreateGroupCommand", Utf8("{}")));
        Assert.Equal(new FunctionApp.Core.IngestOutcome("openim", "openim", "callbackAfterCreateGroupCommand", 0, "ignored",
            "callbackAfterCreateGroupCommand is not a relationship callback this app handles."), ignored.Outcome);
        Assert.Equal(ignored.Answer, ignored.EnqueueFailedAnswer);
    }

    [Fact]
    public void A_callback_with_no_events_has_nothing_to_queue_so_its_enqueue_failure_answer_is_the_answer()
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, Utf8("{\"PairList\":[]}")));
        Assert.Empty(result.Batches);
        Assert.Equal(200, result.Answer.StatusCode);
        Assert.Equal(result.Answer, result.EnqueueFailedAnswer);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("//")]
    public void A_tencent_path_of_slashes_only_is_no_further_path(string restPath)
    {
        var result = Ingestor().Ingest(Tencent(TencentCommands.FriendDelete, FriendDelete) with { RestPath = restPath });
        Assert.Single(result.Batches);
    }

    [Fact]
    public void A_tencent_callback_without_contenttype_is_taken_as_json()
    {
        var callback = Tencent(TencentCommands.FriendDelete, FriendDelete);
        var result = Ingestor().Ingest(callback with { Query = callback.Query.Where(p => p.Key != "contenttype").ToDictionary(p => p.Key, p => p.Value) });
        Assert.Single(result.Batches);
    }

    [Fact]
    public void Signature_checks_tell_an_unrepresentable_request_time_from_one_far_from_now()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1669872112);
        var last = DateTimeOffset.MaxValue.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var past = (DateTimeOffset.MaxValue.ToUnixTimeSeconds() + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.Contains("from now", TencentSignature.Verify("t", TencentSignature.Compute("t", last), last, now, TimeSpan.FromSeconds(60)).Failure, StringComparison.Ordinal);
        Assert.Equal("RequestTime must be Unix seconds.", TencentSignature.Verify("t", TencentSignature.Compute("t", past), past, now, TimeSpan.FromSeconds(60)).Failure);
        Assert.Equal("RequestTime is -3600 s from now; at most 60 s is accepted.",
            TencentSignature.Verify("t", "x", "1669868512", now, TimeSpan.FromSeconds(60)).Failure);
        Assert.Equal(SignatureCheck.Valid, TencentSignature.Verify("t", TencentSignature.Compute("t", "1669872112"), "1669872112", now, TimeSpan.Zero));
    }

    [Fact]
    public void Every_problem_kind_has_its_own_status_and_openim_code()
    {
        var kinds = Enum.GetValues<CallbackProblemKind>();
        Assert.Equal(kinds.Length, kinds.Select(CallbackProblems.OpenImErrorCode).Distinct().Count());
        Assert.All(kinds, kind => Assert.InRange(CallbackProblems.OpenImErrorCode(kind), 20001, 20012));
        Assert.Equal(29999, CallbackProblems.OpenImErrorCode((CallbackProblemKind)99));
        Assert.Equal(400, CallbackProblems.HttpStatus((CallbackProblemKind)99));
        Assert.Equal([400, 400, 400, 400, 400, 413, 400, 400, 401, 403, 404, 503], kinds.Select(CallbackProblems.HttpStatus));
        Assert.Equal(OpenImCommands.BeforeAddBlack, OpenImCommands.All.Single(c => c == OpenImCommands.BeforeAddBlack));
    }
}
