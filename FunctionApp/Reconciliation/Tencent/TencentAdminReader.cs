using System.Globalization;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Reconciliation.Tencent;

/// <summary>Tencent Cloud Chat REST answers: <c>ActionStatus</c>, <c>ErrorCode</c>, <c>ErrorInfo</c>.</summary>
internal sealed class TencentDialect : IAdminApiDialect
{
    public const long RateLimited = 60007;
    public static readonly TencentDialect Instance = new();

    public (long Code, string Message) StatusOf(JsonElement answer) =>
        (AdminApi.Int64Of(answer, "ErrorCode") ?? (AdminApi.StringOf(answer, "ActionStatus") == "OK" ? 0 : -1), AdminApi.StringOf(answer, "ErrorInfo") ?? "");

    // 60007: REST calls over the app's frequency limit; 60008: service timed out; 30006/30007: relationship-chain
    // internal error or timeout, "try again".
    public bool IsTransient(long code) => code is RateLimited or 60008 or 30006 or 30007;

    public ReconcileErrorKind KindOf(long code) => code switch
    {
        RateLimited => ReconcileErrorKind.RateLimited,
        60008 or 30007 => ReconcileErrorKind.Timeout,
        30003 or 70107 => ReconcileErrorKind.UnknownUser,
        60004 or (>= 70001 and <= 70099) => ReconcileErrorKind.Unauthorized,
        _ => ReconcileErrorKind.PlatformError,
    };
}

/// <summary>
/// Reads a user's lists from Tencent's REST API: <c>v4/sns/friend_get</c> (pages of Tencent's size, followed by
/// <c>NextStartIndex</c> until <c>CompleteFlag</c> is 1) and <c>v4/sns/black_list_get</c> (followed by
/// <c>StartIndex</c> until it is 0), signed with the admin's UserSig, made from the app's secret key and kept until
/// shortly before it expires.
/// </summary>
public sealed class TencentAdminReader : IPlatformRelationshipReader
{
    public const string PlatformName = "tencent";
    private readonly IHttpClientFactory _clients;
    private readonly string _sdkAppId;
    private readonly TencentReconcileApp _app;
    private readonly int _pageSize;
    private readonly TimeProvider _clock;
    private readonly Uri _baseUri;
    private readonly Lock _sigLock = new();
    private (string Sig, DateTimeOffset RefreshAt)? _sig;

    public TencentAdminReader(IHttpClientFactory clients, string sdkAppId, TencentReconcileApp app, int pageSize, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(app);
        _clients = clients;
        _sdkAppId = sdkAppId;
        _app = app;
        _pageSize = Math.Clamp(pageSize, 1, 1000);
        _clock = clock;
        _baseUri = AdminApi.BaseUri(app.Domain);
    }

    public string Platform => PlatformName;

    public Task<PlatformSnapshot> ReadAsync(string userId, CancellationToken cancellationToken) =>
        AdminApi.SnapshotAsync(ReadFriendsAsync(userId, cancellationToken), ReadBlocklistAsync(userId, cancellationToken));

    private Task<(PlatformList List, int Pages, ReconcileError? Error)> ReadFriendsAsync(string userId, CancellationToken cancellationToken) =>
        AdminApi.ReadPagesAsync("friend_get", 0,
            (start, ct) => CallAsync("v4/sns/friend_get", writer =>
            {
                writer.WriteString("From_Account", userId);
                writer.WriteNumber("StartIndex", start);
                writer.WriteNumber("StandardSequence", 0);
                writer.WriteNumber("CustomSequence", 0);
            }, ct),
            root => AdminApi.ArrayOf(root, "UserDataItem")
                .Where(item => AdminApi.StringOf(item, "To_Account") is { Length: > 0 })
                .Select(item => new PlatformEdge(AdminApi.StringOf(item, "To_Account")!, FriendAttributes(item))),
            (root, _, _) => AdminApi.Int64Of(root, "CompleteFlag") == 1 ? null : AdminApi.Int64Of(root, "NextStartIndex") ?? -1,
            cancellationToken);

