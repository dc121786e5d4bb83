using System.Text.Json;
using System.Text.Json.Serialization;
using FunctionApp.Core;
using FunctionApp.Reconciliation;

namespace FunctionApp.Api;

/// <summary>An RFC 7807 problem with the report of what was still done (edges added before the failure).</summary>
public sealed record ReconcileProblem(string Type, string Title, int Status, string Detail, ReconcileReport Report);

/// <summary>Error kinds as the API writes them: <c>unknown-user</c>, <c>rate-limited</c>, ...</summary>
internal sealed class ReconcileErrorKindConverter() : JsonStringEnumConverter<ReconcileErrorKind>(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false);

/// <summary>The answer of <c>POST .../reconcile</c> is the <see cref="ReconcileReport"/> itself, or a problem carrying it.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, Converters = [typeof(ReconcileErrorKindConverter)])]
[JsonSerializable(typeof(ReconcileReport))]
[JsonSerializable(typeof(ReconcileProblem))]
internal sealed partial class ReconcileJsonContext : JsonSerializerContext;

/// <summary>
/// Reconciliation's two entry points: <c>POST /api/v1/apps/{appId}/users/{userId}/reconcile</c> (on demand, protected
/// like the query API; on Azure forwarded raw by the <c>ReconcileUser</c> function) and the <c>ReconcileOnSchedule</c>
/// timer invocation (Functions mode). Both only translate: the work is in <see cref="UserReconciler"/> and
/// <see cref="ScheduledReconciliation"/>.
/// </summary>
internal static class ReconcileEndpoints
{
    public const string RoutePattern = "/api/v1/{**path}";
    public const string ScheduleFunction = "ReconcileOnSchedule";
    public const string TimerBinding = "timer";
    private const string TypePrefix = "urn:relationship-callbacks:problem:";

    public static async Task ReconcileUserAsync(HttpContext context)
    {
        var segments = RawPath.Segments(context);
        if (segments.Length != 7 || !QueryRoute.IsLiteral(segments[0], "api") || !QueryRoute.IsLiteral(segments[1], "v1")
            || !QueryRoute.IsLiteral(segments[2], "apps") || !QueryRoute.IsLiteral(segments[4], "users") || !QueryRoute.IsLiteral(segments[6], "reconcile"))
        {
            await Problems.NotFoundAsync(context);
            return;
        }

        if (!QueryRoute.TryDecodeId(segments[3], "appId", out var appId, out var error) || !QueryRoute.TryDecodeId(segments[5], "userId", out var userId, out error))
        {
            await Problems.InvalidParameterAsync(context, error!);
            return;
        }

        // Keys may be scoped to app ids, so access is judged once the app id is known.
        if (!await QueryApiAccess.AuthorizeAsync(context, appId))
        {
            return;
        }

        var services = context.RequestServices;
        if (services.GetRequiredService<IPlatformReaders>().For(appId) is null)
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, TypePrefix + "app-not-reconciled", "App not reconciled",
                $"App '{appId}' has no admin API access configured (Reconciliation:Tencent:Apps:<SdkAppid> or Reconciliation:OpenIm).");
            return;
        }

        ReconcileReport report;
        try
        {
            report = await services.GetRequiredService<UserReconciler>().ReconcileAsync(appId, userId, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // the caller went away
        }

        if (report.Error is not { } failure)
        {
            await context.Response.WriteAsJsonAsync(report, ReconcileJsonContext.Default.ReconcileReport, "application/json", context.RequestAborted);
            return;
        }

        var (status, title) = failure.Kind switch
        {
            ReconcileErrorKind.UnknownUser => (StatusCodes.Status404NotFound, "Unknown user"),
            ReconcileErrorKind.RateLimited => (StatusCodes.Status503ServiceUnavailable, "Platform rate limit"),
            ReconcileErrorKind.Timeout => (StatusCodes.Status504GatewayTimeout, "Platform timeout"),
            ReconcileErrorKind.StoreError => (StatusCodes.Status503ServiceUnavailable, "Store unavailable"),
            ReconcileErrorKind.Unauthorized => (StatusCodes.Status502BadGateway, "Platform refused the admin credentials"),
            _ => (StatusCodes.Status502BadGateway, "Platform error"),
        };
        if (failure.Kind == ReconcileErrorKind.RateLimited)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        context.Response.StatusCode = status;
        var problem = new ReconcileProblem(TypePrefix + "reconcile-" + KindName(failure.Kind), title, status,
            $"{failure.Detail} Nothing was removed; {report.Added} edges the platform listed were added.", report);
        await context.Response.WriteAsJsonAsync(problem, ReconcileJsonContext.Default.ReconcileProblem, Problems.ContentType, context.RequestAborted);
    }

    /// <summary><c>POST /ReconcileOnSchedule</c>: the host's timer invocation; 200 with the run's summary in <c>Logs</c>.</summary>
    public static async Task RunScheduleAsync(HttpContext context)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("FunctionApp.Api.Reconcile");
        using var document = await FunctionsInvocationEndpoints.ReadPayloadAsync(context, ScheduleFunction, 1024 * 1024, logger);
        if (document is null)
        {
            return;
        }

        try
        {
            _ = InvocationPayload.ReadBinding(document.RootElement, TimerBinding);
        }
        catch (InvalidInvocationException ex)
        {
            await FunctionsInvocationEndpoints.RefuseAsync(context, ScheduleFunction, ex.Message, logger);
            return;
        }

        var report = await context.RequestServices.GetRequiredService<ScheduledReconciliation>().RunAsync(context.RequestAborted);
        await FunctionsInvocationEndpoints.WriteAsync(context, StatusCodes.Status200OK, null, [$"Scheduled reconciliation: {report}"]);
    }

    private static string KindName(ReconcileErrorKind kind) => JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString());
}
