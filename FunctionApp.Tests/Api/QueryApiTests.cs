using System.Net;
using System.Text.Json;
using FunctionApp.Api;
using FunctionApp.Core;
using FunctionApp.Hosting;
using FunctionApp.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Api;

/// <summary>The query API on a standalone app with no keys configured (loopback callers only, as these tests are).</summary>
public sealed class QueryApiTests : IAsyncLifetime
{
    private readonly ScriptedRelationshipQueries _queries = new();
    private TestApp _app = null!;

    public async Task InitializeAsync() =>
        _app = await TestApp.StartStandaloneAsync(services => services.AddSingleton<IRelationshipQueries>(_queries));

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static readonly DateTimeOffset Since = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);

    private async Task<(HttpStatusCode Status, string? ContentType, JsonElement Body)> GetAsync(string pathAndQuery, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(pathAndQuery, UriKind.Relative));
        if (apiKey is not null)
        {
            request.Headers.Add("x-api-key", apiKey);
        }

        using var response = await _app.Client.SendAsync(request);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, document.RootElement.Clone());
    }

    [Fact]
    public async Task Friends_answers_items_and_continuation_in_the_documented_shape()
    {
        _queries.Edges = new Page<EdgeView>(
            [new EdgeView("id1", Since, Since.AddMinutes(1), "tencent", "Sns.CallbackFriendAdd", new Dictionary<string, string> { ["initiator"] = "id" })],
            "next-page");

        var (status, contentType, body) = await GetAsync("api/v1/apps/1400000001/users/id/friends");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json", contentType);
        Assert.Equal("next-page", body.GetProperty("continuation").GetString());
        var item = Assert.Single(body.GetProperty("items").EnumerateArray());
        Assert.Equal("id1", item.GetProperty("userId").GetString());
        Assert.Equal(Since, item.GetProperty("since").GetDateTimeOffset());
        Assert.Equal(Since.AddMinutes(1), item.GetProperty("lastChangedAt").GetDateTimeOffset());
        Assert.Equal("tencent", item.GetProperty("platform").GetString());
        Assert.Equal("Sns.CallbackFriendAdd", item.GetProperty("command").GetString());
        Assert.Equal("id", item.GetProperty("attributes").GetProperty("initiator").GetString());
        Assert.Equal(new QueryCall("1400000001", "id", EdgeListKind.Friends, null, 100, null), Assert.Single(_queries.Calls));
    }

    [Theory]
    [InlineData("friends", EdgeListKind.Friends)]
    [InlineData("blocklist", EdgeListKind.Blocklist)]
    [InlineData("friend-of", EdgeListKind.FriendOf)]
    [InlineData("blocked-by", EdgeListKind.BlockedBy)]
    public async Task Each_edge_list_route_reads_its_list(string route, EdgeListKind list)
    {
        var (status, _, body) = await GetAsync($"api/v1/apps/openim/users/u1/{route}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("continuation").ValueKind);
        Assert.Empty(body.GetProperty("items").EnumerateArray());
        Assert.Equal(list, Assert.Single(_queries.Calls).List);
    }

    [Fact]
    public async Task History_answers_events_with_kind_and_action_words_and_passes_filters()
    {
        _queries.History = new Page<HistoryEntry>(
            [new HistoryEntry("e-9", RelationshipKind.FriendRequest, RelationshipAction.Requested, "u1", "u2", Since, Since.AddSeconds(1),
                "openim", "callbackAfterAddFriendCommand", null, null, "op-1", new Dictionary<string, string> { ["reqMsg"] = "hi" }),
             new HistoryEntry("e-8", RelationshipKind.Block, RelationshipAction.Removed, "u1", "u2", Since, Since,
                "tencent", "Sns.CallbackBlackListDelete", "203.0.113.7", "iOS", null, new Dictionary<string, string>())],
            null);

        var (status, _, body) = await GetAsync("api/v1/apps/openim/users/u1/history?peer=u%202&kind=friend-request&top=2&continuation=c%2B1");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(new QueryCall("openim", "u1", null, new HistoryFilter("u 2", RelationshipKind.FriendRequest), 2, "c+1"), Assert.Single(_queries.Calls));
        var items = body.GetProperty("items");
        Assert.Equal(2, items.GetArrayLength());
        var first = items[0];
        Assert.Equal("e-9", first.GetProperty("eventId").GetString());
        Assert.Equal("friend-request", first.GetProperty("kind").GetString());
        Assert.Equal("requested", first.GetProperty("action").GetString());
        Assert.Equal("u1", first.GetProperty("owner").GetString());
        Assert.Equal("u2", first.GetProperty("peer").GetString());
        Assert.Equal(Since, first.GetProperty("occurredAt").GetDateTimeOffset());
        Assert.Equal(Since.AddSeconds(1), first.GetProperty("receivedAt").GetDateTimeOffset());
        Assert.Equal("openim", first.GetProperty("platform").GetString());
        Assert.Equal("callbackAfterAddFriendCommand", first.GetProperty("command").GetString());
        Assert.Equal("op-1", first.GetProperty("operationId").GetString());
        Assert.Equal("block", items[1].GetProperty("kind").GetString());
        Assert.Equal("removed", items[1].GetProperty("action").GetString());
        Assert.Equal("203.0.113.7", items[1].GetProperty("clientIp").GetString());
    }

    [Theory]
    [InlineData("friend", RelationshipKind.Friend)]
    [InlineData("block", RelationshipKind.Block)]
    [InlineData("friend-request", RelationshipKind.FriendRequest)]
    public async Task History_kind_filter_takes_the_documented_words(string kind, RelationshipKind expected)
    {
        var (status, _, _) = await GetAsync($"api/v1/apps/a/users/u/history?kind={kind}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(new HistoryFilter(null, expected), Assert.Single(_queries.Calls).Filter);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("100%")]
    [InlineData("%2F")]
    [InlineData("a#b")]
    [InlineData("a?b=c&d")]
    [InlineData("with space")]
    [InlineData("plus+sign")]
    [InlineData("quote\"and'")]
    [InlineData("用户/ünïcode")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("back\\slash")]
    public async Task User_and_app_ids_are_percent_decoded_exactly_once(string id)
    {
        var encoded = Uri.EscapeDataString(id).Replace(".", "%2E", StringComparison.Ordinal);

        var (status, _) = await _app.RawGetAsync($"/api/v1/apps/{encoded}/users/{encoded}/blocked-by");

        Assert.Equal(HttpStatusCode.OK, status);
        var call = Assert.Single(_queries.Calls);
        Assert.Equal(id, call.AppId);
        Assert.Equal(id, call.UserId);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("1000", 1000)]
    [InlineData("", 100)]
    public async Task Top_accepts_1_to_1000_and_defaults_to_100(string top, int expected)
    {
        var (status, _, _) = await GetAsync($"api/v1/apps/a/users/u/friends?top={top}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(expected, Assert.Single(_queries.Calls).Top);
    }

    [Theory]
    [InlineData("friends?top=0", "'top'")]
    [InlineData("friends?top=1001", "'top'")]
    [InlineData("friends?top=-5", "'top'")]
    [InlineData("friends?top=ten", "'top'")]
    [InlineData("friends?top=1.5", "'top'")]
    [InlineData("friends?top=1&top=2", "more than once")]
    [InlineData("history?kind=enemy", "'kind'")]
    [InlineData("history?peer=a&peer=b", "more than once")]
    public async Task Bad_parameters_get_a_400_problem_naming_the_parameter(string routeAndQuery, string detail)
    {
        var (status, contentType, body) = await GetAsync($"api/v1/apps/a/users/u/{routeAndQuery}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        Assert.EndsWith("invalid-parameter", body.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("title").GetString()));
        Assert.Contains(detail, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(_queries.Calls);
    }

    [Theory]
    [InlineData("/api/v1/apps/a/users/%ZZ/friends")]
    [InlineData("/api/v1/apps/a/users/%FF%FE/friends")]
    [InlineData("/api/v1/apps/a/users/abc%2/friends")]
    [InlineData("/api/v1/apps/%2/users/u/friends")]
    public async Task Ids_that_are_not_valid_percent_encoded_utf8_get_400(string target)
    {
        var (status, body) = await _app.RawGetAsync(target);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("percent-encoded", body, StringComparison.Ordinal);
        Assert.Empty(_queries.Calls);
    }

    [Theory]
    [InlineData("api/v1/apps/a/users/u/enemies")]
    [InlineData("api/v1/apps/a/users/u")]
    [InlineData("api/v1/apps/a/users/u/friends/extra")]
    [InlineData("api/v2/apps/a/users/u/friends")]
    [InlineData("nothing-here")]
    public async Task Unknown_routes_get_a_404_problem(string path)
    {
        var (status, contentType, body) = await GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.Equal(404, body.GetProperty("status").GetInt32());
        Assert.Empty(_queries.Calls);
    }

    [Fact]
    public async Task An_empty_user_id_gets_400()
    {
        var (status, _, body) = await GetAsync("api/v1/apps/a/users//friends");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("userId path segment is empty", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(_queries.Calls);
    }

    [Fact]
    public async Task Continuation_is_passed_through_unchanged_and_a_malformed_one_gets_400()
    {
        _queries.FailWith = new ArgumentException("Malformed continuation token.", "continuation");

        var (status, contentType, body) = await GetAsync("api/v1/apps/a/users/u/friends?continuation=eyJwayI6IngifQ%3D%3D");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.EndsWith("invalid-continuation", body.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal("eyJwayI6IngifQ==", Assert.Single(_queries.Calls).Continuation);
    }

    [Fact]
    public async Task A_store_failure_gets_a_503_problem_not_a_500()
    {
        _queries.FailWith = new IOException("connection refused");

        var (status, contentType, body) = await GetAsync("api/v1/apps/a/users/u/history");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.EndsWith("store-unavailable", body.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("connection refused", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(_app.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Message.Contains("connection refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Other_methods_on_query_routes_get_a_problem_answer()
    {
        using var response = await _app.Client.DeleteAsync(new Uri("api/v1/apps/a/users/u/friends", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_queries.Calls);
    }
}

/// <summary>Who may call the query API.</summary>
public sealed class QueryApiAccessTests
{
    [Fact]
    public async Task With_keys_configured_a_key_is_required_and_checked()
    {
        var queries = new ScriptedRelationshipQueries();
        await using var app = await TestApp.StartStandaloneAsync(s => s.AddSingleton<IRelationshipQueries>(queries), "--QueryApi:Keys=first-key-0123456789, second-key-0123456789");
        const string Path = "api/v1/apps/a/users/u/friends";

        using var missing = await app.Client.GetAsync(new Uri(Path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(missing.Headers.WwwAuthenticate);

        foreach (var (key, expected) in new[] { ("wrong", HttpStatusCode.Forbidden), ("first-key-0123456789", HttpStatusCode.OK), ("second-key-0123456789", HttpStatusCode.OK), ("FIRST-KEY-0123456789", HttpStatusCode.Forbidden) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Path, UriKind.Relative));
            request.Headers.Add("x-api-key", key);
            using var response = await app.Client.SendAsync(request);
            Assert.Equal(expected, response.StatusCode);
        }

        Assert.Equal(2, queries.Calls.Count);
        Assert.DoesNotContain(app.Logs.Messages, m => m.Contains("first-key-0123456789", StringComparison.Ordinal) || m.Contains("loopback", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_keys_the_app_warns_at_startup_that_only_loopback_callers_are_answered()
    {
        await using var app = await TestApp.StartStandaloneAsync();

        Assert.Contains(app.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning
            && e.Message.Contains("loopback callers only", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("127.0.0.1", QueryApiAccessDecision.Allowed)]
    [InlineData("127.0.0.2", QueryApiAccessDecision.Allowed)]
    [InlineData("::1", QueryApiAccessDecision.Allowed)]
    [InlineData("::ffff:127.0.0.1", QueryApiAccessDecision.Allowed)]
    [InlineData("10.0.0.4", QueryApiAccessDecision.NotLoopback)]
    [InlineData("::ffff:203.0.113.7", QueryApiAccessDecision.NotLoopback)]
    [InlineData("2001:db8::1", QueryApiAccessDecision.NotLoopback)]
    public void Without_keys_standalone_answers_loopback_callers_only(string caller, QueryApiAccessDecision expected)
    {
        Assert.Equal(expected, QueryApiAccess.Decide(HostingMode.Standalone, QueryApiKeys.Parse(null), IPAddress.Parse(caller), null));
    }

    [Fact]
    public void Decisions_follow_mode_keys_and_caller()
    {
        var keys = QueryApiKeys.Parse("key-one-0123456789,key-two-0123456789");
        var remote = IPAddress.Parse("203.0.113.7");

        Assert.Equal(QueryApiAccessDecision.NotLoopback, QueryApiAccess.Decide(HostingMode.Standalone, QueryApiKeys.Parse(" , "), null, null));
        Assert.Equal(QueryApiAccessDecision.KeyMissing, QueryApiAccess.Decide(HostingMode.Standalone, keys, IPAddress.Loopback, null));
        Assert.Equal(QueryApiAccessDecision.KeyRejected, QueryApiAccess.Decide(HostingMode.Standalone, keys, IPAddress.Loopback, "key-three-0123456789"));
        Assert.Equal(QueryApiAccessDecision.Allowed, QueryApiAccess.Decide(HostingMode.Standalone, keys, remote, "key-two-0123456789"));
        // Functions mode: the host has checked the function key before forwarding.
        Assert.Equal(QueryApiAccessDecision.Allowed, QueryApiAccess.Decide(HostingMode.Functions, keys, IPAddress.Loopback, null));
    }
}

public sealed class HealthTests
{
    [Theory]
    [InlineData(true, true, HttpStatusCode.OK, "healthy")]
    [InlineData(true, false, HttpStatusCode.ServiceUnavailable, "unhealthy")]
    [InlineData(false, true, HttpStatusCode.ServiceUnavailable, "unhealthy")]
    public async Task Health_is_200_only_when_tables_and_queue_answer(bool tables, bool queue, HttpStatusCode expected, string status)
    {
        await using var app = await TestApp.StartStandaloneAsync(s =>
        {
            s.AddSingleton<IHealthProbe>(new ScriptedHealthProbe("tables", tables));
            s.AddSingleton<IHealthProbe>(new ScriptedHealthProbe("queue", queue));
        });

        using var response = await app.Client.GetAsync(new Uri("api/health", UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(status, body.RootElement.GetProperty("status").GetString());
        Assert.Equal("standalone", body.RootElement.GetProperty("mode").GetString());
        Assert.Equal(tables ? "ok" : "unavailable", body.RootElement.GetProperty("checks").GetProperty("tables").GetString());
        Assert.Equal(queue ? "ok" : "unavailable", body.RootElement.GetProperty("checks").GetProperty("queue").GetString());
    }

    [Fact]
    public async Task Anonymous_health_calls_share_one_storage_check_for_a_few_seconds()
    {
        var tables = new ScriptedHealthProbe("tables", true);
        await using var app = await TestApp.StartStandaloneAsync(s => s.AddSingleton<IHealthProbe>(tables));

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await app.Client.GetAsync(new Uri("api/health", UriKind.Relative));
            return response.StatusCode;
        }));

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(1, tables.Checks);
    }
}
