using System.Net;
using System.Text.Json;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// The documented payload of every command of both platforms, posted to a running app's callback route and read back
/// through its query API once the queue between them has been drained, whichever queue and delivery that is.
/// </summary>
internal static class DocumentedCommands
{
    private static async Task TencentCommandAsync(HttpClient client, string tencentApp, string command)
    {
        var (status, body) = await PostTencentAsync(client, tencentApp, command, Fixture("tencent", command));
        Assert.Equal(HttpStatusCode.OK, status);
        using var answer = JsonDocument.Parse(body);
        Assert.Equal("OK", answer.RootElement.Text("ActionStatus"));
    }

    private static async Task OpenImCommandAsync(HttpClient client, string command)
    {
        var (status, body) = await PostOpenImAsync(client, command, Fixture("openim", command));
        Assert.Equal(HttpStatusCode.OK, status);
        using var answer = JsonDocument.Parse(body);
        Assert.Equal(0, answer.RootElement.GetProperty("errCode").GetInt32());
    }

    /// <summary>Every Tencent command in order, each read back before the next is sent.</summary>
    public static async Task TencentAsync(HttpClient client, string tencentApp)
    {
        await TencentCommandAsync(client, tencentApp, "Sns.CallbackFriendAdd");
        await ExpectUsersAsync(client, tencentApp, "id", "friends", "id1", "id2", "id3");
        await ExpectUsersAsync(client, tencentApp, "id2", "friend-of", "id");
        var edge = Assert.Single(await ItemsAsync(client, tencentApp, "id", "friends"), e => e.Text("userId") == "id1");
        Assert.Equal("Sns.CallbackFriendAdd", edge.Text("command"));
        Assert.Equal("id", edge.GetProperty("attributes").Text("initiator"));

        await TencentCommandAsync(client, tencentApp, "Sns.CallbackBlackListAdd");
        await ExpectUsersAsync(client, tencentApp, "id", "blocklist", "id1", "id2", "id3");
        await ExpectUsersAsync(client, tencentApp, "id3", "blocked-by", "id");

        await TencentCommandAsync(client, tencentApp, "Sns.CallbackFriendDelete");
        await ExpectUsersAsync(client, tencentApp, "id", "friends");
        await ExpectUsersAsync(client, tencentApp, "id1", "friend-of");

        await TencentCommandAsync(client, tencentApp, "Sns.CallbackBlackListDelete");
        await ExpectUsersAsync(client, tencentApp, "id", "blocklist");
        await ExpectUsersAsync(client, tencentApp, "id3", "blocked-by");

        await TencentCommandAsync(client, tencentApp, "Sns.CallbackPrevFriendAdd");
        await TencentCommandAsync(client, tencentApp, "Sns.CallbackPrevFriendResponse");
        await EventuallyAsync("four friend-request rows in the history of id", async () =>
            (await ItemsAsync(client, tencentApp, "id", "history", "&kind=friend-request")).Length == 4);
        var requests = await ItemsAsync(client, tencentApp, "id", "history", "&kind=friend-request");
        Assert.Equal(["requested:id1", "requested:id2"], Summaries(requests, "requested"));
        Assert.Equal(["responded:id1", "responded:id2"], Summaries(requests, "responded"));
        Assert.All(requests, r => Assert.Equal("tencent", r.Text("platform")));

        // History keeps every event: 3 pairs x (friend added, block added, friend removed, block removed) + 4 requests.
        Assert.Equal(16, (await ItemsAsync(client, tencentApp, "id", "history")).Length);
        var withId1 = await ItemsAsync(client, tencentApp, "id", "history", "&peer=id1&kind=friend");
        Assert.Equal(["removed", "added"], withId1.Select(h => h.Text("action")));
        Assert.Equal(["Sns.CallbackFriendDelete", "Sns.CallbackFriendAdd"], withId1.Select(h => h.Text("command")));
        Assert.All(withId1, h => Assert.Equal(("id", "id1", "friend"), (h.Text("owner"), h.Text("peer"), h.Text("kind"))));
    }

    /// <summary>Every OpenIM command in order, each read back before the next is sent; the app stores OpenIM under <paramref name="openImApp"/>.</summary>
    public static async Task OpenImAsync(HttpClient client, string openImApp)
    {
        await OpenImCommandAsync(client, "callbackAfterAddFriendCommand");
        await EventuallyAsync("the friend request in the history of user456", async () =>
            (await ItemsAsync(client, openImApp, "user456", "history", "&kind=friend-request")).Length == 1);
        var request = Assert.Single(await ItemsAsync(client, openImApp, "user123", "history"));
        Assert.Equal(("friend-request", "requested", "user123", "user456"), (request.Text("kind"), request.Text("action"), request.Text("owner"), request.Text("peer")));
        Assert.Empty(await UsersAsync(client, openImApp, "user123", "friends"));

        await OpenImCommandAsync(client, "callbackAfterAddFriendAgreeCommand");
        await ExpectUsersAsync(client, openImApp, "user123", "friends", "user456");
        await ExpectUsersAsync(client, openImApp, "user456", "friends", "user123");

        await OpenImCommandAsync(client, "callbackAfterImportFriendsCommand");
        await ExpectUsersAsync(client, openImApp, "user123", "friends", "user456", "user789");
        await ExpectUsersAsync(client, openImApp, "user123", "friend-of", "user456", "user789");

        await OpenImCommandAsync(client, "callbackAfterSetFriendRemarkCommand");
        await EventuallyAsync("the remark on user123's edge to user456", async () =>
            (await ItemsAsync(client, openImApp, "user123", "friends")).Any(e =>
                e.Text("userId") == "user456" && e.GetProperty("attributes").TryGetProperty("remark", out var remark) && remark.GetString() == "Old classmate"));

        await OpenImCommandAsync(client, "callbackAfterDeleteFriendCommand");
        await ExpectUsersAsync(client, openImApp, "user123", "friends", "user789");
        // One-sided: user456 still has user123.
        await ExpectUsersAsync(client, openImApp, "user456", "friends", "user123");

        await OpenImCommandAsync(client, "callbackBeforeAddBlackCommand");
        await ExpectUsersAsync(client, openImApp, "user123", "blocklist", "user456");
        await ExpectUsersAsync(client, openImApp, "user456", "blocked-by", "user123");

        await OpenImCommandAsync(client, "callbackAfterRemoveBlackCommand");
        await ExpectUsersAsync(client, openImApp, "user123", "blocklist");
        await ExpectUsersAsync(client, openImApp, "user456", "blocked-by");

        var withUser456 = await ItemsAsync(client, openImApp, "user123", "history", "&peer=user456");
        Assert.Equal(
            ["block:removed", "block:added", "friend:removed", "friend:updated", "friend:added", "friend:added", "friend:added", "friend:added", "friend-request:requested"],
            withUser456.Select(h => $"{h.Text("kind")}:{h.Text("action")}"));
    }

    private static string[] Summaries(IEnumerable<JsonElement> history, string action) =>
        [.. history.Where(h => h.Text("action") == action).Select(h => $"{action}:{h.Text("peer")}").Order(StringComparer.Ordinal)];
}
