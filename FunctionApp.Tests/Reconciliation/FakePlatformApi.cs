using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FunctionApp.Tests.Reconciliation;

/// <summary>A friend as the fake platform keeps it (Tencent and OpenIM fields both).</summary>
public sealed record FakeFriend(string Peer, string Remark = "", string AddSource = "AddSource_Type_Test", string[]? Groups = null, long AddTime = 1_700_000_000);

/// <summary>A call as the fake saw it, for failure injection and assertions.</summary>
/// <param name="Cursor">Tencent StartIndex or OpenIM pageNumber; -1 for token calls.</param>
public sealed record FakeCall(string Platform, string Api, string AppId, string? UserId, long Cursor);

/// <summary>
/// Both platforms' admin REST APIs on a real Kestrel server on a free loopback port, with their documented request
/// and answer shapes: Tencent <c>v4/sns/friend_get</c> and <c>v4/sns/black_list_get</c> (UserSig checked with the
/// app's key: decoded from Tencent's base64 variant, inflated, HMAC recomputed, expiry checked), OpenIM
/// <c>/auth/get_admin_token</c>, <c>/friend/get_friend_list</c> and <c>/friend/get_black_list</c> (token and
/// <c>operationID</c> checked). Lists are paged; errors, a rate limit (Tencent 60007, OpenIM HTTP 429) and added
/// latency can be switched on; every call's arrival is logged so the busiest one-second window can be counted.
/// </summary>
public sealed class FakePlatformApi : IAsyncDisposable
{
    public const string OpenImAppId = "openim";
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<(string AppId, string UserId), UserLists> _users = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _openImTokens = new(StringComparer.Ordinal);
    private readonly Lock _callLock = new();
    private readonly List<(long Ticks, string AppId)> _arrivals = [];
    private readonly ConcurrentBag<FakeCall> _calls = [];
    private readonly ConcurrentDictionary<string, byte> _sigsSeen = new(StringComparer.Ordinal);
    private int _rateLimited;
    private int _tokensIssued;

    private FakePlatformApi(WebApplication app) => _app = app;

    /// <summary>SdkAppid → secret key of the Tencent apps served.</summary>
    public Dictionary<string, string> TencentKeys { get; } = new(StringComparer.Ordinal);

    public string TencentAdmin { get; set; } = "administrator";
    public string OpenImSecret { get; set; } = "openim-secret";
    public string OpenImAdmin { get; set; } = "imAdmin";
    public int OpenImTokenSeconds { get; set; } = 3600;

    /// <summary>Friends per <c>friend_get</c> page (Tencent decides it; 100 keeps tests short).</summary>
    public int TencentFriendPageSize { get; set; } = 100;

    /// <summary>Calls per app accepted in any one-second window; beyond, Tencent answers 60007 and OpenIM HTTP 429. 0: no limit.</summary>
    public int RateLimitPerSecond { get; set; }

    public TimeSpan AddedLatency { get; set; }

    /// <summary>A platform error code to answer instead of the data, per call; null answers normally.</summary>
    public Func<FakeCall, long?> ErrorFor { get; set; } = _ => null;

    /// <summary>Runs before each list answer is built (tests change the platform's state mid-read here).</summary>
    public Func<FakeCall, Task> BeforeAnswer { get; set; } = _ => Task.CompletedTask;

    public Uri BaseUri { get; private set; } = null!;
    public IReadOnlyCollection<FakeCall> Calls => _calls;
    public int CallCount => _calls.Count;
    public int RateLimitedCount => _rateLimited;
    public int TokensIssued => _tokensIssued;
    public int DistinctUserSigs => _sigsSeen.Count;

