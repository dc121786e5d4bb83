using System.Net;
using FunctionApp.Hosting;

namespace FunctionApp.Api;

/// <summary>Whether a caller may use the query API, and if not, why.</summary>
public enum QueryApiAccessDecision
{
    Allowed,
    KeyMissing,
    KeyRejected,
    KeyNotForApp,
    NotLoopback,
}

/// <summary>
/// Who may read the query API. Functions mode: the Functions host has already checked the function key
/// (<c>authLevel: function</c>) and is the only caller on the loopback port. Standalone: a configured key in
/// <c>x-api-key</c>; with no key configured, connections that arrived on a loopback address only. That is the
/// server side of the connection, which the kernel sets and no header can change: the client address is not used,
/// because with forwarded headers trusted (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>) any caller can claim
/// 127.0.0.1 in <c>X-Forwarded-For</c>, and packets to 127.0.0.0/8 or ::1 never come in from another machine.
/// </summary>
public static class QueryApiAccess
{
    /// <param name="arrivedOn">The local address the connection was accepted on (<c>HttpContext.Connection.LocalIpAddress</c>).</param>
    /// <param name="appId">The app the request reads; a key scoped to other apps is refused for it.</param>
    public static QueryApiAccessDecision Decide(HostingMode mode, QueryApiKeys keys, IPAddress? arrivedOn, string? presentedKey, string? appId = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (mode == HostingMode.Functions)
        {
            return QueryApiAccessDecision.Allowed;
        }

        if (keys.AreConfigured)
        {
            if (string.IsNullOrEmpty(presentedKey))
            {
                return QueryApiAccessDecision.KeyMissing;
            }

            if (!keys.Accepts(presentedKey))
            {
                return QueryApiAccessDecision.KeyRejected;
            }

            return appId is null || keys.Allows(presentedKey, appId) ? QueryApiAccessDecision.Allowed : QueryApiAccessDecision.KeyNotForApp;
        }

        // A dual-stack listener reports IPv4 addresses as IPv4-mapped IPv6 addresses.
        var local = arrivedOn is { IsIPv4MappedToIPv6: true } ? arrivedOn.MapToIPv4() : arrivedOn;
        return local is not null && IPAddress.IsLoopback(local)
            ? QueryApiAccessDecision.Allowed
            : QueryApiAccessDecision.NotLoopback;
    }

    /// <summary>Applies the decision to a request; false (and a problem answer written) when the caller is refused.</summary>
    internal static async Task<bool> AuthorizeAsync(HttpContext context, string? appId)
    {
        var services = context.RequestServices;
        var presented = context.Request.Headers.TryGetValue(QueryApiKeys.HeaderName, out var values) ? values.ToString() : null;
        var decision = Decide(
            services.GetRequiredService<HostingEndpoint>().Mode,
            services.GetRequiredService<QueryApiKeys>(),
            context.Connection.LocalIpAddress,
            presented,
            appId);

        switch (decision)
        {
            case QueryApiAccessDecision.Allowed:
                return true;
            case QueryApiAccessDecision.KeyMissing:
                context.Response.Headers.WWWAuthenticate = "ApiKey header=\"x-api-key\"";
                await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, Problems.ApiKeyRequired, "API key required",
                    "Send one of the configured query API keys in the x-api-key header.");
                return false;
            case QueryApiAccessDecision.KeyRejected:
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, Problems.ApiKeyRejected, "API key rejected",
                    "The x-api-key header does not hold a configured query API key.");
                return false;
            case QueryApiAccessDecision.KeyNotForApp:
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, Problems.ApiKeyRejected, "API key not valid for this app",
                    "The x-api-key header holds a key scoped to other apps (QueryApi:AppKeys).");
                return false;
            default:
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, Problems.LoopbackOnly, "Loopback callers only",
                    "No query API key is configured (QueryApi:Keys), so the query API answers connections made to a loopback address of this machine only.");
                return false;
        }
    }
}
