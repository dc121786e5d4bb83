using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LoadGenerator;

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

    /// <summary>
    /// The platform's own request, in either mode: standalone serves the callback route itself, and in Functions mode
    /// the host forwards the request raw to the same route on the handler.
    /// </summary>
    public CallbackRequest Build(string owner) =>
        new("/api/callbacks/tencent?" + QueryString(Query(DateTimeOffset.UtcNow.ToUnixTimeSeconds())), "application/json", Body(owner), owner);

    public static string QueryString(IReadOnlyDictionary<string, string> query) =>
        string.Join('&', query.Select(pair => Uri.EscapeDataString(pair.Key) + "=" + Uri.EscapeDataString(pair.Value)));
}