    public static async Task<FakePlatformApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakePlatformApi(app);
        app.MapPost("/v4/sns/{api}", fake.TencentAsync);
        app.MapPost("/auth/get_admin_token", fake.OpenImTokenAsync);
        app.MapPost("/friend/{api}", fake.OpenImListAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUri = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public void SetUser(string appId, string userId, IEnumerable<FakeFriend> friends, IEnumerable<string> blocked)
    {
        var lists = _users.GetOrAdd((appId, userId), _ => new UserLists());
        lock (lists)
        {
            lists.Friends.Clear();
            lists.Friends.AddRange(friends);
            lists.Blocked.Clear();
            lists.Blocked.AddRange(blocked);
        }
    }

    public (List<FakeFriend> Friends, List<string> Blocked) Lists(string appId, string userId)
    {
        var lists = _users[(appId, userId)];
        lock (lists)
        {
            return (lists.Friends.ToList(), lists.Blocked.ToList());
        }
    }

    public void ClearCalls()
    {
        _calls.Clear();
        lock (_callLock)
        {
            _arrivals.Clear();
        }
    }

    /// <summary>The most calls that arrived within any one second (a sliding window over every arrival).</summary>
    public int BusiestSecond()
    {
        lock (_callLock)
        {
            var ticks = _arrivals.Select(a => a.Ticks).Order().ToList();
            var most = 0;
            for (int first = 0, last = 0; last < ticks.Count; last++)
            {
                while (ticks[last] - ticks[first] >= Stopwatch.Frequency)
                {
                    first++;
                }

                most = Math.Max(most, last - first + 1);
            }

            return most;
        }
    }

    /// <summary>Calls per second between the first and the last arrival.</summary>
    public double MeanCallRate()
    {
        lock (_callLock)
        {
            if (_arrivals.Count < 2)
            {
                return 0;
            }

            var seconds = (double)(_arrivals.Max(a => a.Ticks) - _arrivals.Min(a => a.Ticks)) / Stopwatch.Frequency;
            return (_arrivals.Count - 1) / seconds;
        }
    }

    /// <summary>Logs the arrival; true when it is over the rate limit for its app.</summary>
    private bool Arrive(FakeCall call)
    {
        _calls.Add(call);
        var now = Stopwatch.GetTimestamp();
        lock (_callLock)
        {
            _arrivals.Add((now, call.AppId));
            if (RateLimitPerSecond <= 0)
            {
                return false;
            }

            var inWindow = 0;
            for (var i = _arrivals.Count - 1; i >= 0 && now - _arrivals[i].Ticks < Stopwatch.Frequency; i--)
            {
                inWindow += _arrivals[i].AppId == call.AppId ? 1 : 0;
            }

            if (inWindow <= RateLimitPerSecond)
            {
                return false;
            }
        }

        Interlocked.Increment(ref _rateLimited);
        return true;
    }

    private async Task TencentAsync(HttpContext context, string api)
    {
        var query = context.Request.Query;
        var appId = query["sdkappid"].ToString();
        using var body = await ReadJsonAsync(context);
        var userId = body?.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("From_Account", out var from) && from.ValueKind == JsonValueKind.String
            ? from.GetString()
            : null;
        var start = body?.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("StartIndex", out var s) && s.TryGetInt64(out var v) ? v : -1;
        var call = new FakeCall("tencent", api, appId, userId, start);
        var limited = Arrive(call);
        await Task.Delay(AddedLatency);

        if (limited)
        {
            await TencentErrorAsync(context, 60007, "REST API call frequency exceeds the limit");
            return;
        }

        if (!TencentKeys.TryGetValue(appId, out var key) || query["contenttype"] != "json" || !uint.TryParse(query["random"], CultureInfo.InvariantCulture, out _))
        {
            await TencentErrorAsync(context, 60002, "sdkappid, random or contenttype missing or wrong");
            return;
        }

        if (CheckUserSig(query["usersig"].ToString(), query["identifier"].ToString(), appId, key) is { } sigError)
        {
            await TencentErrorAsync(context, sigError, "UserSig check failed");
            return;
        }

        if (userId is null || start < 0 || (api != "friend_get" && api != "black_list_get"))
        {
            await TencentErrorAsync(context, 30001, "bad request");
            return;
        }

        var lists = await ListsToAnswerAsync(call, appId, userId, (code, info) => TencentErrorAsync(context, code, info), 30003, "The requested account does not exist");
        if (lists is null)
        {
            return;
        }

        if (api == "friend_get")
        {
            var (total, page) = lists.Slice(lists.Friends, (int)start, TencentFriendPageSize);

            var next = start + page.Count;
            await WriteAsync(context, writer =>
            {
                writer.WriteStartArray("UserDataItem");
                foreach (var friend in page)
                {
                    writer.WriteStartObject();
                    writer.WriteString("To_Account", friend.Peer);
                    writer.WriteStartArray("ValueItem");
                    WriteTag(writer, "Tag_SNS_IM_AddSource", w => w.WriteStringValue(friend.AddSource));
                    if (friend.Remark.Length > 0)
                    {
                        WriteTag(writer, "Tag_SNS_IM_Remark", w => w.WriteStringValue(friend.Remark));
                    }

                    if (friend.Groups is { Length: > 0 } groups)
                    {
                        WriteTag(writer, "Tag_SNS_IM_Group", w =>
                        {
                            w.WriteStartArray();
                            foreach (var group in groups)
                            {
                                w.WriteStringValue(group);
                            }

                            w.WriteEndArray();
                        });
                    }

                    WriteTag(writer, "Tag_SNS_IM_AddTime", w => w.WriteNumberValue(friend.AddTime));
                    WriteTag(writer, "Tag_SNS_Custom_Test", w => w.WriteStringValue("custom"));
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteNumber("StandardSequence", 88);
                writer.WriteNumber("CustomSequence", 46);
                writer.WriteNumber("FriendNum", total);
                writer.WriteNumber("CompleteFlag", next >= total ? 1 : 0);
                writer.WriteNumber("NextStartIndex", next);
                writer.WriteString("ActionStatus", "OK");
                writer.WriteNumber("ErrorCode", 0);
                writer.WriteString("ErrorInfo", "");
                writer.WriteString("ErrorDisplay", "");
            });
            return;
        }

        var max = body!.RootElement.TryGetProperty("MaxLimited", out var m) && m.TryGetInt32(out var limit) && limit is > 0 and <= 1000 ? limit : 0;
        if (max == 0)
        {
            await TencentErrorAsync(context, 30001, "MaxLimited must be 1..1000");
            return;
        }

        var (count, blocked) = lists.Slice(lists.Blocked, (int)start, max);

        var nextBlock = start + blocked.Count;
        await WriteAsync(context, writer =>
        {
            writer.WriteStartArray("BlackListItem");
            foreach (var peer in blocked)
            {
                writer.WriteStartObject();
                writer.WriteString("To_Account", peer);
                writer.WriteNumber("AddBlackTimeStamp", 1_430_000_001);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteNumber("StartIndex", nextBlock >= count ? 0 : nextBlock);
            writer.WriteNumber("CurruentSequence", 13);
            writer.WriteString("ActionStatus", "OK");
            writer.WriteNumber("ErrorCode", 0);
            writer.WriteString("ErrorInfo", "");
            writer.WriteString("ErrorDisplay", "");
        });
    }

    /// <summary>Null when the sig is valid for this admin and app now; else Tencent's code (70001 expired, 70003 invalid).</summary>
    private long? CheckUserSig(string userSig, string identifier, string appId, string key)
    {
        try
        {
            var compressed = Convert.FromBase64String(userSig.Replace('*', '+').Replace('-', '/').Replace('_', '='));
            using var inflated = new MemoryStream();
            using (var zlib = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress))
            {
                zlib.CopyTo(inflated);
            }

            using var sig = JsonDocument.Parse(inflated.ToArray());
            var root = sig.RootElement;
            var id = root.GetProperty("TLS.identifier").GetString()!;
            var sdkAppId = root.GetProperty("TLS.sdkappid").GetInt64();
            var time = root.GetProperty("TLS.time").GetInt64();
            var expire = root.GetProperty("TLS.expire").GetInt64();
            var content = $"TLS.identifier:{id}\nTLS.sdkappid:{sdkAppId}\nTLS.time:{time}\nTLS.expire:{expire}\n";
            var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(content)));
            if (root.GetProperty("TLS.ver").GetString() != "2.0" || id != identifier || id != TencentAdmin
                || sdkAppId.ToString(CultureInfo.InvariantCulture) != appId || root.GetProperty("TLS.sig").GetString() != expected)
            {
                return 70003;
            }

            if (DateTimeOffset.UtcNow.ToUnixTimeSeconds() > time + expire)
            {
                return 70001;
            }

            _sigsSeen.TryAdd(userSig, 0);
            return null;
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return 70003;
        }
    }

