using FunctionApp.Hosting;

namespace FunctionApp.Api;

/// <summary>Maps every route the handler serves in the given mode.</summary>
public static class ApiEndpoints
{
    public const string HealthRoute = "/api/health";
    public const string QueryRoutePattern = "/api/v1/{**path}";
    public const string CallbackRoutePattern = "/api/callbacks/{platform}/{**rest}";

    public static IEndpointRouteBuilder MapRelationshipCallbackEndpoints(this IEndpointRouteBuilder endpoints, HostingMode mode, bool benchmarkBaseline = false)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (benchmarkBaseline)
        {
            endpoints.MapPost(BenchmarkBaselineEndpoint.Route, BenchmarkBaselineEndpoint.HandleAsync);
        }

        if (mode == HostingMode.Functions)
        {
            // A function with a trigger other than HTTP is invoked as POST /{FunctionName}.
            endpoints.MapPost("/" + FunctionsInvocationEndpoints.ApplyRelationshipEvents, FunctionsInvocationEndpoints.ApplyRelationshipEventsAsync);
            endpoints.MapPost("/" + ReconcileEndpoints.ScheduleFunction, ReconcileEndpoints.RunScheduleAsync);
        }

        // HTTP-in/HTTP-out functions (ReceiveCallback, the queries, health) are forwarded raw to the same path, so
        // these serve both modes.
        endpoints.MapPost(CallbackRoutePattern, CallbackEndpoint.HandleAsync);
        endpoints.MapGet(QueryRoutePattern, QueryEndpoints.HandleAsync);
        endpoints.MapPost(ReconcileEndpoints.RoutePattern, ReconcileEndpoints.ReconcileUserAsync);
        endpoints.MapGet(HealthRoute, HealthEndpoint.HandleAsync);
        endpoints.MapFallback(Problems.NotFoundAsync);
        return endpoints;
    }
}
