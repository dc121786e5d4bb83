using System.Net;
using System.Text.Json;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// The standalone app on a real Azurite: the documented payload of every command of both platforms is posted to
/// the callback route, goes through the Storage queue and the drain into the tables, and is read back through the
/// query API.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class StandaloneEndToEndTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _tencentApp = NewTencentAppId();
    private readonly string _openImApp = NewName("openim");
    private TestApp _app = null!;

    private HttpClient Client => _app.Client;

    public async Task InitializeAsync() => _app = await TestApp.StartStandaloneAsync(null,
        "--RelationshipStorage=" + azurite.ConnectionString,
        "--RelationshipEventsQueue=" + NewName("e2e"),
        $"--Tencent:Apps:{_tencentApp}:CallbackToken=",
        "--OpenIm:AppId=" + _openImApp);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task TencentAsync(string command)
    {
        var (status, body) = await PostTencentAsync(Client, _tencentApp, command, Fixture("tencent", command));
        Assert.Equal(HttpStatusCode.OK, status);
        using var answer = JsonDocument.Parse(body);
        Assert.Equal("OK", answer.RootElement.Text("ActionStatus"));
    }

    private async Task OpenImAsync(string command)
    {
        var (status, body) = await PostOpenImAsync(Client, command, Fixture("openim", command));
        Assert.Equal(HttpStatusCode.OK, status);
        using var answer = JsonDocument.Parse(body);
        Assert.Equal(0, answer.RootElement.GetProperty("errCode").GetInt32());
    }

    [Fact]
    public async Task Every_tencent_command_reaches_the_tables_and_reads_back()
    {
        await TencentAsync("Sns.CallbackFriendAdd");
        await ExpectUsersAsync(Client, _tencentApp, "id", "friends", "id1", "id2", "id3");
        await ExpectUsersAsync(Client, _tencentApp, "id2", "friend-of", "id");
        var edge = Assert.Single(await ItemsAsync(Client, _tencentApp, "id", "friends"), e => e.Text("userId") == "id1");
        Assert.Equal("Sns.CallbackFriendAdd", edge.Text("command"));
        Assert.Equal("id", edge.GetProperty("attributes").Text("initiator"));

        await TencentAsync("Sns.CallbackBlackListAdd");
        await ExpectUsersAsync(Client, _tencentApp, "id", "blocklist", "id1", "id2", "id3");
        await ExpectUsersAsync(Client, _tencentApp, "id3", "blocked-by", "id");

        await TencentAsync("Sns.CallbackFriendDelete");
        await ExpectUsersAsync(Client, _tencentApp, "id", "friends");
        await ExpectUsersAsync(Client, _tencentApp, "id1", "friend-of");

        await TencentAsync("Sns.CallbackBlackListDelete");
        await ExpectUsersAsync(Client, _tencentApp, "id", "blocklist");
        await ExpectUsersAsync(Client, _tencentApp, "id3", "blocked-by");

        await TencentAsync("Sns.CallbackPrevFriendAdd");
        await TencentAsync("Sns.CallbackPrevFriendResponse");
        await EventuallyAsync("four friend-request rows in the history of id", async () =>
            (await ItemsAsync(Client, _tencentApp, "id", "history", "&kind=friend-request")).Length == 4);
        var requests = await ItemsAsync(Client, _tencentApp, "id", "history", "&kind=friend-request");
        Assert.Equal(["requested:id1", "requested:id2"], Summaries(requests, "requested"));
        Assert.Equal(["responded:id1", "responded:id2"], Summaries(requests, "responded"));
        Assert.All(requests, r => Assert.Equal("tencent", r.Text("platform")));

        // History keeps every event: 3 pairs x (friend added, block added, friend removed, block removed) + 4 requests.
        Assert.Equal(16, (await ItemsAsync(Client, _tencentApp, "id", "history")).Length);
        var withId1 = await ItemsAsync(Client, _tencentApp, "id", "history", "&peer=id1&kind=friend");
        Assert.Equal(["removed", "added"], withId1.Select(h => h.Text("action")));
        Assert.Equal(["Sns.CallbackFriendDelete", "Sns.CallbackFriendAdd"], withId1.Select(h => h.Text("command")));
        Assert.All(withId1, h => Assert.Equal(("id", "id1", "friend"), (h.Text("owner"), h.Text("peer"), h.Text("kind"))));
    }

    [Fact]
    public async Task Every_openim_command_reaches_the_tables_and_reads_back()
    {
        await OpenImAsync("callbackAfterAddFriendCommand");
        await EventuallyAsync("the friend request in the history of user456", async () =>
            (await ItemsAsync(Client, _openImApp, "user456", "history", "&kind=friend-request")).Length == 1);
        var request = Assert.Single(await ItemsAsync(Client, _openImApp, "user123", "history"));
        Assert.Equal(("friend-request", "requested", "user123", "user456"), (request.Text("kind"), request.Text("action"), request.Text("owner"), request.Text("peer")));
        Assert.Empty(await UsersAsync(Client, _openImApp, "user123", "friends"));

        await OpenImAsync("callbackAfterAddFriendAgreeCommand");
        await ExpectUsersAsync(Client, _openImApp, "user123", "friends", "user456");
        await ExpectUsersAsync(Client, _openImApp, "user456", "friends", "user123");

        await OpenImAsync("callbackAfterImportFriendsCommand");
        await ExpectUsersAsync(Client, _openImApp, "user123", "friends", "user456", "user789");
        await ExpectUsersAsync(Client, _openImApp, "user123", "friend-of", "user456", "user789");

        await OpenImAsync("callbackAfterSetFriendRemarkCommand");
        await EventuallyAsync("the remark on user123's edge to user456", async () =>
            (await ItemsAsync(Client, _openImApp, "user123", "friends")).Any(e =>
                e.Text("userId") == "user456" && e.GetProperty("attributes").TryGetProperty("remark", out var remark) && remark.GetString() == "Old classmate"));

        await OpenImAsync("callbackAfterDeleteFriendCommand");
        await ExpectUsersAsync(Client, _openImApp, "user123", "friends", "user789");
        // One-sided: user456 still has user123.
        await ExpectUsersAsync(Client, _openImApp, "user456", "friends", "user123");

        await OpenImAsync("callbackBeforeAddBlackCommand");
        await ExpectUsersAsync(Client, _openImApp, "user123", "blocklist", "user456");
        await ExpectUsersAsync(Client, _openImApp, "user456", "blocked-by", "user123");

        await OpenImAsync("callbackAfterRemoveBlackCommand");
        await ExpectUsersAsync(Client, _openImApp, "user123", "blocklist");
        await ExpectUsersAsync(Client, _openImApp, "user456", "blocked-by");

        var withUser456 = await ItemsAsync(Client, _openImApp, "user123", "history", "&peer=user456");
        Assert.Equal(
            ["block:removed", "block:added", "friend:removed", "friend:updated", "friend:added", "friend:added", "friend:added", "friend:added", "friend-request:requested"],
            withUser456.Select(h => $"{h.Text("kind")}:{h.Text("action")}"));
    }

    [Fact]
    public async Task Health_reports_the_tables_and_the_queue()
    {
        using var response = await Client.GetAsync(new Uri("api/health", UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", body.RootElement.GetProperty("checks").Text("tables"));
        Assert.Equal("ok", body.RootElement.GetProperty("checks").Text("queue"));
    }

    private static string[] Summaries(IEnumerable<JsonElement> history, string action) =>
        [.. history.Where(h => h.Text("action") == action).Select(h => $"{action}:{h.Text("peer")}").Order(StringComparer.Ordinal)];
}