    private async Task OpenImTokenAsync(HttpContext context)
    {
        using var body = await ReadJsonAsync(context);
        if (!await OpenImArrivedAsync(context, new FakeCall("openim", "get_admin_token", OpenImAppId, null, -1)))
        {
            return;
        }

        var root = body?.RootElement;
        if (root is not { ValueKind: JsonValueKind.Object } r || !r.TryGetProperty("secret", out var secret) || secret.GetString() != OpenImSecret
            || !r.TryGetProperty("userID", out var user) || user.GetString() != OpenImAdmin)
        {
            await OpenImErrorAsync(context, 1002, "secret or admin user id wrong");
            return;
        }

        Interlocked.Increment(ref _tokensIssued);
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        _openImTokens[token] = DateTimeOffset.UtcNow.AddSeconds(OpenImTokenSeconds);
        await WriteAsync(context, writer =>
        {
            WriteOpenImStatus(writer, 0, "");
            writer.WriteStartObject("data");
            writer.WriteString("token", token);
            writer.WriteNumber("expireTimeSeconds", OpenImTokenSeconds);
            writer.WriteEndObject();
        });
    }

    /// <summary>
    /// Logs an OpenIM call, waits the added latency and makes the checks every OpenIM API makes first; false when it
    /// has already answered (429 over the limit, or no operationID).
    /// </summary>
    private async Task<bool> OpenImArrivedAsync(HttpContext context, FakeCall call)
    {
        var limited = Arrive(call);
        await Task.Delay(AddedLatency);
        if (limited)
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            return false;
        }

