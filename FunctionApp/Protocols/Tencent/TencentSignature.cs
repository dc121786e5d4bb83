using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FunctionApp.Protocols.Tencent;

/// <summary>The outcome of checking a callback's Sign and RequestTime.</summary>
public sealed record SignatureCheck(bool IsValid, string? Failure)
{
    public static SignatureCheck Valid { get; } = new(true, null);
    public static SignatureCheck Invalid(string failure) => new(false, failure);
}

/// <summary>
/// Tencent's callback authentication: <c>Sign = hex(SHA-256(token + RequestTime))</c>, plain SHA-256 (not HMAC),
/// RequestTime in Unix seconds. Pure functions, no clock of their own.
/// </summary>
public static class TencentSignature
{
    public static string Compute(string token, string requestTime)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(requestTime);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token + requestTime)));
    }

    /// <param name="now">The time to judge RequestTime against (the callback's receive time).</param>
    public static SignatureCheck Verify(string token, string? sign, string? requestTime, DateTimeOffset now, TimeSpan maxClockSkew)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (string.IsNullOrEmpty(sign) || string.IsNullOrEmpty(requestTime))
        {
            return SignatureCheck.Invalid("Sign and RequestTime are required: this app has a callback token.");
        }

        if (!long.TryParse(requestTime, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return SignatureCheck.Invalid("RequestTime must be Unix seconds.");
        }

        var skew = DateTimeOffset.FromUnixTimeSeconds(seconds) - now;
        if (skew.Duration() > maxClockSkew)
        {
            return SignatureCheck.Invalid(string.Create(CultureInfo.InvariantCulture,
                $"RequestTime is {(long)skew.TotalSeconds} s from now; at most {(long)maxClockSkew.TotalSeconds} s is accepted."));
        }

        var expected = Encoding.ASCII.GetBytes(Compute(token, requestTime));
        var given = Encoding.UTF8.GetBytes(sign.ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, given)
            ? SignatureCheck.Valid
            : SignatureCheck.Invalid("Sign does not match the app's callback token.");
    }
}
