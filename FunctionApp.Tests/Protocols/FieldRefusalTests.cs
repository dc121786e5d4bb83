using System.Text;
using static FunctionApp.Tests.Protocols.CallbackFactory;

namespace FunctionApp.Tests.Protocols;

/// <summary>Every field's refusal names that field by its path, as the sender wrote it; and the body rules read exactly.</summary>
public class FieldRefusalTests
{
    public static TheoryData<string, string, string, string> FieldRefusals() => new()
    {
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":5}", "PairList must be an array, not a JSON number." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":\"x\"}", "PairList must be an array, not a JSON string." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":null}", "PairList is missing." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[{\"To_Account\":\"b\"}]}", "PairList[0].From_Account is missing." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[{\"From_Account\":null,\"To_Account\":\"b\"}]}", "PairList[0].From_Account is missing." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[{\"From_Account\":\"a\"}]}", "PairList[0].To_Account is missing." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\"},null]}", "PairList[1] must be an object, not a JSON null." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\"},{\"From_Account\":\"a\",\"To_Account\":true}]}", "PairList[1].To_Account must be a string, not a JSON boolean." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\",\"Initiator_Account\":1}]}", "PairList[0].Initiator_Account must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\",\"Initiator_Account\":\" \"}]}", "PairList[0].Initiator_Account is empty." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[],\"ClientCmd\":1}", "ClientCmd must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[],\"Admin_Account\":false}", "Admin_Account must be a string, not a JSON boolean." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[],\"Admin_Account\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", "Admin_Account is 129 characters long; at most 128 are accepted." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[],\"ForceFlag\":[]}", "ForceFlag must be a number, not a JSON array." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[],\"ForceFlag\":\"1x\"}", "ForceFlag must be a whole number." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[],\"ForceFlag\":1.5}", "ForceFlag must be a whole number within 64 bits." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"PairList\":[{\"From_Account\":\"a\\udc00\",\"To_Account\":\"b\"}]}", "PairList[0].From_Account is not valid Unicode text." },
        { "tencent", "Sns.CallbackFriendAdd", "{\"CallbackCommand\":7,\"PairList\":[]}", "CallbackCommand must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackFriendDelete", "{\"PairList\":{}}", "PairList must be an array, not a JSON object." },
        { "tencent", "Sns.CallbackFriendDelete", "{\"PairList\":[{\"To_Account\":\"b\"}]}", "PairList[0].From_Account is missing." },
        { "tencent", "Sns.CallbackFriendDelete", "{\"PairList\":[{\"From_Account\":\"a\"}]}", "PairList[0].To_Account is missing." },
        { "tencent", "Sns.CallbackFriendDelete", "{\"PairList\":[[]]}", "PairList[0] must be an object, not a JSON array." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"FriendItem\":[]}", "From_Account is missing." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\"}", "FriendItem is missing." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\",\"FriendItem\":[{}]}", "FriendItem[0].To_Account is missing." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\",\"FriendItem\":[{\"To_Account\":\"b\",\"Remark\":1}]}", "FriendItem[0].Remark must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\",\"FriendItem\":[{\"To_Account\":\"b\",\"GroupName\":1}]}", "FriendItem[0].GroupName must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\",\"FriendItem\":[{\"To_Account\":\"b\",\"AddSource\":1}]}", "FriendItem[0].AddSource must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\",\"FriendItem\":[{\"To_Account\":\"b\",\"AddWording\":1}]}", "FriendItem[0].AddWording must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\",\"FriendItem\":[],\"Requester_Account\":1}", "Requester_Account must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\",\"FriendItem\":[],\"AddType\":1}", "AddType must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\",\"FriendItem\":[],\"ForceAddFlags\":\"x\"}", "ForceAddFlags must be a whole number." },
        { "tencent", "Sns.CallbackPrevFriendAdd", "{\"From_Account\":\"a\",\"FriendItem\":[],\"EventTime\":{}}", "EventTime must be a number, not a JSON object." },
        { "tencent", "Sns.CallbackPrevFriendResponse", "{\"ResponseFriendItem\":[]}", "From_Account is missing." },
        { "tencent", "Sns.CallbackPrevFriendResponse", "{\"From_Account\":\"a\"}", "ResponseFriendItem is missing." },
        { "tencent", "Sns.CallbackPrevFriendResponse", "{\"From_Account\":\"a\",\"ResponseFriendItem\":[{}]}", "ResponseFriendItem[0].To_Account is missing." },
        { "tencent", "Sns.CallbackPrevFriendResponse", "{\"From_Account\":\"a\",\"ResponseFriendItem\":[{\"To_Account\":\"b\",\"Remark\":1}]}", "ResponseFriendItem[0].Remark must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendResponse", "{\"From_Account\":\"a\",\"ResponseFriendItem\":[{\"To_Account\":\"b\",\"TagName\":1}]}", "ResponseFriendItem[0].TagName must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendResponse", "{\"From_Account\":\"a\",\"ResponseFriendItem\":[{\"To_Account\":\"b\",\"ResponseAction\":1}]}", "ResponseFriendItem[0].ResponseAction must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendResponse", "{\"From_Account\":\"a\",\"ResponseFriendItem\":[],\"Requester_Account\":1}", "Requester_Account must be a string, not a JSON number." },
        { "tencent", "Sns.CallbackPrevFriendResponse", "{\"From_Account\":\"a\",\"ResponseFriendItem\":[],\"EventTime\":true}", "EventTime must be a number, not a JSON boolean." },
        { "openim", "callbackAfterAddFriendCommand", "{\"toUserID\":\"b\"}", "fromUserID is missing." },
        { "openim", "callbackAfterAddFriendCommand", "{\"fromUserID\":\"a\"}", "toUserID is missing." },
        { "openim", "callbackAfterAddFriendCommand", "{\"fromUserID\":\"a\",\"toUserID\":\"b\",\"reqMsg\":1}", "reqMsg must be a string, not a JSON number." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"blackUserID\":\"b\"}", "fromUserID is missing." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\"}", "blackUserID (older servers: toUserID) is missing." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\",\"blackUserID\":1}", "blackUserID must be a string, not a JSON number." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\",\"toUserID\":1}", "toUserID must be a string, not a JSON number." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\",\"blackUserID\":\"b\",\"toUserID\":\"c\"}", "blackUserID and toUserID are both present and differ; send one of them." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\",\"blackUserID\":\"b\",\"HandleResult\":\"x\"}", "HandleResult must be a whole number." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\",\"blackUserID\":\"b\",\"handleResult\":\"x\"}", "handleResult must be a whole number." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\",\"blackUserID\":\"b\",\"HandleResult\":1,\"handleResult\":2}", "HandleResult and handleResult are both present and differ; send one of them." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\",\"blackUserID\":\"b\",\"HandleMsg\":1}", "HandleMsg must be a string, not a JSON number." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\",\"blackUserID\":\"b\",\"handleMsg\":1}", "handleMsg must be a string, not a JSON number." },
        { "openim", "callbackAfterAddFriendAgreeCommand", "{\"fromUserID\":\"a\",\"blackUserID\":\"b\",\"HandleMsg\":\"x\",\"handleMsg\":\"y\"}", "HandleMsg and handleMsg are both present and differ; send one of them." },
        { "openim", "callbackAfterImportFriendsCommand", "{\"friendUserIDs\":[]}", "ownerUserID is missing." },
        { "openim", "callbackAfterImportFriendsCommand", "{\"ownerUserID\":\"o\"}", "friendUserIDs is missing." },
        { "openim", "callbackAfterImportFriendsCommand", "{\"ownerUserID\":\"o\",\"friendUserIDs\":[\"a\",1]}", "friendUserIDs[1] must be a string, not a JSON number." },
        { "openim", "callbackAfterDeleteFriendCommand", "{\"friendUserID\":\"f\"}", "ownerUserID is missing." },
        { "openim", "callbackAfterDeleteFriendCommand", "{\"ownerUserID\":\"o\"}", "friendUserID is missing." },
        { "openim", "callbackAfterSetFriendRemarkCommand", "{\"friendUserID\":\"f\"}", "ownerUserID is missing." },
        { "openim", "callbackAfterSetFriendRemarkCommand", "{\"ownerUserID\":\"o\"}", "friendUserID is missing." },
        { "openim", "callbackAfterSetFriendRemarkCommand", "{\"ownerUserID\":\"o\",\"friendUserID\":\"f\",\"remark\":1}", "remark must be a string, not a JSON number." },
        { "openim", "callbackBeforeAddBlackCommand", "{\"blackUserID\":\"b\"}", "ownerUserID is missing." },
        { "openim", "callbackBeforeAddBlackCommand", "{\"ownerUserID\":\"o\"}", "blackUserID is missing." },
        { "openim", "callbackAfterRemoveBlackCommand", "{\"blackUserID\":\"b\"}", "ownerUserID is missing." },
        { "openim", "callbackAfterRemoveBlackCommand", "{\"ownerUserID\":\"o\"}", "blackUserID is missing." },
        { "openim", "callbackAfterRemoveBlackCommand", "{\"callbackCommand\":1,\"ownerUserID\":\"o\",\"blackUserID\":\"b\"}", "callbackCommand must be a string, not a JSON number." },
    };

    [Theory]
    [MemberData(nameof(FieldRefusals))]
    public void A_bad_field_is_refused_with_its_path(string platform, string command, string body, string reason)
    {
        var result = platform == "tencent"
            ? Ingestor().Ingest(Tencent(command, Utf8(body)))
            : Ingestor().Ingest(OpenIm(command, Utf8(body)));
        HostileBodyTests.AssertRefused(platform, result, 400);
        Assert.Equal(reason, result.Outcome.Reason);
    }

    private static readonly byte[] FriendDelete = Utf8("{\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\"}]}");

    private static string Refusal(byte[] body) =>
        Ingestor().Ingest(Tencent(FunctionApp.Protocols.Tencent.TencentCommands.FriendDelete, body)).Outcome.Reason!;

    [Fact]
    public void A_body_starting_with_a_byte_order_mark_is_read()
    {
        var result = Ingestor().Ingest(Tencent(FunctionApp.Protocols.Tencent.TencentCommands.FriendDelete, [0xEF, 0xBB, 0xBF, .. FriendDelete]));
        Assert.Single(Assert.Single(result.Batches).Events);
    }

    [Fact]
    public void Broken_bodies_are_refused_with_what_is_wrong()
    {
        Assert.Equal("The body is empty; a JSON object was expected.", Refusal(Utf8(" \r\n\t")));
        Assert.Equal("The body is empty; a JSON object was expected.", Refusal([0xEF, 0xBB, 0xBF]));
        Assert.Equal("The body is not valid UTF-8.", Refusal([(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}']));
        Assert.StartsWith("The body is not well-formed JSON: ", Refusal(Utf8("{\"PairList\":[],\"PairList\":[]}")), StringComparison.Ordinal);
        Assert.StartsWith("The body is not well-formed JSON: ", Refusal(Utf8("{\"PairList\":[],}")), StringComparison.Ordinal);
        Assert.StartsWith("The body is not well-formed JSON: ", Refusal(Utf8("{\"PairList\":[] /* c */}")), StringComparison.Ordinal);
        Assert.Equal("The body is a JSON array; a JSON object was expected.", Refusal(Utf8("[]")));
        Assert.Equal("The body is a JSON string; a JSON object was expected.", Refusal(Utf8("\"x\"")));
        Assert.Equal("The body is a JSON null; a JSON object was expected.", Refusal(Utf8("null")));
        Assert.Equal("The body is a JSON boolean; a JSON object was expected.", Refusal(Utf8("true")));
        Assert.Equal("The body is a JSON number; a JSON object was expected.", Refusal(Utf8("1")));
    }

    private static IReadOnlyDictionary<string, string> PrevFriendAddAttributes(string item, Action<FunctionApp.Protocols.CallbackLimits>? limits = null, string extra = "")
    {
        var body = Utf8($"{{\"From_Account\":\"a\",\"FriendItem\":[{{\"To_Account\":\"b\",{item}}}]{extra}}}");
        return Assert.Single(AllEvents(Ingestor(limits: limits).Ingest(Tencent(FunctionApp.Protocols.Tencent.TencentCommands.PrevFriendAdd, body)))).Attributes;
    }

    [Fact]
    public void Free_text_over_the_limit_is_cut_at_exactly_the_limit()
    {
        Assert.Equal(new string('w', 4096), PrevFriendAddAttributes($"\"AddWording\":\"{new string('w', 5000)}\"")["addWording"]);
        Assert.Equal(new string('w', 4096), PrevFriendAddAttributes($"\"AddWording\":\"{new string('w', 4096)}\"")["addWording"]);
        Assert.Equal("", PrevFriendAddAttributes("\"AddWording\":\"words\"", l => l.MaxAttributeLength = 0)["addWording"]);
    }

    [Fact]
    public void Whole_numbers_may_come_as_numeric_strings()
    {
        Assert.Equal("-3", PrevFriendAddAttributes("\"Remark\":\"r\"", extra: ",\"ForceAddFlags\":\"-3\"")["forceAddFlags"]);
        Assert.Equal("7", PrevFriendAddAttributes("\"Remark\":\"r\"", extra: ",\"ForceAddFlags\":7")["forceAddFlags"]);
        Assert.False(PrevFriendAddAttributes("\"Remark\":\"r\"", extra: ",\"ForceAddFlags\":null").ContainsKey("forceAddFlags"));
    }

    [Fact]
    public void An_empty_initiator_or_admin_means_none()
    {
        var body = Utf8("{\"PairList\":[{\"From_Account\":\"a\",\"To_Account\":\"b\",\"Initiator_Account\":\"\"}],\"Admin_Account\":\"\"}");
        var attributes = Assert.Single(AllEvents(Ingestor().Ingest(Tencent(FunctionApp.Protocols.Tencent.TencentCommands.FriendAdd, body)))).Attributes;
        Assert.Equal("", attributes["initiator"]);
        Assert.Equal("", attributes["adminAccount"]);
    }

    [Fact]
    public void A_delete_friend_callback_ignores_a_remark_whatever_its_type()
    {
        var body = Utf8("{\"ownerUserID\":\"o\",\"friendUserID\":\"f\",\"remark\":5}");
        var result = Ingestor().Ingest(OpenIm(FunctionApp.Protocols.OpenIm.OpenImCommands.AfterDeleteFriend, body));
        Assert.Empty(Assert.Single(AllEvents(result)).Attributes);
    }

    [Fact]
    public void The_body_is_read_as_utf8()
    {
        var body = Encoding.UTF8.GetBytes("{\"PairList\":[{\"From_Account\":\"ü\",\"To_Account\":\"漢\"}]}");
        var relationshipEvent = Assert.Single(AllEvents(Ingestor().Ingest(Tencent(FunctionApp.Protocols.Tencent.TencentCommands.FriendDelete, body))));
        Assert.Equal(("ü", "漢"), (relationshipEvent.Owner, relationshipEvent.Peer));
    }
}
