namespace FunctionApp.Protocols.Tencent;

/// <summary>The Tencent Cloud Chat apps served and how strictly their signatures are checked.</summary>
public sealed class TencentOptions
{
    /// <summary>SdkAppid -> callback token. An empty token means the app's callbacks are accepted unsigned.</summary>
    public IDictionary<string, string> Apps { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>How far a signed callback's RequestTime may be from the receive time, either way.</summary>
    public int MaxClockSkewSeconds { get; set; } = 60;
}