    private Task<(PlatformList List, int Pages, ReconcileError? Error)> ReadBlocklistAsync(string userId, CancellationToken cancellationToken) =>
        AdminApi.ReadPagesAsync("black_list_get", 0,
            (start, ct) => CallAsync("v4/sns/black_list_get", writer =>
            {
                writer.WriteString("From_Account", userId);
                writer.WriteNumber("StartIndex", start);
                writer.WriteNumber("MaxLimited", _pageSize);
                writer.WriteNumber("LastSequence", 0);
            }, ct),
            root => AdminApi.ArrayOf(root, "BlackListItem")
                .Where(item => AdminApi.StringOf(item, "To_Account") is { Length: > 0 })
                .Select(item => new PlatformEdge(AdminApi.StringOf(item, "To_Account")!, AdminApi.Int64Of(item, "AddBlackTimeStamp") is { } added
                    ? new Dictionary<string, string> { ["addBlackTime"] = added.ToString(CultureInfo.InvariantCulture) }
                    : new Dictionary<string, string>())),
            // StartIndex 0 in the answer: the whole blocklist has been read.
            (root, _, _) => AdminApi.Int64Of(root, "StartIndex") is { } next and not 0 ? next : null,
            cancellationToken);

    /// <summary>The standard friend fields Tencent lists; custom <c>Tag_SNS_Custom_*</c> fields are not relationship facts.</summary>
    private static Dictionary<string, string> FriendAttributes(JsonElement item)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!item.TryGetProperty("ValueItem", out var values) || values.ValueKind != JsonValueKind.Array)
        {
            return attributes;
        }

        foreach (var value in values.EnumerateArray())
        {
            var name = AdminApi.StringOf(value, "Tag") switch
            {
                "Tag_SNS_IM_AddTime" => "addTime",
                "Tag_SNS_IM_Remark" => "remark",
                "Tag_SNS_IM_AddSource" => "addSource",
                "Tag_SNS_IM_Group" => "group",
                "Tag_SNS_IM_AddWording" => "addWording",
                _ => null,
            };
            if (name is null || !value.TryGetProperty("Value", out var fact))
            {
                continue;
            }

            attributes[name] = fact.ValueKind switch
            {
                JsonValueKind.String => fact.GetString()!,
                JsonValueKind.Number => fact.GetRawText(),
                _ => fact.GetRawText(), // the group list stays a JSON array: group names may hold any character
            };
        }

        return attributes;
    }

    private async Task<(JsonDocument? Answer, ReconcileError? Error)> CallAsync(string api, Action<Utf8JsonWriter> body, CancellationToken cancellationToken)
    {
        var json = AdminApi.Json(body);
        var client = _clients.CreateClient(AdminApi.ClientName(_sdkAppId));
        var result = await AdminApi.PostAsync(client, Uri(api), json, null, TencentDialect.Instance, cancellationToken).ConfigureAwait(false);
        if (result.Error is { Kind: ReconcileErrorKind.Unauthorized })
        {
            // An expired or refused sig: make a new one once, in case the clock or the key moved under the cached one.
            lock (_sigLock)
            {
                _sig = null;
            }

            result = await AdminApi.PostAsync(client, Uri(api), json, null, TencentDialect.Instance, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    private Uri Uri(string api) => new(_baseUri, string.Create(CultureInfo.InvariantCulture,
        $"{api}?sdkappid={_sdkAppId}&identifier={System.Uri.EscapeDataString(_app.AdminIdentifier)}&usersig={System.Uri.EscapeDataString(UserSig())}&random={Random.Shared.NextInt64(0, 4_294_967_296L)}&contenttype=json"));

    /// <summary>The cached sig, renewed a tenth of its lifetime (at most five minutes) before it expires.</summary>
    private string UserSig()
    {
        var now = _clock.GetUtcNow();
        lock (_sigLock)
        {
            if (_sig is { } cached && now < cached.RefreshAt)
            {
                return cached.Sig;
            }

            var lifetime = Math.Max(60, _app.UserSigLifetimeSeconds);
            var sig = TencentUserSig.Generate(_sdkAppId, _app.AdminIdentifier, _app.SecretKey, now, lifetime);
            _sig = (sig, now.AddSeconds(lifetime - Math.Min(lifetime / 10, 300)));
            return sig;
        }
    }
}
