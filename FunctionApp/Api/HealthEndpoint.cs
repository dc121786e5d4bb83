using FunctionApp.Hosting;

namespace FunctionApp.Api;

/// <summary>The health answer: overall status, hosting mode and one word per dependency ("ok" or "unavailable").</summary>
public sealed record HealthReport(string Status, string Mode, IReadOnlyDictionary<string, string> Checks);

/// <summary>
/// <c>GET /api/health</c>: 200 when every registered dependency answers (the tables, the standalone queue), 503
/// otherwise. The route needs no key, so one check serves every caller for <see cref="HealthCheckCache.Lifetime"/>:
/// however often it is called, it costs storage at most one query per dependency in that time.
/// </summary>
internal static class HealthEndpoint
{
    public static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var report = await services.GetRequiredService<HealthCheckCache>().GetAsync(context.RequestAborted);

        context.Response.StatusCode = report.Status == "healthy" ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(report, ApiJsonContext.Default.HealthReport, "application/json", context.RequestAborted);
    }
}

/// <summary>Runs the health probes at most once per <see cref="Lifetime"/> and shares the result, in flight or done.</summary>
internal sealed class HealthCheckCache(IEnumerable<IHealthProbe> probes, HostingEndpoint endpoint, TimeProvider time, ILoggerFactory loggers)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    /// <summary>An unhealthy answer is kept shorter, so recovery (or a first start) shows soon.</summary>
    public static readonly TimeSpan UnhealthyLifetime = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly IHealthProbe[] _probes = probes.ToArray();
    private readonly ILogger _logger = loggers.CreateLogger("FunctionApp.Api.Health");
    private readonly object _lock = new();
    private Task<HealthReport>? _current;
    private DateTimeOffset _started;

    public Task<HealthReport> GetAsync(CancellationToken cancellationToken)
    {
        Task<HealthReport> current;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_current is null || now - _started >= (IsUnhealthy(_current) ? UnhealthyLifetime : Lifetime))
            {
                // Not tied to one caller's request: the check is shared, and a caller leaving must not cancel it.
                _current = CheckAsync();
                _started = now;
            }

            current = _current;
        }

        return current.WaitAsync(cancellationToken);
    }

    private static bool IsUnhealthy(Task<HealthReport> report) =>
        report.IsCompletedSuccessfully && report.Result.Status != "healthy";

    private async Task<HealthReport> CheckAsync()
    {
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        var results = await Task.WhenAll(_probes.Select(probe => RunAsync(probe, timeout.Token)));
        var healthy = results.All(r => r.Healthy);
        return new HealthReport(
            healthy ? "healthy" : "unhealthy",
            endpoint.Mode == HostingMode.Functions ? "functions" : "standalone",
            results.ToDictionary(r => r.Name, r => r.Healthy ? "ok" : "unavailable", StringComparer.Ordinal));
    }

    private async Task<(string Name, bool Healthy)> RunAsync(IHealthProbe probe, CancellationToken cancellationToken)
    {
        try
        {
            await probe.CheckAsync(cancellationToken);
            return (probe.Name, true);
        }
        catch (Exception ex)
        {
            ApiLog.ProbeFailed(_logger, probe.Name, ex);
            return (probe.Name, false);
        }
    }
}
