using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FunctionApp.Reconciliation.Tencent;

/// <summary>
/// Tencent's UserSig, version 2 (TLSSigAPIv2, "Generating UserSig"): HMAC-SHA256 with the app's secret key over
/// the lines <c>TLS.identifier:</c>, <c>TLS.sdkappid:</c>, <c>TLS.time:</c>, <c>TLS.expire:</c> (each ending in a
/// newline), base64; then the JSON of those fields with <c>TLS.ver</c> "2.0" and <c>TLS.sig</c>, zlib-compressed, in
/// Tencent's base64 variant (<c>+</c> → <c>*</c>, <c>/</c> → <c>-</c>, <c>=</c> → <c>_</c>).
/// </summary>
public static class TencentUserSig
{
    public static string Generate(string sdkAppId, string identifier, string secretKey, DateTimeOffset issuedAt, int lifetimeSeconds)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        ArgumentException.ThrowIfNullOrEmpty(secretKey);
        var appId = long.Parse(sdkAppId, NumberStyles.None, CultureInfo.InvariantCulture);
        var time = issuedAt.ToUnixTimeSeconds();
        var signature = Sign(secretKey, identifier, appId, time, lifetimeSeconds);

        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteString("TLS.ver", "2.0");
            writer.WriteString("TLS.identifier", identifier);
            writer.WriteNumber("TLS.sdkappid", appId);
            writer.WriteNumber("TLS.expire", lifetimeSeconds);
            writer.WriteNumber("TLS.time", time);
            writer.WriteString("TLS.sig", signature);
            writer.WriteEndObject();
        }

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal))
        {
            zlib.Write(json.GetBuffer(), 0, (int)json.Length);
        }

        return Convert.ToBase64String(compressed.ToArray()).Replace('+', '*').Replace('/', '-').Replace('=', '_');
    }

    /// <summary>The HMAC the sig carries, base64: what a verifier recomputes from the decoded fields.</summary>
    public static string Sign(string secretKey, string identifier, long sdkAppId, long time, long lifetimeSeconds)
    {
        ArgumentNullException.ThrowIfNull(secretKey);
        var content = string.Create(CultureInfo.InvariantCulture,
            $"TLS.identifier:{identifier}\nTLS.sdkappid:{sdkAppId}\nTLS.time:{time}\nTLS.expire:{lifetimeSeconds}\n");
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secretKey), Encoding.UTF8.GetBytes(content)));
    }
}