        if (string.IsNullOrEmpty(context.Request.Headers["operationID"]))
        {
            await OpenImErrorAsync(context, 1001, "operationID is empty");
            return false;
        }

        return true;
    }

    /// <summary>Makes every token issued so far invalid, as a server restart does.</summary>
    public void RevokeOpenImTokens() => _openImTokens.Clear();

    private async Task OpenImListAsync(HttpContext context, string api)
    {
        using var body = await ReadJsonAsync(context);
        var root = body?.RootElement;
        string? userId = null;
        long pageNumber = -1, showNumber = -1;
        if (root is { ValueKind: JsonValueKind.Object } r)
        {
            userId = r.TryGetProperty("userID", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            if (r.TryGetProperty("pagination", out var p) && p.ValueKind == JsonValueKind.Object)
            {
                pageNumber = p.TryGetProperty("pageNumber", out var n) && n.TryGetInt64(out var nv) ? nv : -1;
                showNumber = p.TryGetProperty("showNumber", out var sn) && sn.TryGetInt64(out var sv) ? sv : -1;
            }
        }

        var call = new FakeCall("openim", api, OpenImAppId, userId, pageNumber);
        if (!await OpenImArrivedAsync(context, call))
        {
            return;
        }

        var token = context.Request.Headers["token"].ToString();
        if (!_openImTokens.TryGetValue(token, out var expires) || expires < DateTimeOffset.UtcNow)
        {
            await OpenImErrorAsync(context, 1501, "token expired or unknown");
            return;
        }

        if (userId is null || pageNumber < 1 || showNumber is < 1 or > 1000 || (api != "get_friend_list" && api != "get_black_list"))
        {
            await OpenImErrorAsync(context, 1001, "ArgsError");
            return;
        }

        var lists = await ListsToAnswerAsync(call, OpenImAppId, userId, (code, message) => OpenImErrorAsync(context, code, message), 1004, "RecordNotFoundError");
        if (lists is null)
        {
            return;
        }

        var skip = (int)((pageNumber - 1) * showNumber);
        var (friendCount, friends) = lists.Slice(lists.Friends, skip, (int)showNumber);
        var (blockedCount, blocked) = lists.Slice(lists.Blocked, skip, (int)showNumber);
        var total = api == "get_friend_list" ? friendCount : blockedCount;

        await WriteAsync(context, writer =>
        {
            WriteOpenImStatus(writer, 0, "");
            writer.WriteStartObject("data");
            if (api == "get_friend_list")
            {
                writer.WriteStartArray("friendsInfo");
                foreach (var friend in friends)
                {
                    writer.WriteStartObject();
                    writer.WriteString("ownerUserID", userId);
                    writer.WriteString("remark", friend.Remark);
                    writer.WriteNumber("createTime", friend.AddTime * 1000);
                    writer.WriteNumber("addSource", 1);
                    writer.WriteString("operatorUserID", userId);
                    writer.WriteString("ex", "");
                    writer.WriteStartObject("friendUser");
                    writer.WriteString("userID", friend.Peer);
                    writer.WriteString("nickname", friend.Peer);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }
            }
            else
            {
                writer.WriteStartArray("blacks");
                foreach (var peer in blocked)
                {
                    writer.WriteStartObject();
                    writer.WriteString("ownerUserID", userId);
                    writer.WriteNumber("createTime", 1_430_000_001_000);
                    writer.WriteNumber("addSource", 1);
                    writer.WriteStartObject("blackUserInfo");
                    writer.WriteString("userID", peer);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }
            }

            writer.WriteEndArray();
            writer.WriteNumber("total", total);
            writer.WriteEndObject();
        });
    }

    /// <summary>The user's lists once the call passed its checks; null (and the error answered) for an injected failure or an unknown user.</summary>
    private async Task<UserLists?> ListsToAnswerAsync(FakeCall call, string appId, string userId, Func<long, string, Task> answerError, long unknownCode, string unknownMessage)
    {
        if (ErrorFor(call) is { } injected)
        {
            await answerError(injected, "injected failure");
            return null;
        }

        await BeforeAnswer(call);
        if (!_users.TryGetValue((appId, userId), out var lists))
        {
            await answerError(unknownCode, unknownMessage);
            return null;
        }

        return lists;
    }

    private static async Task<JsonDocument?> ReadJsonAsync(HttpContext context)
    {
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void WriteTag(Utf8JsonWriter writer, string tag, Action<Utf8JsonWriter> value)
    {
        writer.WriteStartObject();
        writer.WriteString("Tag", tag);
        writer.WritePropertyName("Value");
        value(writer);
        writer.WriteEndObject();
    }

    private static void WriteOpenImStatus(Utf8JsonWriter writer, long code, string message)
    {
        writer.WriteNumber("errCode", code);
        writer.WriteString("errMsg", message);
        writer.WriteString("errDlt", "");
    }

    private static Task TencentErrorAsync(HttpContext context, long code, string info) => WriteAsync(context, writer =>
    {
        writer.WriteString("ActionStatus", "FAIL");
        writer.WriteNumber("ErrorCode", code);
        writer.WriteString("ErrorInfo", info);
        writer.WriteString("ErrorDisplay", "");
    });

    private static Task OpenImErrorAsync(HttpContext context, long code, string message) => WriteAsync(context, writer => WriteOpenImStatus(writer, code, message));

    private static async Task WriteAsync(HttpContext context, Action<Utf8JsonWriter> members)
    {
        context.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            members(writer);
            writer.WriteEndObject();
        }

        await context.Response.Body.WriteAsync(buffer.ToArray());
    }

    private sealed class UserLists
    {
        public List<FakeFriend> Friends { get; } = [];
        public List<string> Blocked { get; } = [];

        /// <summary>One page of a list and the list's length, read together (tests change lists mid-read).</summary>
        public (int Total, List<T> Page) Slice<T>(List<T> list, int skip, int take)
        {
            lock (this)
            {
                return (list.Count, list.Skip(skip).Take(take).ToList());
            }
        }
    }
}
