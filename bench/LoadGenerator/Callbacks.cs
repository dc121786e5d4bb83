using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LoadGenerator;

/// <summary>How a callback reaches the app: the Functions host's invocation payload, or the platform's own request.</summary>
internal enum Delivery
{
    Functions,
    Standalone,
}

/// <summary>One request as sent: path and query, content type and body bytes.</summary>
internal sealed record CallbackRequest(string PathAndQuery, string ContentType, byte[] Body, string? Owner);

/// <summary>
/// Builds signed Tencent <c>Sns.CallbackFriendAdd</c> callbacks with ids unique per request (owner
/// <c>{run}-{worker}-{sequence}</c>, peers <c>{owner}-p{i}</c>), so every acknowledgement can be checked in the store.
/// </summary>
internal sealed class TencentCallbacks(string appId, string? token, int pairs)
{
    public const string Command = "Sns.CallbackFriendAdd";

    public string AppId { get; } = appId;

    public static string OwnerId(string runId, int worker, long sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{runId}-{worker}-{sequence}");

    public static string PeerId(string owner, int index) => string.Create(CultureInfo.InvariantCulture, $"{owner}-p{index}");

    public byte[] Body(string owner)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (pairs * 96));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("CallbackCommand", Command);
            writer.WriteStartArray("PairList");
            for (var i = 1; i <= pairs; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("From_Account", owner);
                writer.WriteString("To_Account", PeerId(owner, i));
                writer.WriteString("Initiator_Account", owner);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("ClientCmd", "friend_add");
            writer.WriteString("Admin_Account", "admin");
            writer.WriteNumber("ForceFlag", 0);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The query Tencent appends, signed with the token when there is one.</summary>
    public Dictionary<string, string> Query(long requestTime, string? sdkAppId = null, string? sign = null)
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SdkAppid"] = sdkAppId ?? AppId,
            ["CallbackCommand"] = Command,
            ["contenttype"] = "json",
            ["ClientIP"] = "203.0.113.7",
            ["OptPlatform"] = "iOS",
        };
        if (token is not null)
        {
            query["RequestTime"] = requestTime.ToString(CultureInfo.InvariantCulture);
            query["Sign"] = sign ?? Sign(token, requestTime);
        }

        return query;
    }

    public static string Sign(string token, long requestTime) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token + requestTime.ToString(CultureInfo.InvariantCulture))));

    public CallbackRequest Build(Delivery delivery, string owner)
    {
        var body = Body(owner);
        var query = Query(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        return delivery == Delivery.Functions
            ? Invocation.ReceiveCallback("tencent", "", query, "application/json", body, owner)
            : new CallbackRequest("/api/callbacks/tencent?" + QueryString(query), "application/json", body, owner);
    }

    public static string QueryString(IReadOnlyDictionary<string, string> query) =>
        string.Join('&', query.Select(pair => Uri.EscapeDataString(pair.Key) + "=" + Uri.EscapeDataString(pair.Value)));
}

/// <summary>The Functions host's <c>POST /ReceiveCallback</c> payload around one platform request.</summary>
internal static class Invocation
{
    public static CallbackRequest ReceiveCallback(
        string platform, string rest, IReadOnlyDictionary<string, string> query, string contentType, byte[] body, string? owner,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        var path = "/api/callbacks/" + platform + (rest.Length == 0 ? "" : "/" + rest);
        var url = "https://bench.example/" + path.TrimStart('/') + (query.Count == 0 ? "" : "?" + TencentCallbacks.QueryString(query));

        // The host passes the body as text, or as base64 of its bytes for application/octet-stream.
        var binary = contentType == "application/octet-stream";
        var buffer = new ArrayBufferWriter<byte>(body.Length + 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("Data");
            writer.WriteStartObject("req");
            writer.WriteString("Url", url);
            writer.WriteString("Method", "POST");
            writer.WriteStartObject("Query");
            foreach (var (name, value) in query)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
            writer.WriteStartObject("Headers");
            writer.WriteStartArray("Content-Type");
            writer.WriteStringValue(contentType);
            writer.WriteEndArray();
            foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            {
                writer.WriteStartArray(name);
                writer.WriteStringValue(value);
                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.WriteStartObject("Params");
            writer.WriteString("platform", platform);
            if (rest.Length > 0)
            {
                writer.WriteString("rest", rest);
            }

            writer.WriteEndObject();
            writer.WriteStartArray("Identities");
            writer.WriteEndArray();
            if (binary)
            {
                writer.WriteBase64String("Body", body);
            }
            else
            {
                writer.WriteString("Body", Encoding.UTF8.GetString(body));
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteStartObject("Metadata");
            writer.WriteString("platform", platform);
            writer.WriteStartObject("sys");
            writer.WriteString("MethodName", "ReceiveCallback");
            writer.WriteString("UtcNow", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return new CallbackRequest("/ReceiveCallback", "application/json", buffer.WrittenSpan.ToArray(), owner);
    }
}
