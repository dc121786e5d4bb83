using FunctionApp.Hosting;

namespace FunctionApp.Api;

/// <summary>The health answer: overall status, hosting mode and one word per dependency ("ok" or "unavailable").</summary>
public sealed record HealthReport(string Status, string Mode, IReadOnlyDictionary<string, string> Checks);

/// <summary><c>GET /api/health</c>: 200 when every registered dependency answers (the tables, the standalone queue), 503 otherwise.</summary>
internal static class HealthEndpoint
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var probes = services.GetServices<IHealthProbe>().ToArray();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("FunctionApp.Api.Health");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(ProbeTimeout);
        var results = await Task.WhenAll(probes.Select(probe => RunAsync(probe, logger, timeout.Token)));

        var healthy = results.All(r => r.Healthy);
        var report = new HealthReport(
            healthy ? "healthy" : "unhealthy",
            services.GetRequiredService<HostingEndpoint>().Mode == HostingMode.Functions ? "functions" : "standalone",
            results.ToDictionary(r => r.Name, r => r.Healthy ? "ok" : "unavailable", StringComparer.Ordinal));

        context.Response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(report, ApiJsonContext.Default.HealthReport, "application/json", context.RequestAborted);
    }

    private static async Task<(string Name, bool Healthy)> RunAsync(IHealthProbe probe, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await probe.CheckAsync(cancellationToken);
            return (probe.Name, true);
        }
        catch (Exception ex)
        {
            ApiLog.ProbeFailed(logger, probe.Name, ex);
            return (probe.Name, false);
        }
    }
}
