namespace FunctionApp.Protocols.Tencent;

/// <summary>The Tencent Cloud Chat apps served and how strictly their signatures are checked.</summary>
public sealed class TencentOptions
{
    /// <summary>SdkAppid -> callback token. An empty token means the app's callbacks are accepted unsigned.</summary>
    public IDictionary<string, string> Apps { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// How far a signed callback's RequestTime may be from the receive time, either way, and how far any source time
    /// (RequestTime, EventTime) may be ahead of it. Tencent signs each request as it sends it and gives up after 2 s,
    /// so the window only has to cover the two clocks' difference; a signed URL is replayable within it, hence 30 s
    /// rather than the 60 s Tencent's own guidance allows.
    /// </summary>
    public int MaxClockSkewSeconds { get; set; } = 30;
}
