using System.Globalization;
using System.Text.Json;
using FunctionApp.Core;

namespace FunctionApp.Reconciliation.OpenIm;

/// <summary>OpenIM API answers: <c>errCode</c>, <c>errMsg</c>, <c>errDlt</c>, <c>data</c>.</summary>
internal sealed class OpenImDialect : IAdminApiDialect
{
    public static readonly OpenImDialect Instance = new();

    public (long Code, string Message) StatusOf(JsonElement answer) =>
        (AdminApi.Int64Of(answer, "errCode") ?? -1, AdminApi.StringOf(answer, "errMsg") ?? "");

    // 500: ServerInternalError, which OpenIM answers for a busy or failing dependency.
    public bool IsTransient(long code) => code == 500;

    public static bool IsTokenError(long code) => code is >= 1501 and <= 1507;

    public ReconcileErrorKind KindOf(long code) => code switch
    {
        1002 or (>= 1501 and <= 1507) => ReconcileErrorKind.Unauthorized,
        1004 or 1101 => ReconcileErrorKind.UnknownUser,
        _ => ReconcileErrorKind.PlatformError,
    };
}

/// <summary>
/// Reads a user's lists from the OpenIM API: <c>/friend/get_friend_list</c> and <c>/friend/get_black_list</c>, pages
/// from 1 until <c>total</c> is reached or a page comes back short, as the admin, whose token from
/// <c>/auth/get_admin_token</c> is kept until shortly before it expires. Every call sends its own <c>operationID</c>.
/// </summary>
public sealed class OpenImAdminReader : IPlatformRelationshipReader
{
    public const string PlatformName = "openim";
    private readonly IHttpClientFactory _clients;
    private readonly string _appId;
    private readonly OpenImReconcileApp _app;
    private readonly int _pageSize;
    private readonly TimeProvider _clock;
    private readonly Uri _baseUri;
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private (string Token, DateTimeOffset RefreshAt)? _token;

    public OpenImAdminReader(IHttpClientFactory clients, string appId, OpenImReconcileApp app, int pageSize, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(app);
        _clients = clients;
        _appId = appId;
        _app = app;
        _pageSize = Math.Clamp(pageSize, 1, 1000);
        _clock = clock;
        _baseUri = AdminApi.BaseUri(app.ApiUrl);
    }

    public string Platform => PlatformName;

    public Task<PlatformSnapshot> ReadAsync(string userId, CancellationToken cancellationToken) =>
        AdminApi.SnapshotAsync(ReadListAsync("friend/get_friend_list", userId, "friendsInfo", "friendUser", cancellationToken), ReadListAsync("friend/get_black_list", userId, "blacks", "blackUserInfo", cancellationToken));

    private Task<(PlatformList List, int Pages, ReconcileError? Error)> ReadListAsync(
        string api, string userId, string itemsName, string userName, CancellationToken cancellationToken) =>
        AdminApi.ReadPagesAsync(api, 1,
            (pageNumber, ct) => CallAsync(api, writer =>
            {
                writer.WriteString("userID", userId);
                writer.WriteStartObject("pagination");
                writer.WriteNumber("pageNumber", pageNumber);
                writer.WriteNumber("showNumber", _pageSize);
                writer.WriteEndObject();
            }, ct),
            root => AdminApi.ArrayOf(Data(root), itemsName)
                .Select(item => (Item: item, Peer: item.TryGetProperty(userName, out var user) ? AdminApi.StringOf(user, "userID") : null))
                .Where(x => !string.IsNullOrEmpty(x.Peer))
                .Select(x => new PlatformEdge(x.Peer!, Attributes(x.Item))),
            (root, pageNumber, count) => count < _pageSize || pageNumber * _pageSize >= (AdminApi.Int64Of(Data(root), "total") ?? 0) ? null : pageNumber + 1,
            cancellationToken);

    private static JsonElement Data(JsonElement root) =>
        root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object ? data : default;

    private static Dictionary<string, string> Attributes(JsonElement item)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (AdminApi.StringOf(item, "remark") is { } remark)
        {
            attributes["remark"] = remark;
        }

        foreach (var name in new[] { "addSource", "createTime" })
        {
            if (AdminApi.Int64Of(item, name) is { } value)
            {
                attributes[name] = value.ToString(CultureInfo.InvariantCulture);
            }
        }

        return attributes;
    }

    private async Task<(JsonDocument? Answer, ReconcileError? Error)> CallAsync(string api, Action<Utf8JsonWriter> body, CancellationToken cancellationToken)
    {
        var json = AdminApi.Json(body);
        for (var attempt = 0; ; attempt++)
        {
            var (token, tokenError) = await TokenAsync(cancellationToken).ConfigureAwait(false);
            if (token is null)
            {
                return (null, tokenError);
            }

            var result = await AdminApi.PostAsync(Client(), new Uri(_baseUri, api), json, Headers(token), OpenImDialect.Instance, cancellationToken).ConfigureAwait(false);
            if (attempt > 0 || result.Error is not { Kind: ReconcileErrorKind.Unauthorized })
            {
                return result;
            }

            // A token the server no longer takes (expired early, user kicked, server restarted): fetch a new one once.
            _token = null;
        }
    }

    private HttpClient Client() => _clients.CreateClient(AdminApi.ClientName(_appId));

    private static Dictionary<string, string> Headers(string? token)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal) { ["operationID"] = "reconcile-" + Guid.NewGuid().ToString("N") };
        if (token is not null)
        {
            headers["token"] = token;
        }

        return headers;
    }

    private async Task<(string? Token, ReconcileError? Error)> TokenAsync(CancellationToken cancellationToken)
    {
        if (_token is { } cached && _clock.GetUtcNow() < cached.RefreshAt)
        {
            return (cached.Token, null);
        }

        await _tokenLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _clock.GetUtcNow();
            if (_token is { } fresh && now < fresh.RefreshAt)
            {
                return (fresh.Token, null);
            }

            var body = AdminApi.Json(writer =>
            {
                writer.WriteString("secret", _app.Secret);
                writer.WriteString("userID", _app.AdminUserId);
            });
            var (answer, error) = await AdminApi.PostAsync(Client(), new Uri(_baseUri, "auth/get_admin_token"), body, Headers(null), OpenImDialect.Instance, cancellationToken).ConfigureAwait(false);
            if (answer is null)
            {
                return (null, error is { Kind: ReconcileErrorKind.PlatformError } ? error with { Kind = ReconcileErrorKind.Unauthorized } : error);
            }

            using (answer)
            {
                var data = Data(answer.RootElement);
                var token = data.ValueKind == JsonValueKind.Object ? AdminApi.StringOf(data, "token") : null;
                if (string.IsNullOrEmpty(token))
                {
                    return (null, new ReconcileError(ReconcileErrorKind.Unauthorized, "get_admin_token answered no token."));
                }

                var lifetime = Math.Max(1, AdminApi.Int64Of(data, "expireTimeSeconds") ?? 3600);
                _token = (token, now.AddSeconds(lifetime - Math.Min(lifetime / 10, 300)));
                return (token, null);
            }
        }
        finally
        {
            _tokenLock.Release();
        }
    }
}
