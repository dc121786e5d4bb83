using FunctionApp.Core;
using FunctionApp.Reconciliation.OpenIm;
using FunctionApp.Reconciliation.Tencent;

namespace FunctionApp.Reconciliation;

/// <summary>The configured apps' readers: one per Tencent SdkAppid with a secret key, and OpenIM when its API URL is set.</summary>
public sealed class PlatformReaders : IPlatformReaders
{
    private readonly Dictionary<string, IPlatformRelationshipReader> _readers;

    public PlatformReaders(IHttpClientFactory clients, ReconciliationOptions options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _readers = new Dictionary<string, IPlatformRelationshipReader>(StringComparer.Ordinal);
        foreach (var (sdkAppId, app) in options.TencentApps)
        {
            _readers[sdkAppId] = new TencentAdminReader(clients, sdkAppId, app, options.PageSize, clock);
        }

        if (!string.IsNullOrWhiteSpace(options.OpenIm.ApiUrl))
        {
            _readers[options.OpenImAppId] = new OpenImAdminReader(clients, options.OpenImAppId, options.OpenIm, options.PageSize, clock);
        }

        AppIds = _readers.Keys.Order(StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<string> AppIds { get; }

    public IPlatformRelationshipReader? For(string appId) => _readers.GetValueOrDefault(appId);

    /// <summary>
    /// The admin API clients: one named client per configured app, each with its own rate limiter (the platforms
    /// limit calls per app), retries and timeouts (see <see cref="AdminApi"/>).
    /// </summary>
    public static void AddHttpClients(IServiceCollection services, ReconciliationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var sdkAppId in options.TencentApps.Keys)
        {
            AdminApi.AddClient(services, sdkAppId, TencentDialect.Instance, AdminApi.CreateLimiter(options.CallsPerSecond, options.RateHeadroom), options);
        }

        if (!string.IsNullOrWhiteSpace(options.OpenIm.ApiUrl))
        {
            AdminApi.AddClient(services, options.OpenImAppId, OpenImDialect.Instance, AdminApi.CreateLimiter(options.CallsPerSecond, options.RateHeadroom), options);
        }
    }
}
