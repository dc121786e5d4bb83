using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>What the end-to-end tests share: isolated names, callbacks as the platforms post them, and query reads.</summary>
internal static class EndToEnd
{
    public static string FixturesRoot => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    /// <summary>A fresh Tencent SdkAppid, so a test's rows never meet another test's in the shared tables.</summary>
    public static string NewTencentAppId() =>
        "19" + Random.Shared.NextInt64(10_000_000, 99_999_999).ToString(CultureInfo.InvariantCulture);

    public static string NewName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..12];

    public static byte[] Fixture(string platform, string command, string file = "documented.json") =>
        File.ReadAllBytes(Path.Combine(FixturesRoot, platform, command, file));

    /// <summary>POSTs a Tencent callback with the query Tencent appends (unsigned app).</summary>
    public static async Task<(HttpStatusCode Status, string Body)> PostTencentAsync(HttpClient client, string appId, string command, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(new Uri(
            $"api/callbacks/tencent?SdkAppid={appId}&CallbackCommand={command}&contenttype=json&ClientIP=10.0.0.7&OptPlatform=iOS", UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>POSTs an OpenIM webhook the way servers since v3.4.2 do: the command appended to the URL, operationID header.</summary>
    public static async Task<(HttpStatusCode Status, string Body)> PostOpenImAsync(HttpClient client, string command, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"api/callbacks/openim/{command}", UriKind.Relative))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("operationID", NewName("op"));
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static string TencentFriendAdd(string from, IEnumerable<string> peers)
    {
        var pairs = string.Join(',', peers.Select(peer =>
            $"{{\"From_Account\":{JsonSerializer.Serialize(from)},\"To_Account\":{JsonSerializer.Serialize(peer)},\"Initiator_Account\":{JsonSerializer.Serialize(from)}}}"));
        return $"{{\"CallbackCommand\":\"Sns.CallbackFriendAdd\",\"PairList\":[{pairs}],\"ClientCmd\":\"friend_add\",\"Admin_Account\":\"\",\"ForceFlag\":0}}";
    }

    /// <summary>The items of one query page (top 1000), as JSON.</summary>
    public static async Task<JsonElement[]> ItemsAsync(HttpClient client, string appId, string userId, string view, string query = "")
    {
        var uri = $"api/v1/apps/{Uri.EscapeDataString(appId)}/users/{Uri.EscapeDataString(userId)}/{view}?top=1000{query}";
        using var response = await client.GetAsync(new Uri(uri, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {uri}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        return [.. document.RootElement.GetProperty("items").EnumerateArray().Select(item => item.Clone())];
    }

    /// <summary>The other users of an edge list, sorted.</summary>
    public static async Task<string[]> UsersAsync(HttpClient client, string appId, string userId, string view) =>
        [.. (await ItemsAsync(client, appId, userId, view)).Select(item => item.GetProperty("userId").GetString()!).Order(StringComparer.Ordinal)];

    /// <summary>Polls until <paramref name="condition"/> holds (the drain is asynchronous); fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task EventuallyAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(stopwatch.Elapsed < limit, $"Not within {limit.TotalSeconds:F0} s: {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Tencent's retry: the same callback sent again after each failure answer until it is acknowledged. Any answer
    /// other than Tencent's OK or FAIL fails at once.
    /// </summary>
    public static Task PostTencentUntilAcknowledgedAsync(HttpClient client, string appId, string command, byte[] body, TimeSpan? timeout = null) =>
        EventuallyAsync($"{command} acknowledged after its failure answers", async () =>
        {
            var (status, answer) = await PostTencentAsync(client, appId, command, body);
            if (answer.Contains("\"ActionStatus\":\"OK\"", StringComparison.Ordinal))
            {
                Assert.Equal(HttpStatusCode.OK, status);
                return true;
            }

            Assert.True(answer.Contains("\"ActionStatus\":\"FAIL\"", StringComparison.Ordinal), $"{(int)status} {answer}");
            return false;
        }, timeout);

    /// <summary>Waits until an edge list is exactly <paramref name="expected"/>.</summary>
    public static Task ExpectUsersAsync(HttpClient client, string appId, string userId, string view, params string[] expected)
    {
        var sorted = expected.Order(StringComparer.Ordinal).ToArray();
        return EventuallyAsync($"{view} of {userId} in {appId} = [{string.Join(',', sorted)}]",
            async () => (await UsersAsync(client, appId, userId, view)).SequenceEqual(sorted));
    }

    public static string Text(this JsonElement element, string property) => element.GetProperty(property).GetString()!;

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
