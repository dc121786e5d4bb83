using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FunctionApp.Core;
using FunctionApp.Tests.Hosting;
using FunctionApp.Tests.Infrastructure;
using static FunctionApp.Tests.EndToEnd.EndToEnd;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// Functions mode against a real Azurite, driven as the Functions host drives it: a <c>ReceiveCallback</c> invocation,
/// each of its <c>Outputs.batches</c> delivered as an <c>ApplyRelationshipEvents</c> invocation the way the Service
/// Bus trigger hands a message over, then the query routes the host forwards raw.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class FunctionsModeEndToEndTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _appId = NewTencentAppId();
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartFunctionsAsync(null,
        "--RelationshipStorage=" + azurite.ConnectionString,
        $"--Tencent:Apps:{_appId}:CallbackToken=",
        "--Callbacks:MaxPairs=1000");

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private string ReceivePayload(string command, string body)
    {
        var query = new JsonObject
        {
            ["SdkAppid"] = _appId,
            ["CallbackCommand"] = command,
            ["contenttype"] = "json",
            ["ClientIP"] = "203.0.113.7",
            ["OptPlatform"] = "Android",
        };
        var url = $"https://relcb.azurewebsites.net/api/callbacks/tencent?SdkAppid={_appId}&CallbackCommand={command}&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android";
        return new JsonObject
        {
            ["Data"] = new JsonObject
            {
                ["req"] = new JsonObject
                {
                    ["Url"] = url,
                    ["Method"] = "POST",
                    ["Query"] = query,
                    ["Headers"] = new JsonObject { ["Content-Type"] = new JsonArray("application/json"), ["User-Agent"] = new JsonArray("Tencent-IM") },
                    ["Params"] = new JsonObject { ["platform"] = "tencent" },
                    ["Identities"] = new JsonArray(),
                    ["Body"] = body,
                },
            },
            ["Metadata"] = new JsonObject { ["platform"] = "tencent", ["sys"] = new JsonObject { ["MethodName"] = "ReceiveCallback" } },
        }.ToJsonString();
    }

    /// <summary>The trigger value as the host passes a string message body: the text JSON-encoded once more.</summary>
    private static string ApplyPayload(string messageText, int deliveryCount) => new JsonObject
    {
        ["Data"] = new JsonObject { ["message"] = JsonSerializer.Serialize(messageText) },
        ["Metadata"] = new JsonObject
        {
            ["MessageId"] = Guid.NewGuid().ToString("N"),
            ["DeliveryCount"] = deliveryCount,
            ["ContentType"] = "application/json",
            ["sys"] = new JsonObject { ["MethodName"] = "ApplyRelationshipEvents" },
        },
    }.ToJsonString();

    private async Task<(HttpStatusCode Status, JsonElement Body)> InvokeAsync(string function, string payload)
    {
        using var content = new StringContent(payload, Encoding.UTF8, "application/json");
        using var response = await _app.Client.PostAsync(new Uri(function, UriKind.Relative), content);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }

    [Fact]
    public async Task A_received_callback_applied_message_by_message_reads_back_through_the_query_routes()
    {
        await EventuallyAsync("health 200", async () =>
        {
            using var health = await _app.Client.GetAsync(new Uri("api/health", UriKind.Relative));
            return health.StatusCode == HttpStatusCode.OK;
        });

        // 1,000 pairs with long ids: more than one Service Bus message.
        var peers = Enumerable.Range(0, 1000).Select(i => $"peer-{i:D3}-" + new string('p', 116)).ToArray();
        var (status, receive) = await InvokeAsync("ReceiveCallback", ReceivePayload("Sns.CallbackFriendAdd", TencentFriendAdd("owner", peers)));

        Assert.Equal(HttpStatusCode.OK, status);
        var res = receive.GetProperty("Outputs").GetProperty("res");
        Assert.True(res.GetProperty("statusCode").GetInt32() == 200, res.Text("body"));
        Assert.Contains("\"ActionStatus\":\"OK\"", res.Text("body"), StringComparison.Ordinal);
        var messages = receive.GetProperty("Outputs").GetProperty("batches").EnumerateArray().Select(m => m.GetRawText()).ToList();
        Assert.True(messages.Count > 1, $"{messages.Count} message(s)");

        foreach (var message in messages)
        {
            var (applyStatus, apply) = await InvokeAsync("ApplyRelationshipEvents", ApplyPayload(message, 1));
            Assert.Equal(HttpStatusCode.OK, applyStatus);
            Assert.Contains(apply.GetProperty("Logs").EnumerateArray(), log => log.GetString()!.Contains("applied", StringComparison.Ordinal));
        }

        // A redelivery of the first message changes nothing.
        Assert.Equal(HttpStatusCode.OK, (await InvokeAsync("ApplyRelationshipEvents", ApplyPayload(messages[0], 2))).Status);

        Assert.Equal(peers.Order(StringComparer.Ordinal), await UsersAsync(_app.Client, _appId, "owner", "friends"));
        Assert.Equal(["owner"], await UsersAsync(_app.Client, _appId, peers[42], "friend-of"));
        Assert.Equal(peers.Length, (await ItemsAsync(_app.Client, _appId, "owner", "history")).Length);
        var entry = Assert.Single(await ItemsAsync(_app.Client, _appId, peers[7], "history"));
        Assert.Equal(("friend", "added", "owner", "Android"), (entry.Text("kind"), entry.Text("action"), entry.Text("owner"), entry.Text("optPlatform")));
    }

    [Fact]
    public async Task An_apply_the_store_cannot_perform_answers_non_2xx_so_service_bus_redelivers_and_dead_letters()
    {
        var tooLong = new string('u', 600);
        var batch = new RelationshipBatch(RelationshipBatch.CurrentSchemaVersion, "b-unstorable", 1, 1,
            new CallbackSource("tencent", _appId, "Sns.CallbackFriendAdd", null, null, null, DateTimeOffset.UtcNow, null),
            [new RelationshipEvent("e-unstorable", RelationshipKind.Friend, RelationshipAction.Added, tooLong, "peer", DateTimeOffset.UtcNow, new Dictionary<string, string>())]);

        var (status, body) = await InvokeAsync("ApplyRelationshipEvents", ApplyPayload(Encoding.UTF8.GetString(RelationshipBatchJson.Serialize(batch)), 1));

        Assert.False((int)status is >= 200 and < 300, $"answered {(int)status}");
        Assert.Contains(body.GetProperty("Logs").EnumerateArray(), log => log.GetString()!.Contains("b-unstorable part 1/1 was not applied", StringComparison.Ordinal));
        Assert.Empty(await UsersAsync(_app.Client, _appId, "peer", "friend-of"));
    }
}
