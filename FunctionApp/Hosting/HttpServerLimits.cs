using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FunctionApp.Hosting;

/// <summary>
/// Standalone only: what one client may hold on the server. Kestrel alone caps neither connections nor request
/// time, and its minimum body rate (240 bytes/s) lets a slow sender keep a request open for over an hour. In
/// Functions mode the host is the only caller, on loopback, and its own front end sets these limits.
/// </summary>
public sealed record HttpServerLimits(
    int MaxConcurrentConnections,
    int MinRequestBodyBytesPerSecond,
    int RequestHeadersTimeoutSeconds,
    int RequestTimeoutSeconds)
{
    /// <summary>Kestrel's own grace period: how long a body may start slowly before the minimum rate applies.</summary>
    public static readonly TimeSpan MinDataRateGracePeriod = TimeSpan.FromSeconds(5);

    public static HttpServerLimits Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return new HttpServerLimits(
            SettingValues.PositiveInt(configuration, AppSettingNames.HttpMaxConcurrentConnections, 500),
            SettingValues.PositiveInt(configuration, AppSettingNames.HttpMinRequestBodyBytesPerSecond, 4096),
            SettingValues.PositiveInt(configuration, AppSettingNames.HttpRequestHeadersTimeoutSeconds, 10),
            SettingValues.PositiveInt(configuration, AppSettingNames.HttpRequestTimeoutSeconds, 30));
    }

    public void ApplyTo(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.Limits.MaxConcurrentConnections = MaxConcurrentConnections;
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(MinRequestBodyBytesPerSecond, MinDataRateGracePeriod);
        kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(RequestHeadersTimeoutSeconds);
    }

    /// <summary>The request-timeouts middleware's default policy: every route ends by this time (504 when nothing was sent yet).</summary>
    public void ApplyTo(RequestTimeoutOptions timeouts)
    {
        ArgumentNullException.ThrowIfNull(timeouts);
        timeouts.DefaultPolicy = new RequestTimeoutPolicy { Timeout = TimeSpan.FromSeconds(RequestTimeoutSeconds) };
    }
}
